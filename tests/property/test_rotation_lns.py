"""Property tests for the ejection chains after the rotation model's priority pass (rotation_lns).

On random small maps with random headings and crowded fleets, every step:

* the whole operations the agents hold after the chains (all their timesteps, not only the one
  executed) pass the independent validator: the chains never leave two agents on one cell or
  swapping, and never a sideways move or a move with a turn;
* the summed cost the chains lower is never higher after them than before.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from controller.planning.lifelong import LifelongPlanner
from controller.planning.validator import validate_oriented_paths
from tests.property.regions import largest_region
from warehouse_maps.grid import Grid

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _decode(grid: Grid, state: int) -> tuple[int, int, int]:
    cell = state // 4
    return cell % grid.width, cell // grid.width, state % 4


@SETTINGS
@given(seed=st.integers(0, 2**31), n_agents=st.integers(2, 16), nodes=st.sampled_from([1, 7, 20_000]),
       chain=st.integers(1, 4), depth=st.sampled_from([3, 4]))
def test_chains_keep_operations_valid_and_never_raise_the_cost(
    seed: int, n_agents: int, nodes: int, chain: int, depth: int
) -> None:
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(3, 8)), int(rng.integers(3, 8))
    grid = Grid(rng.random((h, w)) > 0.15)
    region = largest_region(grid)
    n = min(n_agents, len(region) - 1)
    assume(n >= 2)
    cells = [region[i] for i in rng.permutation(len(region))[:n]]
    pos = [(x, y, int(rng.integers(0, 4))) for x, y in cells]
    goals = [region[i] for i in rng.permutation(len(region))[:n]]
    planner = LifelongPlanner(grid, rotations=True, seed=seed, lns_nodes=nodes, lns_chain=chain, depth=depth)
    stepper = planner._turns
    for _ in range(20):
        nxt = planner.step(pos, goals)
        ops = [[_decode(grid, int(s)) for s in stepper._paths[i, stepper.last_ops[i]]] for i in range(n)]
        validate_oriented_paths(grid, ops, pos)
        assert [tuple(o[1]) for o in ops] == [tuple(p) for p in nxt]
        before, after = stepper.lns_cost
        assert after <= before + 1e-9
        pos = nxt
        for k, p in enumerate(pos):
            if (p[0], p[1]) == goals[k]:
                goals[k] = region[int(rng.integers(len(region)))]
