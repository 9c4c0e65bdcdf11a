"""Property tests: heuristic plans are valid and never beat the exact optimum, which never beats the bound.

Random small maps (3x3 to 5x5, some walls) with 1 to 4 agents inside one connected region:
* LaCAM + LNS (node limits, so deterministic) returns a plan the validator accepts;
* CP-SAT's optimum with the heuristic's makespan as horizon is <= the heuristic's cost;
* that optimum is >= the sum of the agents' shortest-path distances;
* lifelong steps (grid and rotation models) are always collision-free.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from controller.planning.exact import solve_exact
from controller.planning.lacam import solve
from controller.planning.lifelong import LifelongPlanner
from controller.planning.options import PlanOptions
from controller.planning.validator import validate_oriented_paths, validate_paths
from tests.property.regions import largest_region
from warehouse_maps.grid import Grid

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _instance(seed: int, n_agents: int):
    """A random grid and agents placed in its largest connected region."""
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(3, 6)), int(rng.integers(3, 6))
    grid = Grid(rng.random((h, w)) > 0.2)
    best = largest_region(grid)
    n = min(n_agents, len(best) - 1)
    starts = [best[i] for i in rng.permutation(len(best))[:n]]
    goals = [best[i] for i in rng.permutation(len(best))[:n]]
    return grid, starts, goals


@SETTINGS
@given(seed=st.integers(0, 2**31), n_agents=st.integers(1, 4))
def test_heuristic_valid_and_bounded_by_exact(seed: int, n_agents: int) -> None:
    grid, starts, goals = _instance(seed, n_agents)
    assume(len(starts) >= 1)
    lower = sum(grid.distance(s, g) for s, g in zip(starts, goals))
    heuristic = solve(grid, starts, goals, PlanOptions(max_nodes=3000, seed=seed))
    assume(heuristic.solved)  # some tiny maps admit no plan at all
    validate_paths(grid, heuristic.paths, starts, goals)
    assert heuristic.sum_of_costs >= lower
    exact = solve_exact(grid, starts, goals, max_makespan=max(heuristic.makespan, 1),
                        options=PlanOptions(seed=0))
    assert exact.solved
    assert exact.optimal
    validate_paths(grid, exact.paths, starts, goals)
    assert lower <= exact.sum_of_costs <= heuristic.sum_of_costs


@SETTINGS
@given(seed=st.integers(0, 2**31), n_agents=st.integers(1, 6), rotations=st.booleans())
def test_lifelong_steps_never_collide(seed: int, n_agents: int, rotations: bool) -> None:
    grid, starts, goals = _instance(seed, n_agents)
    rng = np.random.default_rng(seed)
    planner = LifelongPlanner(grid, rotations=rotations, seed=seed)
    pos = [(x, y, int(rng.integers(4))) for x, y in starts] if rotations else list(starts)
    check = validate_oriented_paths if rotations else validate_paths
    free = [c for c in grid.free_cells if c not in starts]
    blocked = {free[int(rng.integers(len(free)))]} if free and rng.random() < 0.5 else set()
    for _ in range(12):
        nxt = planner.step(pos, goals, blocked=blocked)
        check(grid, [[a, b] for a, b in zip(pos, nxt)])
        assert not blocked & {(p[0], p[1]) for p in nxt}
        pos = nxt
