"""One-shot planner: LaCAM + PIBT (swap step) finds valid plans; LNS improves them; inputs are checked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from controller.planning.errors import PlanningInputError
from controller.planning.lacam import solve
from controller.planning.options import PlanOptions
from controller.planning.result import sum_of_costs
from controller.planning.validator import validate_paths
from warehouse_maps.grid import Grid
from warehouse_maps.movingai import load_map, load_scenario

CORRIDOR = Grid.from_rows(["@@.@@@@", ".......", "@@@@@@@"])


def _solve_and_check(grid, starts, goals, **kw):
    result = solve(grid, starts, goals, PlanOptions(**kw))
    assert result.solved
    validate_paths(grid, result.paths, starts, goals)
    assert result.sum_of_costs == sum_of_costs(result.paths, goals)
    assert result.makespan == len(result.paths[0]) - 1
    return result


def test_two_agents_swap_through_a_side_pocket() -> None:
    # A one-cell corridor with one side cell: the agents must pass each other there.
    starts, goals = [(0, 1), (6, 1)], [(6, 1), (0, 1)]
    result = _solve_and_check(CORRIDOR, starts, goals, max_nodes=2000, improve=False)
    assert result.sum_of_costs >= 12


def test_swap_step_needed_in_a_corridor() -> None:
    from controller.planning.graph import FlatGrid
    from controller.planning.lacam import LaCAM

    flat = FlatGrid.of(CORRIDOR)
    starts = np.array([flat.index((1, 1)), flat.index((5, 1))], dtype=np.int32)
    goals = [(5, 1), (1, 1)]
    rng = np.random.default_rng(0)
    with_swap, nodes_swap = LaCAM(flat, goals, use_swap=True).search(starts, PlanOptions(max_nodes=5000), rng)
    assert with_swap is not None
    # With the swap step the first PIBT rollout already solves it: about one node per timestep.
    assert nodes_swap <= 4 * len(with_swap)


def test_agents_already_at_goals() -> None:
    grid = Grid.from_rows(["...", "..."])
    result = _solve_and_check(grid, [(0, 0), (2, 1)], [(0, 0), (2, 1)], max_nodes=10)
    assert (result.sum_of_costs, result.makespan) == (0, 0)


def test_dense_small_grid() -> None:
    grid = Grid.from_rows(["....", ".@..", "....", "..@."])
    rng = np.random.default_rng(3)
    cells = list(grid.free_cells)
    idx = rng.permutation(len(cells))
    starts = [cells[i] for i in idx[:9]]
    goals = [cells[i] for i in rng.permutation(len(cells))[:9]]
    _solve_and_check(grid, starts, goals, max_nodes=3000)


def test_same_seed_same_plan() -> None:
    grid = Grid.from_rows(["......", ".@@.@.", "......", ".@....", "......"])
    starts = [(0, 0), (5, 0), (0, 4), (5, 4), (2, 2)]
    goals = [(5, 4), (0, 4), (5, 0), (0, 0), (3, 3)]
    a = solve(grid, starts, goals, PlanOptions(max_nodes=300, seed=7))
    b = solve(grid, starts, goals, PlanOptions(max_nodes=300, seed=7))
    assert a == b
    validate_paths(grid, a.paths, starts, goals)


def test_lns_never_worsens_the_first_solution() -> None:
    grid = Grid.from_rows(["........", ".@@..@@.", "........", ".@@..@@.", "........"])
    cells = list(grid.free_cells)
    rng = np.random.default_rng(11)
    starts = [cells[i] for i in rng.permutation(len(cells))[:12]]
    goals = [cells[i] for i in rng.permutation(len(cells))[:12]]
    first = _solve_and_check(grid, starts, goals, improve=False)
    better = _solve_and_check(grid, starts, goals, max_nodes=first.nodes_expanded + 400)
    assert better.sum_of_costs <= first.sum_of_costs


def test_node_limit_can_leave_it_unsolved() -> None:
    grid = Grid.from_rows(["........"])
    result = solve(grid, [(0, 0)], [(7, 0)], PlanOptions(max_nodes=2))
    assert not result.solved
    assert result.paths == []


def test_should_stop_is_polled() -> None:
    calls = []

    def stop() -> bool:
        calls.append(1)
        return True

    result = solve(Grid.from_rows(["...."]), [(0, 0)], [(3, 0)], PlanOptions(should_stop=stop))
    assert calls
    assert not result.solved


@pytest.mark.parametrize(
    ("starts", "goals", "message"),
    [
        ([(0, 0), (0, 0)], [(1, 0), (2, 0)], "share the start"),
        ([(0, 0)], [(1, 0)], "not a floor cell"),
        ([(0, 0)], [(1, 0), (1, 1)], "1 starts but 2 goals"),
        ([(0, 0)], [(3, 0)], "cannot be reached"),
    ],
)
def test_bad_input_is_a_clear_error(starts, goals, message) -> None:
    grid = Grid.from_rows([".@..", ".@.."])
    with pytest.raises(PlanningInputError, match=message):
        solve(grid, starts, goals)


@pytest.mark.shared
def test_smoke_50_agents_on_warehouse(shared: Path) -> None:
    folder = shared / "benchmarks" / "movingai"
    grid = load_map(folder / "warehouse-10-20-10-2-1.map")
    agents = load_scenario(folder / "warehouse-10-20-10-2-1-random-1.scen", grid)[:50]
    starts, goals = [a.start for a in agents], [a.goal for a in agents]
    first = _solve_and_check(grid, starts, goals, improve=False)
    improved = _solve_and_check(grid, starts, goals, max_nodes=first.nodes_expanded + 100)
    assert sum(a.distance for a in agents) <= improved.sum_of_costs <= first.sum_of_costs
