"""Lifelong planner: every step is collision-free (grid and rotation models), blocked cells are avoided."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from controller.planning.errors import PlanningInputError
from controller.planning.lifelong import LifelongPlanner
from controller.planning.lifelong_run import run_lifelong
from controller.planning.validator import validate_oriented_paths, validate_paths
from warehouse_maps.grid import Grid
from warehouse_maps.lorr import load_lorr_instance

GRID = Grid.from_rows(["........", ".@@.@@..", "........", ".@@.@@..", "........"])


def _random_agents(grid: Grid, n: int, seed: int):
    rng = np.random.default_rng(seed)
    cells = list(grid.free_cells)
    starts = [cells[i] for i in rng.permutation(len(cells))[:n]]
    goals = [cells[i] for i in rng.permutation(len(cells))[:n]]
    return starts, goals


@pytest.mark.parametrize("rotations", [False, True])
def test_steps_are_collision_free_and_reach_goals(rotations: bool) -> None:
    starts, goals = _random_agents(GRID, 12, seed=1)
    planner = LifelongPlanner(GRID, rotations=rotations, seed=0)
    pos = [(x, y, 0) for x, y in starts] if rotations else list(starts)
    check = validate_oriented_paths if rotations else validate_paths
    reached = 0
    rng = np.random.default_rng(2)
    cells = list(GRID.free_cells)
    for _ in range(150):
        nxt = planner.step(pos, goals)
        check(GRID, [[a, b] for a, b in zip(pos, nxt)])
        pos = nxt
        for k, p in enumerate(pos):
            if (p[0], p[1]) == goals[k]:
                reached += 1
                goals[k] = cells[int(rng.integers(len(cells)))]
    assert reached >= 12


def test_blocked_cells_are_never_entered() -> None:
    starts, goals = [(0, 0), (7, 0)], [(7, 0), (0, 0)]
    blocked = {(3, 0), (3, 2)}
    planner = LifelongPlanner(GRID, seed=0)
    pos = list(starts)
    for _ in range(40):
        pos = planner.step(pos, goals, blocked=blocked)
        assert not blocked & set(pos)
    assert pos == goals


def test_plan_window_is_valid_and_keeps_priorities() -> None:
    starts, goals = _random_agents(GRID, 10, seed=4)
    planner = LifelongPlanner(GRID, seed=3)
    planner.step(starts, goals, should_stop=lambda: True)  # sets up priorities, moves nobody
    before = planner._priorities.copy()
    paths = planner.plan_window(starts, goals, 12, blocked={(7, 4)} - set(starts))
    assert all(len(p) == 13 for p in paths)
    validate_paths(GRID, paths, starts)
    assert np.array_equal(planner._priorities, before)


def test_rotation_window_is_valid() -> None:
    starts, goals = _random_agents(GRID, 8, seed=5)
    planner = LifelongPlanner(GRID, rotations=True, seed=3)
    states = planner.plan_window([(x, y, 1) for x, y in starts], goals, 20)
    validate_oriented_paths(GRID, states, [(x, y, 1) for x, y in starts])


def test_out_of_time_means_everyone_waits() -> None:
    starts, goals = _random_agents(GRID, 5, seed=6)
    assert LifelongPlanner(GRID).step(starts, goals, should_stop=lambda: True) == starts


@pytest.mark.parametrize(
    ("positions", "goals", "message"),
    [
        ([(0, 0), (0, 0)], [(1, 0), (2, 0)], "both stand on"),
        ([(1, 1)], [(0, 0)], "not a floor cell"),
        ([(0, 0)], [(1, 1)], "not a floor cell"),
        ([(0, 0, 5)], [(1, 0)], "must be"),
    ],
)
def test_bad_positions_are_clear_errors(positions, goals, message) -> None:
    with pytest.raises(PlanningInputError, match=message):
        LifelongPlanner(GRID).step(positions, goals)


def test_same_seed_same_run() -> None:
    starts, _ = _random_agents(GRID, 10, seed=7)
    tasks = list(GRID.free_cells)

    def task_for(k: int, j: int):
        return tasks[(j * 10 + k * 3) % len(tasks)]

    a = run_lifelong(GRID, starts, task_for, 60, clock=lambda: 0.0, seed=5)
    b = run_lifelong(GRID, starts, task_for, 60, clock=lambda: 0.0, seed=5)
    assert a.paths == b.paths
    assert a.tasks_completed == b.tasks_completed > 0


@pytest.mark.shared
@pytest.mark.parametrize("rotations", [False, True])
def test_smoke_lorr_warehouse_small(shared: Path, rotations: bool) -> None:
    inst = load_lorr_instance(shared / "benchmarks" / "lorr" / "warehouse_small_50.json")
    run = run_lifelong(inst.grid, inst.starts, inst.task_for, 100, clock=lambda: 0.0, rotations=rotations)
    assert run.tasks_completed > 10  # every step was validated inside run_lifelong
    assert all(len(p) == 101 for p in run.paths)
