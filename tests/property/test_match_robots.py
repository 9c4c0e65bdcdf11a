"""The robot-to-pod matching is a minimum-cost assignment (checked against an independent solver)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from controller.tasks.visits import match_robots

cells = st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), min_size=1, max_size=25)


@settings(max_examples=150, deadline=None)
@given(robots=cells, pods=cells)
def test_matching_is_complete_one_to_one_and_of_least_total_travel(robots, pods) -> None:
    pairs = match_robots(robots, pods)
    assert len(pairs) == min(len(robots), len(pods))
    assert len({i for i, _ in pairs}) == len(pairs)
    assert len({j for _, j in pairs}) == len(pairs)
    cost = np.abs(np.asarray(robots)[:, None, :] - np.asarray(pods)[None, :, :]).sum(axis=2)
    rows, cols = linear_sum_assignment(cost)
    assert sum(int(cost[i, j]) for i, j in pairs) == int(cost[rows, cols].sum())
