"""Generators and bundled layouts: what the assignment helper and the simulator rely on."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warehouse_maps.catalog import bundled_names, bundled_path, load_layout
from warehouse_maps.generators import (
    BUNDLED,
    FulfilmentParams,
    SortationParams,
    fulfilment_centre,
    sortation_centre,
)
from warehouse_maps.grid import MOVES, Cell
from warehouse_maps.layout import Layout, PlaceKind
from warehouse_maps.layout_yaml import dump_layout_yaml


def _all_places_connected(layout: Layout) -> bool:
    first = layout.places[0].cell
    table = layout.grid.distance_table(first)
    return all(table[p.cell[1], p.cell[0]] >= 0 for p in layout.places)


def _neighbours(cell: Cell) -> list[Cell]:
    return [(cell[0] + dx, cell[1] + dy) for dx, dy in MOVES]


def test_bundled_names() -> None:
    assert bundled_names() == ("fc", "small-fc", "sort-center")


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_bundled_files_match_their_generators(name: str) -> None:
    """The YAML in the package is exactly what the seeded generator writes (regenerate if not)."""
    spec = BUNDLED[name]
    assert bundled_path(name).read_text() == dump_layout_yaml(spec.make(), spec.description)


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_bundled_layouts_are_connected_and_walled(name: str) -> None:
    layout = load_layout(name)
    assert layout.name == name
    assert _all_places_connected(layout)
    p = layout.grid.passable
    assert not p[0, :].any()
    assert not p[-1, :].any()
    assert not p[:, 0].any()
    assert not p[:, -1].any()


def test_fc_meets_the_brief() -> None:
    fc = load_layout("fc")
    assert (fc.grid.width, fc.grid.height) == (160, 60)
    stations = fc.of_kind(PlaceKind.PICK_STATION)
    assert len(stations) >= 8
    assert {s.cell[0] for s in stations} == {1}  # all on the west side
    assert len(fc.of_kind(PlaceKind.CHARGER)) >= 10
    assert len(fc.of_kind(PlaceKind.PARKING)) >= 200
    assert fc.equipment["sorter"] == {"loop_length_m": 200.0, "pitch_m": 0.6, "speed_mps": 2.5,
                                      "inducts": 4, "chutes": 200}


@pytest.mark.parametrize("name", ["fc", "small-fc"])
def test_every_storage_cell_touches_an_aisle(name: str) -> None:
    layout = load_layout(name)
    storage = set(layout.cells_of(PlaceKind.STORAGE))
    assert len(storage) > 100
    for cell in storage:
        assert any(layout.grid.is_passable(nb) and nb not in storage for nb in _neighbours(cell)), cell


def test_storage_comes_in_blocks() -> None:
    """Pods stand in blocks: a storage cell has a storage neighbour north or south unless a
    building pillar took it."""
    layout = load_layout("fc")
    storage = set(layout.cells_of(PlaceKind.STORAGE))
    lonely = [(x, y) for x, y in storage if (x, y + 1) not in storage and (x, y - 1) not in storage]
    for x, y in lonely:
        assert not layout.grid.is_passable((x, y + 1)) or not layout.grid.is_passable((x, y - 1))
    assert len(lonely) < 30


def test_small_fc_size_and_parking() -> None:
    small = load_layout("small-fc")
    assert 25 <= small.grid.width <= 35
    assert 15 <= small.grid.height <= 25
    assert len(small.of_kind(PlaceKind.PARKING)) >= 30
    assert len(small.of_kind(PlaceKind.PICK_STATION)) >= 2


def test_sort_center_chutes_are_holes_with_drop_cells() -> None:
    sc = load_layout("sort-center")
    chutes = sc.of_kind(PlaceKind.CHUTE)
    assert len(chutes) >= 100
    holes = set()
    for chute in chutes:
        assert chute.fixture is not None
        assert sc.grid.is_passable(chute.cell)
        assert not sc.grid.is_passable(chute.fixture)
        assert chute.fixture in _neighbours(chute.cell)
        holes.add(chute.fixture)
    assert len(holes) == len(chutes)  # one hole per chute
    inducts = sc.of_kind(PlaceKind.INDUCT)
    assert inducts
    assert all(p.cell[0] in (1, sc.grid.width - 2) for p in inducts)
    assert len(sc.of_kind(PlaceKind.PARKING)) >= 100


def test_generators_are_deterministic_per_seed() -> None:
    params = FulfilmentParams(40, 24, stations=3, chargers=5, parking=20, pillars=6)
    a = fulfilment_centre("x", params, seed=7)
    b = fulfilment_centre("x", params, seed=7)
    c = fulfilment_centre("x", params, seed=8)
    assert a.places == b.places
    assert np.array_equal(a.grid.passable, b.grid.passable)
    assert a.places != c.places or not np.array_equal(a.grid.passable, c.grid.passable)
    s1 = sortation_centre("s", SortationParams(30, 20, inducts=4, chargers=3, parking=20), seed=1)
    s2 = sortation_centre("s", SortationParams(30, 20, inducts=4, chargers=3, parking=20), seed=1)
    assert s1.places == s2.places


@pytest.mark.parametrize("size", [(16, 12), (33, 21), (90, 45)])
def test_generated_sizes_follow_parameters(size: tuple[int, int]) -> None:
    w, h = size
    fc = fulfilment_centre("g", FulfilmentParams(w, h, stations=2, chargers=2, parking=4,
                                                 station_zone_w=4), 0)
    sc = sortation_centre("s", SortationParams(w, h, inducts=2, chargers=2, parking=4), 0)
    for layout in (fc, sc):
        assert (layout.grid.width, layout.grid.height) == (w, h)
        assert _all_places_connected(layout)


def test_generator_rejects_impossible_parameters() -> None:
    with pytest.raises(ValueError, match="parking"):
        fulfilment_centre("g", FulfilmentParams(20, 12, stations=2, chargers=2, parking=500), 0)
    with pytest.raises(ValueError, match="at least"):
        sortation_centre("s", SortationParams(8, 8, inducts=2, chargers=1, parking=1), 0)


@settings(max_examples=40, deadline=None)
@given(
    w=st.integers(16, 70), h=st.integers(12, 40), stations=st.integers(1, 6), chargers=st.integers(1, 6),
    parking=st.integers(1, 12), zone=st.integers(2, 8), block_h=st.integers(1, 7), pillars=st.integers(0, 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_fulfilment_centre_keeps_its_promises(w: int, h: int, stations: int, chargers: int, parking: int,
                                                  zone: int, block_h: int, pillars: int, seed: int) -> None:
    params = FulfilmentParams(w, h, stations=stations, chargers=chargers, parking=parking,
                              station_zone_w=zone, block_h=block_h, pillars=pillars)
    layout = fulfilment_centre("p", params, seed)  # raises if a place were cut off
    assert _all_places_connected(layout)
    counts = layout.counts()
    assert counts[PlaceKind.PICK_STATION] == stations
    assert counts[PlaceKind.CHARGER] == chargers
    assert counts[PlaceKind.PARKING] == parking
    assert all(c[0] == 1 for c in layout.cells_of(PlaceKind.PICK_STATION))
    assert all(c[0] == w - 2 for c in layout.cells_of(PlaceKind.CHARGER))
    storage = set(layout.cells_of(PlaceKind.STORAGE))
    for cell in storage:
        assert any(layout.grid.is_passable(nb) and nb not in storage for nb in _neighbours(cell)), cell


@settings(max_examples=40, deadline=None)
@given(w=st.integers(16, 70), h=st.integers(10, 40), inducts=st.integers(1, 8), chargers=st.integers(1, 6),
       parking=st.integers(1, 12), seed=st.integers(0, 2**32 - 1))
def test_any_sortation_centre_keeps_its_promises(w: int, h: int, inducts: int, chargers: int, parking: int,
                                                 seed: int) -> None:
    params = SortationParams(w, h, inducts=inducts, chargers=chargers, parking=parking)
    room = 2 * (w - 8) - chargers  # parking rows 1 and h-2 between x=4 and x=w-5, less the chargers
    if parking > room:
        with pytest.raises(ValueError, match=f"room for {room} parking cells, {parking} asked"):
            sortation_centre("s", params, seed)
        return
    layout = sortation_centre("s", params, seed)
    assert _all_places_connected(layout)
    assert layout.counts()[PlaceKind.INDUCT] == inducts
    assert all(c[0] in (1, w - 2) for c in layout.cells_of(PlaceKind.INDUCT))
    chutes = layout.of_kind(PlaceKind.CHUTE)
    assert chutes
    for chute in chutes:
        assert chute.fixture in _neighbours(chute.cell)
        assert not layout.grid.is_passable(chute.fixture)
