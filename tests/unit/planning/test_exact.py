"""Exact CP-SAT solver: optimal on hand-checked instances, honest about infeasible horizons."""

from __future__ import annotations

from controller.planning.exact import solve_exact
from controller.planning.validator import validate_paths
from warehouse_maps.grid import Grid


def test_corridor_with_pocket_optimum() -> None:
    grid = Grid.from_rows(["......", "@@.@@@"])
    starts, goals = [(0, 0), (5, 0)], [(5, 0), (0, 0)]
    result = solve_exact(grid, starts, goals, max_makespan=9)
    assert result.solved
    assert result.optimal
    validate_paths(grid, result.paths, starts, goals)
    # One agent dips into the pocket (2, 1) and waits one step for the other: 5 + 7 = 12.
    assert result.sum_of_costs == 12


def test_independent_agents_cost_their_distances() -> None:
    grid = Grid.from_rows(["....", "....", "...."])
    starts, goals = [(0, 0), (0, 2)], [(3, 0), (3, 2)]
    result = solve_exact(grid, starts, goals, max_makespan=5)
    assert result.sum_of_costs == 6
    assert result.makespan == 3
    validate_paths(grid, result.paths, starts, goals)


def test_too_short_horizon_is_unsolved() -> None:
    grid = Grid.from_rows(["......", "@@.@@@"])
    result = solve_exact(grid, [(0, 0), (5, 0)], [(5, 0), (0, 0)], max_makespan=5)
    assert not result.solved
    assert result.optimal


def test_pure_corridor_is_infeasible() -> None:
    grid = Grid.from_rows(["....."])
    result = solve_exact(grid, [(0, 0), (4, 0)], [(4, 0), (0, 0)], max_makespan=12)
    assert not result.solved
