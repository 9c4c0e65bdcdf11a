"""The core's travel tables stay bounded over a long run and leave the grid's own cache empty."""

from __future__ import annotations

import pytest

import controller.assignment.core_adapter as core_adapter
from warehouse_maps.grid import Grid


def test_travel_cache_keeps_at_most_the_limit_and_the_most_recent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core_adapter, "MAX_TRAVEL_TABLES", 4)
    grid = Grid.from_rows(["......", "..@@..", "......"])
    travel = core_adapter._CoreTravel(grid)
    goals = [c for c in grid.free_cells][:10]
    for goal in goals:
        table = travel.table(goal)
        assert table[goal[1] * grid.width + goal[0]] == 0
    assert len(travel._row_of) == 4
    assert list(travel._row_of) == goals[-4:]
    assert not grid._tables  # the grid's cache did not grow either
    travel.table(goals[-4])  # a hit moves to the back
    assert list(travel._row_of)[-1] == goals[-4]
    assert travel.cells(goals[0], goals[1]) == grid.distance(goals[0], goals[1])
    assert travel._pool.shape[0] == 4  # the whole bound is claimed at start


def test_reused_rows_hold_the_new_goal_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows of evicted goals are overwritten: every table read back equals a fresh search,
    unreachable cells (walls) included."""
    monkeypatch.setattr(core_adapter, "MAX_TRAVEL_TABLES", 2)
    grid = Grid.from_rows(["......", "..@@..", "......"])
    travel = core_adapter._CoreTravel(grid)
    for goal in list(grid.free_cells)[:7] * 2:
        expected = grid.fresh_distance_table(goal).ravel()
        table = travel.table(goal)
        assert not table.flags.writeable
        assert (table[expected >= 0] == expected[expected >= 0]).all()
        assert (table[expected < 0] == core_adapter.UNREACHABLE_CELLS).all()
