"""The grid: moves, one-way edges, weights and the BFS distance tables."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warehouse_maps.grid import UNREACHABLE, Grid, plain_bfs

#   x 0123
# y 0 ..@.
#   1 .@@.
#   2 ....
ROWS = ["..@.", ".@@.", "...."]


def test_distance_goes_round_the_wall() -> None:
    g = Grid.from_rows(ROWS)
    assert g.distance((1, 0), (3, 0)) == 8
    assert g.distance((0, 0), (0, 0)) == 0


def test_blocked_and_unreachable_cells() -> None:
    g = Grid.from_rows([".@.", "@@."])
    assert g.distance((0, 0), (2, 0)) == UNREACHABLE
    assert g.distance((1, 0), (2, 0)) == UNREACHABLE
    with pytest.raises(ValueError, match="not a passable cell"):
        g.distance_table((1, 1))


def test_one_way_edge_forces_a_detour() -> None:
    g = Grid(Grid.from_rows(["...", "..."]).passable, one_way=frozenset({((0, 0), (1, 0))}))
    assert g.can_move((0, 0), (1, 0))
    assert not g.can_move((1, 0), (0, 0))
    assert g.distance((1, 0), (0, 0)) == 3  # down, left, up
    assert g.distance((0, 0), (1, 0)) == 1


def test_edge_weights_are_honoured() -> None:
    g = Grid(Grid.from_rows(["..", ".."]).passable, edge_weights={((0, 0), (1, 0)): 5})
    assert g.distance((0, 0), (1, 0)) == 3


def test_bad_one_way_edge_is_refused() -> None:
    with pytest.raises(ValueError, match="one-way edge"):
        Grid(Grid.from_rows(["..."]).passable, one_way=frozenset({((0, 0), (2, 0))}))


def test_tables_are_cached_and_read_only() -> None:
    g = Grid.from_rows(ROWS)
    t = g.distance_table((0, 0))
    assert g.distance_table((0, 0)) is t
    with pytest.raises(ValueError):
        t[0, 0] = 5


@st.composite
def grids_and_cells(draw: st.DrawFn) -> tuple[Grid, tuple[int, int], tuple[int, int]]:
    w = draw(st.integers(2, 12))
    h = draw(st.integers(2, 12))
    cells = draw(st.lists(st.booleans(), min_size=w * h, max_size=w * h))
    arr = np.array(cells, dtype=bool).reshape(h, w)
    a = (draw(st.integers(0, w - 1)), draw(st.integers(0, h - 1)))
    b = (draw(st.integers(0, w - 1)), draw(st.integers(0, h - 1)))
    arr[a[1], a[0]] = True
    arr[b[1], b[0]] = True
    return Grid(arr), a, b


@given(grids_and_cells())
@settings(max_examples=300, deadline=None)
def test_bfs_table_equals_plain_bfs_on_random_grids(case) -> None:
    grid, a, b = case
    assert grid.distance(a, b) == plain_bfs(grid, a, b)
