"""Adaptive depth (:mod:`controller.planning.rotation_adaptive`): 4-action operations while the
fleet flows, the base stepper for a step where the deep pass leaves agents unplanned or too many
standing still, and what each stepper continues after a step the other planned."""

from __future__ import annotations

import numpy as np
import pytest

from controller.planning.lifelong import LifelongPlanner
from controller.planning.rotation_adaptive import AdaptiveStepper
from controller.planning.rotation_stepper import RotationStepper
from controller.planning.validator import validate_oriented_paths
from warehouse_maps.grid import Grid

ROWS = ["........", ".@.@@.@.", "........", ".@.@@.@.", "........", ".@.@@.@."]
FREE = [(x, y) for y, row in enumerate(ROWS) for x, c in enumerate(row) if c == "."]


def _fleet(n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    starts = [(x, y, int(rng.integers(4))) for x, y in (FREE[i] for i in rng.permutation(len(FREE))[:n])]
    goals = [FREE[i] for i in rng.permutation(len(FREE))[:n]]
    return starts, goals


def _run(planner: LifelongPlanner, grid: Grid, starts, goals, steps: int) -> tuple[list, list[bool]]:
    """Executed states and, per step, whether it fell back; every step checked by the validator."""
    stepper = planner._turns
    assert isinstance(stepper, AdaptiveStepper)
    pos, states, fell = starts, [starts], []
    for _ in range(steps):
        nxt = planner.step(pos, goals)
        validate_oriented_paths(grid, [[a, b] for a, b in zip(pos, nxt)], pos)
        fell.append(stepper.fell_back)
        pos = nxt
        states.append(pos)
    return states, fell


def test_a_flowing_fleet_plans_deep_and_a_jam_falls_back() -> None:
    grid = Grid.from_rows(ROWS)
    starts, goals = _fleet(3)
    _, fell = _run(LifelongPlanner(grid, rotations=True, seed=0, depth=None), grid, starts, goals, 5)
    assert fell[0] is False  # 3 agents in 36 cells: nobody has to stand still
    starts, goals = _fleet(28)
    planner = LifelongPlanner(grid, rotations=True, seed=0, depth=None)
    _, fell = _run(planner, grid, starts, goals, 5)
    assert all(fell)  # 28 agents in 36 cells: more than 2 % stand still in the deep plan
    deep = planner._turns.deep
    assert (deep.last_ops == deep.wait_op).sum() > 0.02 * 28


def test_a_deep_step_leaves_the_base_stepper_continuing_the_same_first_actions() -> None:
    grid = Grid.from_rows(ROWS)
    starts, goals = _fleet(3)
    planner = LifelongPlanner(grid, rotations=True, seed=0, depth=None)
    planner.step(starts, goals)
    stepper = planner._turns
    assert isinstance(stepper, AdaptiveStepper)
    assert not stepper.fell_back
    deep, base = stepper.deep, stepper.base
    moved = deep.prev_op >= 0
    assert moved.any()
    depth = base.ops.shape[1]
    for a in np.flatnonzero(moved):
        assert (base.ops[base.prev_op[a]] == deep.ops[deep.prev_op[a]][:depth]).all()
    assert (base.prev_op[~moved] == -1).all()
    stepper.forget([int(np.flatnonzero(moved)[0])])
    assert deep.prev_op[np.flatnonzero(moved)[0]] == -1 == base.prev_op[np.flatnonzero(moved)[0]]


def test_after_a_fallback_the_deep_stepper_continues_nothing() -> None:
    grid = Grid.from_rows(ROWS)
    starts, goals = _fleet(28)
    planner = LifelongPlanner(grid, rotations=True, seed=0, depth=None)
    planner.step(starts, goals)
    assert planner._turns.fell_back
    assert (planner._turns.deep.prev_op == -1).all()
    assert (planner._turns.base.prev_op >= 0).any()


def test_same_seed_same_run() -> None:
    grid = Grid.from_rows(ROWS)
    starts, goals = _fleet(20, seed=3)
    runs = [_run(LifelongPlanner(grid, rotations=True, seed=5, depth=None), grid, starts, goals, 30)
            for _ in range(2)]
    assert runs[0] == runs[1]
    assert any(runs[0][1])
    assert not all(runs[0][1])


def test_the_deep_stepper_must_plan_longer_operations() -> None:
    grid = Grid.from_rows(ROWS)
    planner = LifelongPlanner(grid, rotations=True, seed=0)
    base = planner._turns
    assert isinstance(base, RotationStepper)
    with pytest.raises(ValueError, match="longer operations"):
        AdaptiveStepper(base, base)


def test_past_the_deadline_the_deep_plan_stands() -> None:
    """A deep pass stopped by the wall clock leaves agents unplanned; a second pass would plan
    nobody, so the deep plan (its unplanned agents wait) is executed."""
    grid = Grid.from_rows(ROWS)
    starts, goals = _fleet(28)
    planner = LifelongPlanner(grid, rotations=True, seed=0, depth=None)
    polls = iter([False])  # the planner's own check passes; the deep pass's first poll stops it
    nxt = planner.step(starts, goals, should_stop=lambda: next(polls, True))
    stepper = planner._turns
    assert isinstance(stepper, AdaptiveStepper)
    assert not stepper.fell_back
    assert (~stepper.deep.planned).all()
    assert nxt == starts  # everyone waits: safe
    assert stepper.base.nodes_used == 0
