"""Property tests for the rotation model's planner (forward, turn 90 degrees, wait).

* On random small maps with random headings, every step the planner returns passes the
  validator (no sideways move, no move-and-turn, no 180 degree turn, no vertex or swap
  conflict), also under a tiny node budget, with operations of 3, 4 or 5 actions (whose
  search skips operations holding the same cells as one that failed) or adaptive (4 or 3).
* A single agent never takes longer than "turn, then drive": turn to face the first move of a
  shortest cell path, drive it, turning on the spot at each corner. Without guidance
  (``lane_cost=1``) it takes exactly the fewest actions, counted here by a search of our own
  over (cell, heading) that shares no code with the planner. With guidance lanes a lone agent
  may detour to keep with traffic, so the bound is checked with guidance off.
"""

from __future__ import annotations

from collections import deque

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from controller.planning.lifelong import LifelongPlanner
from controller.planning.validator import validate_oriented_paths
from tests.property.regions import largest_region
from warehouse_maps.grid import MOVES, Cell, Grid

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _instance(seed: int, n_agents: int, size: int):
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(3, size + 1)), int(rng.integers(3, size + 1))
    grid = Grid(rng.random((h, w)) > 0.2)
    region = largest_region(grid)
    n = min(n_agents, len(region) - 1)
    starts = [region[i] for i in rng.permutation(len(region))[:n]]
    goals = [region[i] for i in rng.permutation(len(region))[:n]]
    headings = rng.integers(0, 4, n).tolist()
    return grid, [(x, y, hd) for (x, y), hd in zip(starts, headings)], goals, region, rng


@SETTINGS
@given(seed=st.integers(0, 2**31), n_agents=st.integers(2, 12), tight=st.booleans(),
       depth=st.sampled_from([3, 4, 5, None]))
def test_every_step_is_valid(seed: int, n_agents: int, tight: bool, depth: int | None) -> None:
    grid, pos, goals, region, rng = _instance(seed, n_agents, 7)
    assume(len(pos) >= 2)
    planner = LifelongPlanner(grid, rotations=True, seed=seed, max_nodes=3 if tight else None, depth=depth)
    for _ in range(25):
        nxt = planner.step(pos, goals)
        validate_oriented_paths(grid, [[a, b] for a, b in zip(pos, nxt)], pos)
        pos = nxt
        for k, p in enumerate(pos):
            if (p[0], p[1]) == goals[k]:  # lifelong: a new goal on arrival
                goals[k] = region[int(rng.integers(len(region)))]


def _fewest_actions(grid: Grid, start: tuple[int, int, int], goal: Cell) -> int:
    """Breadth-first search over (x, y, heading): the fewest forward/turn actions to ``goal``."""
    seen = {start: 0}
    queue = deque([start])
    while queue:
        x, y, h = state = queue.popleft()
        if (x, y) == goal:
            return seen[state]
        dx, dy = MOVES[h]
        nexts = [(x, y, (h + 1) % 4), (x, y, (h + 3) % 4)]
        if grid.can_move((x, y), (x + dx, y + dy)):
            nexts.append((x + dx, y + dy, h))
        for s in nexts:
            if s not in seen:
                seen[s] = seen[state] + 1
                queue.append(s)
    raise AssertionError("goal unreachable")


def _turn_then_drive(grid: Grid, start: tuple[int, int, int], goal: Cell) -> int:
    """Actions of "turn, then drive" along one shortest cell path (a quarter turn costs 1)."""
    table = grid.distance_table(goal)
    x, y, h = start
    actions = 0
    while (x, y) != goal:
        d = next(k for k, (dx, dy) in enumerate(MOVES)  # first heading that gets closer
                 if grid.can_move((x, y), (x + dx, y + dy))
                 and table[y + dy, x + dx] == table[y, x] - 1)
        actions += min((d - h) % 4, (h - d) % 4) + 1
        h = d
        x, y = x + MOVES[d][0], y + MOVES[d][1]
    return actions


@SETTINGS
@given(seed=st.integers(0, 2**31), depth=st.sampled_from([3, None]))
def test_single_agent_is_never_worse_than_turn_then_drive(seed: int, depth: int | None) -> None:
    grid, pos, goals, _, _ = _instance(seed, 1, 8)
    assume(len(pos) == 1 and (pos[0][0], pos[0][1]) != goals[0])
    planner = LifelongPlanner(grid, rotations=True, seed=seed, lane_cost=1, depth=depth)
    states = planner.plan_window(pos, goals, 4 * grid.width * grid.height)[0]
    validate_oriented_paths(grid, [states], pos)
    arrived = next(t for t, s in enumerate(states) if (s[0], s[1]) == goals[0])
    assert arrived == _fewest_actions(grid, pos[0], goals[0])
    assert arrived <= _turn_then_drive(grid, pos[0], goals[0])
