"""The one percentile of the project: every KPI, metric and benchmark computes p50/p95/p99 with it.

Why one: three benchmarks had three definitions (an off-by-one index, a rounded rank and numpy's
linear interpolation), so a "p99" in one table could not be compared with a "p99" in another.

Definition: the nearest rank, ``ordered[ceil(q / 100 * n) - 1]`` (clamped to the first and last
value). It always returns a value that was observed, which is what a latency or cycle-time
percentile should promise ("99 % of the samples took at most this long"), and it is exact for
small samples where interpolation would invent a value between two observations.

>>> percentile([1.0, 2.0, 3.0, 4.0], 50)
2.0
>>> percentile([1.0, 2.0, 3.0, 4.0], 99)
4.0
>>> percentile([5.0], 0)
5.0
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def percentile(values: Iterable[float], q: float) -> float:
    """Nearest-rank percentile of ``values``; ``q`` is in percent (0..100); NaN for no values.

    Raises:
        ValueError: ``q`` outside 0..100.
    """
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile: q must be in 0..100 (percent), not {q}")
    ordered = sorted(float(v) for v in values)
    if not ordered:
        return math.nan
    rank = math.ceil(q / 100.0 * len(ordered))
    return ordered[min(len(ordered), max(1, rank)) - 1]

