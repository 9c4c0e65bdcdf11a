"""Rotation-model planner: its operations, its node budget, and a head-on meeting in a corridor."""

from __future__ import annotations

import pytest

from controller.planning.lifelong import LifelongPlanner
from controller.planning.rotation import CLOCKWISE, COUNTER, WAIT, operations
from controller.planning.validator import validate_oriented_paths
from warehouse_maps.grid import Grid

#   x: 01234567
#      ........   one-cell corridor with a single pocket at (3, 1)
#      @@@.@@@@
CORRIDOR = Grid.from_rows(["........", "@@@.@@@@"])
OPEN = Grid.from_rows(["......", ".@..@.", "......", ".@..@.", "......"])


def test_operations_drop_turns_that_undo_themselves() -> None:
    ops = [tuple(int(a) for a in op) for op in operations()]
    assert ops[-1] == (WAIT, WAIT, WAIT)  # the fallback, last among equals
    assert len(set(ops)) == len(ops)
    for op in ops:
        turns = [a for a in op if a != WAIT]
        assert (CLOCKWISE, COUNTER) not in zip(turns, turns[1:])
        assert (COUNTER, CLOCKWISE) not in zip(turns, turns[1:])
        assert op.count(CLOCKWISE) < 3
        assert op.count(COUNTER) < 3


def test_head_on_in_a_corridor_uses_the_pocket() -> None:
    """A facing east and B facing west meet head on; one must back into the pocket, turning."""
    starts = [(0, 0, 0), (7, 0, 2)]
    goals = [(7, 0), (0, 0)]
    states = LifelongPlanner(CORRIDOR, rotations=True, seed=0).plan_window(starts, goals, 60)
    validate_oriented_paths(CORRIDOR, states, starts)
    for path, goal in zip(states, goals):
        assert any((s[0], s[1]) == goal for s in path), f"never reached {goal}: {path}"


def _fleet():
    starts = [(0, 0, 0), (5, 0, 2), (0, 4, 3), (5, 4, 1), (2, 2, 0), (3, 2, 2), (0, 2, 1), (5, 2, 3)]
    goals = [(5, 4), (0, 4), (5, 0), (0, 0), (3, 2), (2, 2), (5, 2), (0, 2)]
    return starts, goals


@pytest.mark.parametrize("max_nodes", [1, 5, 40, None])
def test_node_budget_bounds_the_work_and_fixes_the_result(max_nodes: int | None) -> None:
    starts, goals = _fleet()
    runs = []
    for _ in range(2):
        planner = LifelongPlanner(OPEN, rotations=True, seed=7, max_nodes=max_nodes)
        pos, trace = starts, []
        for _ in range(15):
            nxt = planner.step(pos, goals)
            validate_oriented_paths(OPEN, [[a, b] for a, b in zip(pos, nxt)], pos)
            if max_nodes is not None:
                assert planner._turns.nodes_used <= max_nodes
            trace.append(nxt)
            pos = nxt
        runs.append(trace)
    assert runs[0] == runs[1]  # same seed and budget, same steps, whatever the machine load
    if max_nodes == 1:
        moved = sum(a != b for a, b in zip(starts, runs[0][0]))
        assert moved <= 1  # one checked operation plans at most one agent


def test_wall_clock_stop_between_chunks_leaves_everyone_safe() -> None:
    starts, goals = _fleet()
    full = LifelongPlanner(OPEN, rotations=True, seed=1)
    full.step(starts, goals)
    planner = LifelongPlanner(OPEN, rotations=True, seed=1)
    planner._turns.chunk_nodes = 1
    calls = iter([False, False])  # the step's own check before planning, then one chunk, then stop
    nxt = planner.step(starts, goals, should_stop=lambda: next(calls, True))
    validate_oriented_paths(OPEN, [[a, b] for a, b in zip(starts, nxt)], starts)
    assert 0 < planner._turns.nodes_used < full._turns.nodes_used


def test_blocked_and_avoided_cells_are_never_entered() -> None:
    starts, goals = _fleet()
    blocked, avoid = {(2, 0)}, {(3, 4)}
    planner = LifelongPlanner(OPEN, rotations=True, seed=2)
    pos = starts
    for _ in range(30):
        nxt = planner.step(pos, goals, blocked=blocked, avoid=avoid)
        validate_oriented_paths(OPEN, [[a, b] for a, b in zip(pos, nxt)], pos)
        assert not {(s[0], s[1]) for s in nxt} & (blocked | avoid)
        pos = nxt
