"""ASCII rows <-> layout: the grid and its places drawn one character per cell.

Row characters: ``.`` floor, ``@`` wall, ``O`` chute hole (blocked), and one letter per place
kind on floor cells (``P`` storage, ``S`` pick station, ``I`` induct, ``H`` chute drop cell,
``C`` charger, ``K`` parking). Places drawn in the rows get ids ``<prefix><n>`` numbered in
row-major order per kind; a chute drop cell's hole is the one ``O`` next to it. The layout YAML
(:mod:`warehouse_maps.layout_yaml`), the generators and ``bulletyard map show`` all use this
one drawing. Problems raise :class:`MapFormatError` naming the source and, when known, the line.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from warehouse_maps.errors import MapFormatError
from warehouse_maps.grid import MOVES, Cell, Grid
from warehouse_maps.layout import CHAR_PLACES, PLACE_CHARS, PLACE_ID_PREFIX, Layout, Place, PlaceKind

FLOOR, WALL, HOLE = ".", "@", "O"
ROW_CHARS = frozenset(FLOOR + WALL + HOLE + "".join(PLACE_CHARS.values()))



def layout_from_rows(
    name: str,
    rows: Sequence[str],
    *,
    source: str | Path = "<rows>",
    row_lines: Sequence[int] | None = None,
    places: Iterable[tuple[Place, int | None]] = (),
    cell_size_m: float = 1.0,
    equipment: Mapping[str, Any] | None = None,
    one_way: Iterable[tuple[Cell, Cell]] = (),
    edge_weights: Mapping[tuple[Cell, Cell], int] | None = None,
) -> Layout:
    """Build a :class:`Layout` from ASCII rows (see the module docstring for the characters).

    Args:
        name: layout name.
        rows: grid rows, north first.
        source: file named in errors.
        row_lines: 1-based file line of each row, for error messages.
        places: explicit places with the line they were given on; each replaces the place the
            rows draw on its cell (same kind required) to give it another id or fixture.
        cell_size_m: cell edge in metres.
        equipment: plain-data equipment settings.
        one_way: directed edges (the reverse move is forbidden).
        edge_weights: integer move costs per directed edge.
    """
    lines = list(row_lines) if row_lines is not None else [None] * len(rows)
    if not rows:
        raise MapFormatError(source, "layout has no rows")
    width = len(rows[0])
    if width == 0:
        raise MapFormatError(source, "first row is empty", lines[0])
    for r, row in enumerate(rows):
        if len(row) != width:
            raise MapFormatError(source, f"row {r} has {len(row)} characters, the first row has {width}",
                                 lines[r])
        for c, ch in enumerate(row):
            if ch not in ROW_CHARS:
                raise MapFormatError(source, f"unknown layout character {ch!r} at column {c} of row {r}",
                                     lines[r])
    chars = np.array([list(row) for row in rows])
    passable = (chars != WALL) & (chars != HOLE)

    explicit: dict[Cell, tuple[Place, int | None]] = {}
    for place, line in places:
        x, y = place.cell
        if not (0 <= x < width and 0 <= y < len(rows)):
            raise MapFormatError(source, f"place {place.id} cell {place.cell} lies off the map", line)
        drawn = str(chars[y, x])
        if CHAR_PLACES.get(drawn) != place.kind:
            raise MapFormatError(
                source, f"place {place.id} is a {place.kind.value} but its cell {place.cell} is drawn "
                f"{drawn!r}, not {PLACE_CHARS[place.kind]!r}", line)
        if place.cell in explicit:
            raise MapFormatError(source, f"two places given for cell {place.cell}", line)
        explicit[place.cell] = (place, line)

    result: list[Place] = []
    numbers = dict.fromkeys(PlaceKind, 0)
    place_line: dict[str, int | None] = {}
    for y in range(len(rows)):
        for x in range(width):
            kind = CHAR_PLACES.get(str(chars[y, x]))
            if kind is None:
                continue
            numbers[kind] += 1
            if (x, y) in explicit:
                place, line = explicit[(x, y)]
            else:
                fixture = _hole_next_to(chars, (x, y), source, lines[y]) if kind == PlaceKind.CHUTE else None
                place_id = f"{PLACE_ID_PREFIX[kind]}{numbers[kind]}"
                place, line = Place(place_id, kind, (x, y), fixture), lines[y]
            if place.id in place_line:
                raise MapFormatError(source, f"duplicate place id {place.id!r}", line)
            place_line[place.id] = line
            result.append(place)
    try:
        grid = Grid(passable, one_way=frozenset(one_way), edge_weights=dict(edge_weights or {}))
        layout = Layout(name, grid, tuple(result), float(cell_size_m), dict(equipment or {}))
    except ValueError as exc:
        raise MapFormatError(source, str(exc)) from None
    _check_places_connected(layout, source, place_line)
    return layout


def _holes_next_to(chars: np.ndarray, cell: Cell) -> list[Cell]:
    h, w = chars.shape
    return [
        (cell[0] + dx, cell[1] + dy)
        for dx, dy in MOVES
        if 0 <= cell[0] + dx < w and 0 <= cell[1] + dy < h and chars[cell[1] + dy, cell[0] + dx] == HOLE
    ]


def _hole_next_to(chars: np.ndarray, cell: Cell, source: str | Path, line: int | None) -> Cell:
    holes = _holes_next_to(chars, cell)
    if len(holes) != 1:
        raise MapFormatError(
            source, f"chute drop cell {cell} must touch exactly one hole 'O' (found {len(holes)}); "
            "name its fixture under 'places'", line)
    return holes[0]


def auto_places(rows: Sequence[str]) -> dict[Cell, Place]:
    """The place each drawn cell gets when no explicit entry names it (fixture None if unclear)."""
    chars = np.array([list(row) for row in rows])
    numbers = dict.fromkeys(PlaceKind, 0)
    out: dict[Cell, Place] = {}
    for y, row in enumerate(rows):
        for x, ch in enumerate(row):
            kind = CHAR_PLACES.get(ch)
            if kind is None:
                continue
            numbers[kind] += 1
            holes = _holes_next_to(chars, (x, y)) if kind == PlaceKind.CHUTE else []
            fixture = holes[0] if len(holes) == 1 else None
            out[(x, y)] = Place(f"{PLACE_ID_PREFIX[kind]}{numbers[kind]}", kind, (x, y), fixture)
    return out


def _reach(grid: Grid, start: Cell, forward: bool) -> set[Cell]:
    """Cells reachable from ``start`` (forward) or that can reach it (backward)."""
    seen = {start}
    queue = deque([start])
    while queue:
        cell = queue.popleft()
        for dx, dy in MOVES:
            nb = (cell[0] + dx, cell[1] + dy)
            ok = grid.can_move(cell, nb) if forward else grid.can_move(nb, cell)
            if ok and nb not in seen:
                seen.add(nb)
                queue.append(nb)
    return seen


def _check_places_connected(layout: Layout, source: str | Path, place_line: Mapping[str, int | None]) -> None:
    """Every place must be reachable from every other one (a robot can serve them all)."""
    if not layout.places:
        return
    first = layout.places[0]
    grid = layout.grid
    if grid.is_uniform:
        table = grid.distance_table(first.cell)
        lost = [p for p in layout.places if table[p.cell[1], p.cell[0]] < 0]
    else:
        both = _reach(grid, first.cell, True) & _reach(grid, first.cell, False)
        lost = [p for p in layout.places if p.cell not in both]
    if lost:
        p = lost[0]
        raise MapFormatError(
            source, f"place {p.id} at {p.cell} cannot be reached from place {first.id} at {first.cell} "
            f"(and back); {len(lost)} place(s) cut off", place_line.get(p.id))


def layout_rows(layout: Layout) -> list[str]:
    """The ASCII rows of a layout (inverse of :func:`layout_from_rows` for the grid and places)."""
    grid = layout.grid
    chars = np.where(grid.passable, FLOOR, WALL).astype("<U1")
    for place in layout.places:
        x, y = place.cell
        if chars[y, x] != FLOOR:
            raise ValueError(f"place {place.id} shares cell {place.cell} with another place")
        chars[y, x] = PLACE_CHARS[place.kind]
        hole = place.fixture
        if place.kind == PlaceKind.CHUTE and hole is not None and not grid.is_passable(hole):
            chars[hole[1], hole[0]] = HOLE
    return ["".join(row) for row in chars]
