"""Our layout YAML: a warehouse floor drawn in ASCII rows, with named places and equipment.

The format is documented for users in ``docs/layouts.md``. In short::

    format: bulletyard-layout/1
    name: small-fc
    cell_size_m: 1.0
    rows:                 # one string per grid row, north first; x is the column (or rows: |)
      - "@@@@@@"
      - "@S.PP@"
    places:               # optional: ids or fixtures the rows cannot say
      - {id: S1, kind: pick_station, cell: [1, 1]}
    equipment: {}         # plain data for the modules that own it (the sorter loop, ...)
    one_way: []           # [[x1, y1], [x2, y2]]: only this direction may be travelled
    edge_weights: []      # {from: [x, y], to: [x, y], weight: 3}

Row characters: ``.`` floor, ``@`` wall, ``O`` chute hole (blocked), and one letter per place
kind on floor cells (``P`` storage, ``S`` pick station, ``I`` induct, ``H`` chute drop cell,
``C`` charger, ``K`` parking). Places drawn in the rows get ids ``<prefix><n>`` numbered in
row-major order per kind; a chute drop cell's hole is the one ``O`` next to it. Every problem
raises :class:`MapFormatError` naming the file and the line.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from warehouse_maps.ascii_rows import FLOOR, HOLE, ROW_CHARS, WALL, auto_places, layout_from_rows, layout_rows
from warehouse_maps.errors import InputError, MapFormatError
from warehouse_maps.grid import Cell
from warehouse_maps.layout import Layout, Place, PlaceKind
from warehouse_maps.movingai import check_grid_size
from warehouse_maps.safe_load import safe_yaml_load

FORMAT = "bulletyard-layout/1"
MAX_CELL_SIZE_M = 100.0  # a cell is a robot's footprint; 100 m is a typo, not a warehouse
TOP_KEYS = ("format", "name", "description", "cell_size_m", "rows", "places", "equipment", "one_way",
            "edge_weights")

# Re-exported: the row drawing lives in ascii_rows; callers may keep importing it from here.
__all__ = ["FLOOR", "FORMAT", "HOLE", "ROW_CHARS", "WALL", "dump_layout_yaml", "layout_from_rows",
           "layout_rows", "load_layout_yaml", "parse_layout_yaml", "save_layout_yaml"]



def dump_layout_yaml(layout: Layout, description: str = "") -> str:
    """Our YAML for ``layout``; places are listed only where the rows cannot say their id or fixture."""
    rows = layout_rows(layout)
    auto_by_cell = auto_places(rows)
    out = [f"format: {FORMAT}", f"name: {_q(layout.name)}"]
    if description:
        out.append(f"description: {_q(description)}")
    out.append(f"cell_size_m: {layout.cell_size_m!r}")
    out.append("rows:")
    out += [f'  - "{row}"' for row in rows]
    extra = [p for p in layout.places if auto_by_cell.get(p.cell) != p]
    if extra:
        out.append("places:")
        for p in extra:
            fixture = f", fixture: [{p.fixture[0]}, {p.fixture[1]}]" if p.fixture is not None else ""
            cell = f"[{p.cell[0]}, {p.cell[1]}]"
            out.append(f"  - {{id: {_q(p.id)}, kind: {p.kind.value}, cell: {cell}{fixture}}}")
    if layout.equipment:
        body = yaml.safe_dump({"equipment": _plain(layout.equipment)}, sort_keys=True,
                              default_flow_style=False)
        out += body.rstrip("\n").splitlines()
    if layout.grid.one_way:
        out.append("one_way:")
        out += [f"  - [[{a[0]}, {a[1]}], [{b[0]}, {b[1]}]]" for a, b in sorted(layout.grid.one_way)]
    if layout.grid.edge_weights:
        out.append("edge_weights:")
        out += [f"  - {{from: [{a[0]}, {a[1]}], to: [{b[0]}, {b[1]}], weight: {w}}}"
                for (a, b), w in sorted(layout.grid.edge_weights.items())]
    return "\n".join(out) + "\n"


def save_layout_yaml(layout: Layout, path: str | Path, description: str = "") -> None:
    """Write ``layout`` as our YAML to ``path``."""
    Path(path).write_text(dump_layout_yaml(layout, description), encoding="utf-8")


def _q(text: str) -> str:
    return yaml.safe_dump(text, default_style='"', width=1 << 20).strip().removesuffix("\n...")


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def load_layout_yaml(path: str | Path) -> Layout:
    """Load a layout YAML file."""
    from warehouse_maps.movingai import _read_lines

    path = Path(path)
    text = "\n".join(_read_lines(path))
    return parse_layout_yaml(text, source=path, default_name=path.stem)


def parse_layout_yaml(text: str, source: str | Path = "<string>", default_name: str = "layout") -> Layout:
    """Parse layout YAML text; every error names ``source`` and a line."""
    try:  # one parse: the node tree gives line numbers, then the data; limits and duplicates checked
        data, root = safe_yaml_load(text, source)
    except InputError as exc:
        raise MapFormatError(exc.source, exc.message, exc.line) from None
    if not isinstance(data, dict) or root is None:
        raise MapFormatError(source, "a layout must be a YAML mapping with 'format' and 'rows'", 1)
    f = _Fields(source, root)
    for key in data:
        if key not in TOP_KEYS:
            raise MapFormatError(source, f"unknown key {key!r} (known: {', '.join(TOP_KEYS)})", f.line(key))
    if data.get("format") != FORMAT:
        raise MapFormatError(source, f"not a bulletyard layout: expected 'format: {FORMAT}', "
                             f"found {data.get('format')!r}", f.line("format") or 1)
    name = f.typed(data, "name", str, default_name)
    f.typed(data, "description", str, "")
    cell_size_m = f.typed(data, "cell_size_m", (int, float), 1.0)
    if isinstance(cell_size_m, bool) or not 0 < cell_size_m <= MAX_CELL_SIZE_M:  # False for NaN
        raise MapFormatError(source, f"cell_size_m must be a positive number up to {MAX_CELL_SIZE_M:g} "
                             f"metres, found {cell_size_m!r}",
                             f.line("cell_size_m"))
    rows = f.typed(data, "rows", (list, str), None)
    if rows is None:
        raise MapFormatError(source, "missing 'rows' (the grid drawn as strings)", 1)
    row_lines: list[int] = []
    if isinstance(rows, str):  # a literal block (rows: |) with one grid row per line
        node = f.node("rows")
        if getattr(node, "style", None) != "|":
            raise MapFormatError(source, "'rows' must be a list of strings or a literal block ('rows: |')",
                                 f.line("rows"))
        first = node.start_mark.line + 2 if node is not None else 1
        rows = rows.splitlines()
        row_lines = [first + i for i in range(len(rows))]
    for i, row in enumerate(rows):
        if not isinstance(row, str):
            raise MapFormatError(source, f"row {i} must be a string, found {type(row).__name__}",
                                 f.line("rows", i))
    equipment = f.typed(data, "equipment", dict, {})
    places = [(_place(f, item, i), f.line("places", i))
              for i, item in enumerate(f.typed(data, "places", list, []))]
    one_way = [_edge(f, item, ("one_way", i)) for i, item in enumerate(f.typed(data, "one_way", list, []))]
    weights: dict[tuple[Cell, Cell], int] = {}
    for i, item in enumerate(f.typed(data, "edge_weights", list, [])):
        where = ("edge_weights", i)
        if not isinstance(item, dict) or set(item) != {"from", "to", "weight"}:
            raise MapFormatError(source, "edge weight must be {from: [x, y], to: [x, y], weight: N}",
                                 f.line(*where))
        w = item["weight"]
        if not isinstance(w, int) or isinstance(w, bool) or w <= 0:
            raise MapFormatError(source, f"edge weight must be a positive whole number, found {w!r}",
                                 f.line(*where))
        weights[(_cell(f, item["from"], where), _cell(f, item["to"], where))] = w
    if rows and isinstance(rows[0], str):
        check_grid_size(source, max(len(rows[0]), 1), len(rows), f.line("rows"))
    row_lines = row_lines or [f.line("rows", i) or 1 for i in range(len(rows))]
    for i, edge in enumerate(one_way):
        _check_edge(f, rows, edge, ("one_way", i))
    for i, edge in enumerate(weights):
        _check_edge(f, rows, edge, ("edge_weights", i))
    for i, (place, _) in enumerate(places):
        if place.fixture is not None and not _on_map(rows, place.fixture):
            raise MapFormatError(source, f"place {place.id} fixture {place.fixture} lies off the map",
                                 f.line("places", i))
    return layout_from_rows(name, rows, source=source, row_lines=row_lines, places=places,
                            cell_size_m=float(cell_size_m), equipment=equipment, one_way=one_way,
                            edge_weights=weights)


class _Fields:
    """Typed access to the parsed YAML with line numbers taken from the node tree."""

    def __init__(self, source: str | Path, root: yaml.Node) -> None:
        self.source = source
        self.root = root

    def node(self, *path: str | int) -> yaml.Node | None:
        node: yaml.Node | None = self.root
        for step in path:
            if isinstance(node, yaml.MappingNode) and isinstance(step, str):
                node = next((v for k, v in node.value if getattr(k, "value", None) == step), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
                node = node.value[step]
            else:
                return None
        return node

    def line(self, *path: str | int) -> int | None:
        node = self.node(*path)
        return node.start_mark.line + 1 if node is not None else None

    def typed(self, data: dict[str, Any], key: str, types: type | tuple[type, ...], default: Any) -> Any:
        if key not in data or data[key] is None:
            return default
        value = data[key]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in _tuple(types)):
            want = " or ".join(t.__name__ for t in _tuple(types))
            raise MapFormatError(self.source, f"{key!r} must be a {want}, found {type(value).__name__}",
                                 self.line(key))
        return value


def _tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def _cell(f: _Fields, value: Any, where: tuple[str | int, ...]) -> Cell:
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        raise MapFormatError(f.source, f"a cell must be [x, y] with whole numbers, found {value!r}",
                             f.line(*where))
    return (value[0], value[1])


def _on_map(rows: list[str], cell: Cell) -> bool:
    return 0 <= cell[1] < len(rows) and 0 <= cell[0] < len(rows[cell[1]])


def _check_edge(f: _Fields, rows: list[str], edge: tuple[Cell, Cell], where: tuple[str | int, ...]) -> None:
    """An edge must join two neighbouring floor cells of the drawn rows."""
    a, b = edge
    for cell in (a, b):
        if not _on_map(rows, cell) or rows[cell[1]][cell[0]] in (WALL, HOLE):
            raise MapFormatError(f.source, f"edge {list(a)} -> {list(b)}: cell {list(cell)} is not floor",
                                 f.line(*where))
    if abs(a[0] - b[0]) + abs(a[1] - b[1]) != 1:
        raise MapFormatError(f.source, f"edge {list(a)} -> {list(b)} does not join neighbouring cells",
                             f.line(*where))


def _edge(f: _Fields, value: Any, where: tuple[str | int, ...]) -> tuple[Cell, Cell]:
    if not isinstance(value, list) or len(value) != 2:
        raise MapFormatError(f.source, f"a one-way edge must be [[x1, y1], [x2, y2]], found {value!r}",
                             f.line(*where))
    return (_cell(f, value[0], where), _cell(f, value[1], where))


def _place(f: _Fields, item: Any, i: int) -> Place:
    where = ("places", i)
    if not isinstance(item, dict) or not {"id", "kind", "cell"} <= set(item) or not set(item) <= {
            "id", "kind", "cell", "fixture"}:
        raise MapFormatError(f.source, "a place must be {id, kind, cell[, fixture]}", f.line(*where))
    if not isinstance(item["id"], str) or not item["id"]:
        raise MapFormatError(f.source, f"place id must be a non-empty string, found {item['id']!r}",
                             f.line(*where))
    try:
        kind = PlaceKind(item["kind"])
    except ValueError:
        kinds = ", ".join(k.value for k in PlaceKind)
        raise MapFormatError(f.source, f"unknown place kind {item['kind']!r} (known: {kinds})",
                             f.line(*where)) from None
    fixture = _cell(f, item["fixture"], where) if item.get("fixture") is not None else None
    return Place(item["id"], kind, _cell(f, item["cell"], where), fixture)
