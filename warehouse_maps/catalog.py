"""One entry point for every floor bulletyard can run on: ``load_layout(name_or_path)``.

Accepts a bundled layout name (``small-fc``, ``fc``, ``sort-center``), our layout YAML, a
MovingAI ``.map`` or a League of Robot Runners map or instance ``.json``. Public benchmark maps
become layouts without places, except LoRR ``E`` (emitter / endpoint) cells, which become
``induct`` places: they are where LoRR tasks start (parcel inducts on the sortation maps, the
pick-up ends of the warehouse maps). LoRR ``S`` cells stay plain floor.
"""

from __future__ import annotations

from pathlib import Path

from warehouse_maps.errors import MapFormatError
from warehouse_maps.layout import Layout, Place, PlaceKind
from warehouse_maps.layout_yaml import load_layout_yaml
from warehouse_maps.lorr import load_lorr_instance, load_lorr_map
from warehouse_maps.movingai import _read_lines, load_map
from warehouse_maps.safe_load import safe_json_loads

LAYOUT_DIR = Path(__file__).parent / "layouts"
YAML_SUFFIXES = (".yaml", ".yml")


def bundled_names() -> tuple[str, ...]:
    """Names of the layouts shipped with bulletyard, sorted."""
    return tuple(sorted(p.stem for p in LAYOUT_DIR.glob("*.yaml")))


def bundled_path(name: str) -> Path:
    """The YAML file of a bundled layout."""
    return LAYOUT_DIR / f"{name}.yaml"


def load_layout(name_or_path: str | Path) -> Layout:
    """Load a bundled layout by name, or a layout YAML, MovingAI map or LoRR map / instance file.

    Raises:
        MapFormatError: unknown name, missing file, unknown suffix or a malformed file (the
            message names the file and the line).
    """
    text = str(name_or_path)
    if text in bundled_names():  # a bundled name wins over a suffix-less file of the same name
        return load_layout_yaml(bundled_path(text))
    path = Path(name_or_path)
    suffix = path.suffix.lower()
    if suffix in YAML_SUFFIXES:
        return load_layout_yaml(path)
    if suffix == ".map":
        return _load_map_layout(path)
    if suffix == ".json":
        return _load_lorr_layout(path)
    if not path.exists() and not suffix:
        names = ", ".join(bundled_names())
        raise MapFormatError(path, f"no such bundled layout or file (bundled: {names})")
    raise MapFormatError(path, f"unknown layout format {suffix or '(no suffix)'!r} "
                         "(expected .yaml, .map or a LoRR .json)")


def _is_lorr_map(lines: list[str]) -> bool:
    """LoRR maps share MovingAI's header but draw endpoints as ``E``, which MovingAI lacks."""
    return any("E" in line for line in lines[4:])


def _load_map_layout(path: Path) -> Layout:
    lines = _read_lines(path)
    if _is_lorr_map(lines):
        return _lorr_map_layout(path, lines)
    return Layout(path.stem, load_map(path))


def _lorr_map_layout(path: Path, lines: list[str]) -> Layout:
    grid = load_lorr_map(path)
    places: list[Place] = []
    for y, row in enumerate(lines[4 : 4 + grid.height]):
        for x, ch in enumerate(row):
            if ch == "E":
                places.append(Place(f"I{len(places) + 1}", PlaceKind.INDUCT, (x, y)))
    return Layout(path.stem, grid, tuple(places))


def _load_lorr_layout(path: Path) -> Layout:
    """A LoRR instance JSON: its map becomes the layout (agents and tasks stay with the instance)."""
    inst = load_lorr_instance(path)  # validates the whole instance, files and cells
    map_file = path.parent / safe_json_loads("\n".join(_read_lines(path)), path)["mapFile"]
    layout = _lorr_map_layout(map_file, _read_lines(map_file))
    return Layout(inst.name, layout.grid, layout.places, layout.cell_size_m, layout.equipment)
