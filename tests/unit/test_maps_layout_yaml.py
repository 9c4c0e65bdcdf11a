"""Layout YAML: rows and places, explicit ids and fixtures, round trips, the documented example."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from warehouse_maps.errors import MapFormatError
from warehouse_maps.grid import Grid
from warehouse_maps.layout import Layout, Place, PlaceKind
from warehouse_maps.layout_yaml import (
    dump_layout_yaml,
    layout_from_rows,
    layout_rows,
    load_layout_yaml,
    parse_layout_yaml,
    save_layout_yaml,
)

REPO = Path(__file__).resolve().parents[2]

#   x 0123456
# y 0 @@@@@@@
#   1 @S..PP@     S1 pick station, P1..P4 storage
#   2 @...PP@
#   3 @OH.OHK     two chutes: CH1 (2, 3) over hole (1, 3), CH2 (5, 3) over hole (4, 3); K1 parking
#   4 @@@@@@@
ROWS = ["@@@@@@@", "@S..PP@", "@...PP@", "@OH.OHK", "@@@@@@@"]


def test_rows_make_places_in_row_major_order() -> None:
    layout = layout_from_rows("t", ROWS)
    assert [p.id for p in layout.places] == ["S1", "P1", "P2", "P3", "P4", "CH1", "CH2", "K1"]
    assert layout.place("P3").cell == (4, 2)
    assert layout.place("CH1") == Place("CH1", PlaceKind.CHUTE, (2, 3), (1, 3))
    assert layout.place("CH2").fixture == (4, 3)
    assert not layout.grid.is_passable((1, 3))
    assert layout.grid.is_passable((6, 3))  # parking in the wall line is floor
    assert layout_rows(layout) == ROWS


def test_explicit_places_rename_and_keep_numbering() -> None:
    layout = layout_from_rows("t", ROWS, places=[(Place("PICK-A", PlaceKind.PICK_STATION, (1, 1)), 9),
                                                 (Place("CH-X", PlaceKind.CHUTE, (5, 3), (4, 3)), 10)])
    assert [p.id for p in layout.of_kind(PlaceKind.CHUTE)] == ["CH1", "CH-X"]
    assert layout.place("PICK-A").cell == (1, 1)


def test_round_trip_through_yaml(tmp_path: Path) -> None:
    grid_rows = layout_from_rows("t", ROWS)
    places = tuple(Place("GATE-7", p.kind, p.cell, p.fixture) if p.id == "K1" else p
                   for p in grid_rows.places)
    one_way = frozenset({((2, 1), (3, 1))})
    grid = Grid(grid_rows.grid.passable, one_way=one_way, edge_weights={((1, 2), (2, 2)): 4})
    original = Layout("t", grid, places, cell_size_m=1.25, equipment={"sorter": {"pitch_m": 0.6}})
    path = tmp_path / "t.yaml"
    save_layout_yaml(original, path, description="a test floor")
    loaded = load_layout_yaml(path)
    assert loaded.places == original.places
    assert np.array_equal(loaded.grid.passable, original.grid.passable)
    assert loaded.grid.one_way == one_way
    assert loaded.grid.edge_weights == {((1, 2), (2, 2)): 4}
    assert loaded.cell_size_m == 1.25
    assert loaded.equipment == {"sorter": {"pitch_m": 0.6}}
    assert "GATE-7" in path.read_text()
    assert "CH1" not in path.read_text()  # ids the rows already give are not repeated
    assert dump_layout_yaml(loaded, "a test floor") == path.read_text()


def test_one_way_edges_are_checked_for_place_reachability() -> None:
    # A loop survives a one-way edge (K gets back to S round the bottom row); a corridor does not.
    loop = ["@@@@@", "@S.K@", "@...@", "@@@@@"]
    layout = layout_from_rows("ok", loop, one_way=[((1, 1), (2, 1))])
    assert layout.grid.distance((2, 1), (1, 1)) == 3
    corridor = ["@@@@@", "@S.K@", "@@@@@"]
    with pytest.raises(MapFormatError, match="K1 at \\(3, 1\\) cannot be reached"):
        layout_from_rows("bad", corridor, one_way=[((2, 1), (3, 1))], source="x.yaml")


def test_chute_with_two_holes_needs_an_explicit_fixture() -> None:
    rows = ["@@@@@", "@OHO@", "@.S.@", "@@@@@"]
    with pytest.raises(MapFormatError, match="found 2"):
        layout_from_rows("t", rows)
    layout = layout_from_rows("t", rows, places=[(Place("CH1", PlaceKind.CHUTE, (2, 1), (3, 1)), None)])
    assert layout.place("CH1").fixture == (3, 1)


def test_the_documented_example_parses() -> None:
    text = (REPO / "docs" / "layouts.md").read_text()
    block = re.findall(r"```yaml\n(.*?)```", text, re.S)[0]
    layout = parse_layout_yaml(block, "docs/layouts.md")
    assert layout.name == "my-site"
    assert layout.place("PICK-A").kind == PlaceKind.PICK_STATION
    assert layout.place("CH-LONDON").fixture == (2, 3)
    assert layout.grid.distance((3, 2), (1, 2)) == 4  # the one-way edge (1,2)->(2,2) forces a detour
    assert layout.equipment["sorter"]["chutes"] == 200


def test_cell_centres_follow_the_map_frame() -> None:
    layout = layout_from_rows("t", ROWS, cell_size_m=2.0)
    assert layout.cell_centre_m((1, 3)) == (3.0, -7.0)
    assert layout.cell_at_m(3.0, -7.0) == (1, 3)


def test_rows_as_a_literal_block_keep_their_line_numbers(tmp_path: Path) -> None:
    text = "format: bulletyard-layout/1\nrows: |\n  @@@@@\n  @S.K@\n  @@@@@\n"
    layout = parse_layout_yaml(text, "block.yaml")
    assert layout.place("K1").cell == (3, 1)
    with pytest.raises(MapFormatError, match=r"^block\.yaml:4: unknown layout character '#'"):
        parse_layout_yaml(text.replace("@S.K@", "@S#K@"), "block.yaml")
    with pytest.raises(MapFormatError, match=r"^folded\.yaml:2: 'rows' must be a list of strings or a"):
        parse_layout_yaml(text.replace("rows: |", "rows: >"), "folded.yaml")
