"""``load_layout``: bundled names, our YAML, MovingAI and LoRR files all become layouts."""

from __future__ import annotations

from pathlib import Path

import pytest

from warehouse_maps.catalog import bundled_path, load_layout
from warehouse_maps.errors import MapFormatError
from warehouse_maps.layout import PlaceKind
from warehouse_maps.lorr import load_lorr_instance
from warehouse_maps.movingai import load_map


def test_bundled_name_and_its_path_agree() -> None:
    by_name = load_layout("small-fc")
    by_path = load_layout(bundled_path("small-fc"))
    assert by_name.places == by_path.places
    assert by_name.name == by_path.name == "small-fc"


def test_unknown_names_and_suffixes(tmp_path: Path) -> None:
    assert load_layout(Path("fc")).name == "fc"
    with pytest.raises(MapFormatError, match="no such bundled layout or file"):
        load_layout("fcc")
    (tmp_path / "notes").write_text("x")
    with pytest.raises(MapFormatError, match="unknown layout format '\\(no suffix\\)'"):
        load_layout(tmp_path / "notes")


def test_movingai_map_becomes_a_layout_without_places(tmp_path: Path) -> None:
    path = tmp_path / "tiny.map"
    path.write_text("type octile\nheight 2\nwidth 3\nmap\n.G@\nS.T\n")
    layout = load_layout(path)
    assert layout.name == "tiny"
    assert layout.places == ()
    assert layout.grid.free_cells == ((0, 0), (1, 0), (0, 1), (1, 1))


def test_lorr_map_e_cells_become_inducts(tmp_path: Path) -> None:
    path = tmp_path / "l.map"
    path.write_text("type octile\nheight 2\nwidth 4\nmap\n.E@E\nSS..\n")
    layout = load_layout(path)
    assert [(p.id, p.kind, p.cell) for p in layout.places] == [
        ("I1", PlaceKind.INDUCT, (1, 0)), ("I2", PlaceKind.INDUCT, (3, 0))]
    assert layout.grid.is_passable((0, 1))  # S is floor


@pytest.mark.shared
def test_shared_movingai_warehouse(shared: Path) -> None:
    path = shared / "benchmarks" / "movingai" / "warehouse-10-20-10-2-1.map"
    layout = load_layout(path)
    assert (layout.grid.width, layout.grid.height) == (161, 63)
    assert (layout.grid.passable == load_map(path).passable).all()


@pytest.mark.shared
@pytest.mark.parametrize("name", ["warehouse_small_10", "sortation_large_400"])
def test_shared_lorr_instances(shared: Path, name: str) -> None:
    path = shared / "benchmarks" / "lorr" / f"{name}.json"
    layout = load_layout(path)
    inst = load_lorr_instance(path)
    assert layout.name == name
    assert (layout.grid.passable == inst.grid.passable).all()
    inducts = layout.of_kind(PlaceKind.INDUCT)
    assert inducts
    table = layout.grid.distance_table(inducts[0].cell)
    assert all(table[p.cell[1], p.cell[0]] >= 0 for p in inducts)
