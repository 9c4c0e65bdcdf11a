"""Rotation-model planner: its operations, its node budget, a head-on meeting in a corridor, and
why a dense jam spent the budget (operations holding the same cells searched again and again)."""

from __future__ import annotations

import numpy as np
import pytest

from controller.planning.lifelong import LifelongPlanner
from controller.planning.rotation import CLOCKWISE, COUNTER, FORWARD, WAIT, operations
from controller.planning.rotation_footprints import footprints
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


def _cells(op: np.ndarray, heading: int) -> tuple[tuple[int, int], ...]:
    """The cells an operation holds after each action from (0, 0) (our own walk, not the planner's)."""
    x = y = 0
    out = []
    for a in op:
        if a == FORWARD:
            x, y = x + (1, 0, -1, 0)[heading], y + (0, 1, 0, -1)[heading]
        elif a in (CLOCKWISE, COUNTER):
            heading = (heading + (1 if a == CLOCKWISE else 3)) % 4
        out.append((x, y))
    return tuple(out)


@pytest.mark.parametrize(("depth", "classes"), [(3, 17), (4, 48), (5, 136)])
def test_footprint_classes_are_the_operations_holding_the_same_cells(depth: int, classes: int) -> None:
    ops = operations(depth)
    fp = footprints(ops)
    assert len(set(fp.tolist())) == classes
    for heading in range(4):  # the same classes from every start heading
        cells = [_cells(op, heading) for op in ops]
        for a in range(len(ops)):
            for b in range(a + 1, len(ops)):
                assert (fp[a] == fp[b]) == (cells[a] == cells[b])


def test_a_dense_jam_no_longer_spends_the_budget_on_equivalent_operations() -> None:
    """The cause of the 4-action lock-up at 800 agents, on 28 agents in 36 cells.

    An agent in a jam that cannot move tried every operation before its wait, and operations that
    hold the same cells (``RWFF``, ``WRFF``, ...) each repeated the same failing search of pushes:
    at 4 actions a failing agent ran out of its 2,000 nodes, the step budget was gone after about
    50 agents and the other 750 waited unplanned, step after step (0.06 tasks/step on LoRR
    warehouse_small_800). Searching each class of cells once changes only which agents a search
    marks failed and how many nodes it takes, and cuts those several fold.
    """
    rows = ["........", ".@.@@.@.", "........", ".@.@@.@.", "........", ".@.@@.@."]
    grid = Grid.from_rows(rows)
    free = [(x, y) for y, row in enumerate(rows) for x, c in enumerate(row) if c == "."]
    rng = np.random.default_rng(1)
    starts = [(x, y, int(rng.integers(4))) for x, y in (free[i] for i in rng.permutation(len(free))[:28])]
    goals = [free[i] for i in rng.permutation(len(free))[:28]]
    spent = {}
    for pruned in (False, True):
        planner = LifelongPlanner(grid, rotations=True, seed=0, depth=4)
        if not pruned:  # every operation its own class: the search before the fix
            planner._turns._fp = np.arange(len(planner._turns.ops), dtype=np.int32)
        pos, nodes, unplanned = starts, 0, 0
        for _ in range(5):
            nxt = planner.step(pos, goals)
            validate_oriented_paths(grid, [[a, b] for a, b in zip(pos, nxt)], pos)
            nodes += planner._turns.nodes_used
            unplanned += int((~planner._turns._planned).sum())
            pos = nxt
        spent[pruned] = (nodes, unplanned)
    assert spent[False][1] > 0  # before: agents ran out of nodes and were left unplanned
    assert spent[True][1] == 0
    assert spent[True][0] * 4 < spent[False][0]
