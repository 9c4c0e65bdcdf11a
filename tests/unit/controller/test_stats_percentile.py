"""The one percentile (controller/stats.py): nearest rank, an observed value, the same everywhere."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.stats import percentile


def test_nearest_rank_on_a_hundred_values() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile(values, 0) == 1.0


def test_no_values_is_nan_and_q_is_in_percent() -> None:
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError, match="percent"):
        percentile([1.0], 0.99 * 200)


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=50), st.floats(0, 100))
def test_is_an_observed_value_with_at_least_q_percent_at_or_below(values: list[float], q: float) -> None:
    p = percentile(values, q)
    assert p in values
    assert sum(v <= p for v in values) >= q / 100 * len(values) - 1e-9
