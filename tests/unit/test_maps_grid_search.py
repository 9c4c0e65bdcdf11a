"""The C-level distance tables against simple Python references, with one-way edges and weights."""

from __future__ import annotations

import heapq

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from warehouse_maps.grid import MOVES, UNREACHABLE, Cell, Grid


def reference_cost(grid: Grid, start: Cell, goal: Cell) -> int:
    """Forward Dijkstra with ``can_move`` and ``weight``: slow, obvious, independent of the tables."""
    if not grid.is_passable(start):
        return UNREACHABLE
    best = {start: 0}
    heap = [(0, start)]
    while heap:
        d, cell = heapq.heappop(heap)
        if cell == goal:
            return d
        if d > best[cell]:
            continue
        for dx, dy in MOVES:
            nb = (cell[0] + dx, cell[1] + dy)
            if grid.can_move(cell, nb):
                nd = d + grid.weight(cell, nb)
                if nd < best.get(nb, 1 << 60):
                    best[nb] = nd
                    heapq.heappush(heap, (nd, nb))
    return UNREACHABLE


@st.composite
def directed_grids(draw: st.DrawFn) -> Grid:
    w = draw(st.integers(2, 7))
    h = draw(st.integers(2, 6))
    cells = draw(st.lists(st.booleans(), min_size=w * h, max_size=w * h))
    passable = np.array(cells, dtype=bool).reshape(h, w)
    passable[0, 0] = True
    edges = [((x, y), (x + dx, y + dy)) for y in range(h) for x in range(w) for dx, dy in MOVES
             if passable[y, x] and 0 <= x + dx < w and 0 <= y + dy < h and passable[y + dy, x + dx]]
    flags = draw(st.lists(st.integers(0, 4), min_size=len(edges), max_size=len(edges)))
    one_way = frozenset(e for e, f in zip(edges, flags, strict=True) if f == 1)
    weights = {e: 1 + f for e, f in zip(edges, flags, strict=True) if f >= 2}
    return Grid(passable, one_way=one_way, edge_weights=weights)


@settings(max_examples=150, deadline=None)
@given(grid=directed_grids(), data=st.data())
def test_tables_equal_forward_dijkstra(grid: Grid, data: st.DataObject) -> None:
    goal = data.draw(st.sampled_from(grid.free_cells))
    table = grid.distance_table(goal)
    for y in range(grid.height):
        for x in range(grid.width):
            assert table[y, x] == reference_cost(grid, (x, y), goal), ((x, y), goal)


def test_batch_and_single_tables_agree() -> None:
    grid = Grid.from_rows(["....@.....", ".@@.@.@@@.", "..........",
                           "@@@@@@@@.@", "..........", "....@....."])
    goals = list(grid.free_cells)  # more than one batch of 32
    assert len(goals) > 32
    batch = grid.distance_tables(goals)
    grid.forget_tables()
    for goal, table in zip(goals, batch, strict=True):
        assert np.array_equal(table, grid.distance_table(goal))
        assert not table.flags.writeable


def test_pair_distances_match_single_distances() -> None:
    #   x 01234
    # y 0 ..@..     (3, 0) and (4, 0) are cut off from the west by the wall
    #   1 ..@..
    #   2 ..@@@
    grid = Grid.from_rows(["..@..", "..@..", "..@@@"])
    pairs = [((0, 0), (1, 2)), ((1, 2), (0, 0)), ((0, 0), (3, 0)), ((2, 0), (0, 0)), ((4, 1), (3, 0))]
    got = grid.pair_distances(pairs).tolist()
    assert got == [3, 3, UNREACHABLE, UNREACHABLE, 2]
    assert got == [Grid.from_rows(["..@..", "..@..", "..@@@"]).distance(s, g) for s, g in pairs]
    assert grid.distance_tables([]) == []


@settings(max_examples=60, deadline=None)
@given(grid=directed_grids(), data=st.data())
def test_pair_distances_on_directed_grids(grid: Grid, data: st.DataObject) -> None:
    cells = st.sampled_from(grid.free_cells)
    pairs = data.draw(st.lists(st.tuples(cells, cells), min_size=1, max_size=40))
    assert grid.pair_distances(pairs).tolist() == [reference_cost(grid, s, g) for s, g in pairs]
