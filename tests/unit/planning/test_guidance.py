"""Guidance distances: the bucket (Dial) tables equal scipy's Dijkstra over the same weighted
moves, lanes and blocked cells included, and plain BFS when every move costs 1."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from controller.planning.graph import FlatGrid
from controller.planning.guidance import (
    bucket_distances,
    lane_weights,
    reverse_neighbours,
    rotation_distances,
)
from warehouse_maps.grid import Grid


@st.composite
def grids(draw):
    width = draw(st.integers(2, 12))
    height = draw(st.integers(2, 10))
    cells = draw(st.lists(st.booleans(), min_size=width * height, max_size=width * height))
    rows = ["".join("." if cells[y * width + x] else "@" for x in range(width)) for y in range(height)]
    if "." not in "".join(rows):
        rows[0] = "." + rows[0][1:]
    return Grid.from_rows(rows)


@settings(max_examples=80, deadline=None)
@given(grids(), st.integers(1, 5), st.integers(0, 2**31 - 1))
def test_bucket_tables_equal_heap_tables(grid, against_cost, seed) -> None:
    flat = FlatGrid.of(grid)
    weights = lane_weights(flat, against_cost)
    rng = np.random.default_rng(seed)
    nbr = flat.nbr.copy()
    free = np.flatnonzero(grid.passable.ravel())
    blocked = rng.choice(free, size=min(2, len(free) - 1), replace=False) if len(free) > 1 else []
    nbr[np.isin(nbr, blocked)] = -1  # as the planner routes around blocked cells
    src = reverse_neighbours(nbr)
    reference = _dijkstra_to_goals(nbr, weights, free, flat.far)
    for k, goal in enumerate(free):
        bucket = bucket_distances(int(goal), src, weights, flat.far, int(weights.max()))
        assert np.array_equal(reference[k], bucket), f"goal {int(goal)}"


def _dijkstra_to_goals(nbr: np.ndarray, weights: np.ndarray, goals: np.ndarray, far: int) -> np.ndarray:
    """Costs to each goal by scipy: Dijkstra from the goal over the reversed moves."""
    rows, cols, costs = [], [], []
    for v in range(nbr.shape[0]):
        for d in range(4):
            if nbr[v, d] >= 0:  # move v -> nbr[v, d]; reversed: nbr[v, d] -> v
                rows.append(int(nbr[v, d]))
                cols.append(v)
                costs.append(int(weights[v, d]))
    n = nbr.shape[0]
    graph = csr_matrix((costs, (rows, cols)), shape=(n, n))
    dist = dijkstra(graph, directed=True, indices=[int(g) for g in goals])
    return np.where(np.isinf(dist), far, dist).astype(np.int32)


def test_unit_costs_give_bfs_distances() -> None:
    grid = Grid.from_rows(["....@", ".@@.@", "....."])
    flat = FlatGrid.of(grid)
    weights = lane_weights(flat, 1)
    table = bucket_distances(0, reverse_neighbours(flat.nbr), weights, flat.far, 1)
    bfs = grid.distance_table((0, 0))
    for y in range(grid.height):
        for x in range(grid.width):
            if grid.is_passable((x, y)):
                assert table[y * grid.width + x] == bfs[y, x]
            else:
                assert table[y * grid.width + x] == flat.far


def test_open_floor_gets_the_soft_cost_and_aisles_the_strict_one() -> None:
    #   @@@@@
    #   .....   row 1: an east-west aisle (walls above and below)
    #   @@@@@
    #   .....   rows 3 and 4: open floor
    #   .....
    grid = Grid.from_rows(["@@@@@", ".....", "@@@@@", ".....", "....."])
    flat = FlatGrid.of(grid)
    weights = lane_weights(flat, 10, open_cost=2)
    for x in range(5):
        aisle, open_floor = weights[1 * 5 + x], weights[4 * 5 + x]
        assert sorted((int(aisle[0]), int(aisle[2]))) == [1, 10]
        assert sorted((int(open_floor[0]), int(open_floor[2]))) == [1, 2]
    assert np.array_equal(lane_weights(flat, 10, open_cost=10), lane_weights(flat, 10))


@settings(max_examples=60, deadline=None)
@given(grids(), st.integers(1, 10), st.integers(1, 4))
def test_rotation_tables_equal_dijkstra_over_states(grid, against_cost, open_cost) -> None:
    """(cell, heading) tables: a turn costs 1, a forward move its lane weight; any heading at the goal."""
    flat = FlatGrid.of(grid)
    weights = lane_weights(flat, against_cost, open_cost)
    n = flat.n
    rows, cols, costs = [], [], []  # reversed edges of the state graph: successor -> state
    for v in range(n):
        for h in range(4):
            if flat.nbr[v, h] >= 0:
                rows.append(int(flat.nbr[v, h]) * 4 + h)
                cols.append(v * 4 + h)
                costs.append(int(weights[v, h]))
            for turn in (1, 3):
                rows.append(v * 4 + (h + turn) % 4)
                cols.append(v * 4 + h)
                costs.append(1)
    graph = csr_matrix((costs, (rows, cols)), shape=(4 * n, 4 * n))
    src = reverse_neighbours(flat.nbr)
    for goal in np.flatnonzero(grid.passable.ravel())[:6]:
        dist = dijkstra(graph, directed=True, indices=[int(goal) * 4 + h for h in range(4)], min_only=True)
        reference = np.where(np.isinf(dist), flat.far, dist).astype(np.int32)
        table = rotation_distances(int(goal), src, weights, flat.far, int(weights.max()))
        free = np.repeat(grid.passable.ravel(), 4)
        assert np.array_equal(table[free], reference[free]), f"goal {int(goal)}"
