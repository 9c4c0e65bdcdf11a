"""Planner budgets: a node limit and a stop callback, never a clock read inside planning code.

The caller (CLI, bench, controller) owns time: it wraps its deadline into ``should_stop``
(for example ``lambda: clock() >= deadline``). Tests use ``max_nodes`` for deterministic limits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PlanOptions:
    """How much effort a planner may spend, and its seed.

    Attributes:
        max_nodes: stop after expanding this many high-level search nodes (None: no limit).
        should_stop: polled between node expansions; True ends the search (anytime planners
            then return the best solution found so far).
        seed: root seed for every random tie-break (same seed, same plan under node limits).
        improve: anytime planners keep improving the first solution until stopped; False
            returns the first solution at once.
    """

    max_nodes: int | None = None
    should_stop: Callable[[], bool] | None = None
    seed: int = 0
    improve: bool = True

    def stop_now(self, nodes: int) -> bool:
        """True when the node budget is spent or the caller asks to stop."""
        if self.max_nodes is not None and nodes >= self.max_nodes:
            return True
        return self.should_stop is not None and bool(self.should_stop())
