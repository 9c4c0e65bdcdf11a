"""Seeded generators for the two floors bulletyard simulates, and the bundled layouts made from them.

* A goods-to-person fulfilment centre (Kiva style): pods stand on storage cells in blocks two
  cells wide, so every storage cell touches an aisle; pick stations line the west wall (the
  picker's bench is the wall cell behind each station) with a queueing zone in front; chargers
  sit along the east wall; parking cells line the north and south walls next to a travel lane.
  Storage cells are floor in the grid: an empty robot drives under pods, a loaded one must use
  aisles (the planner's rule, not the grid's).
* A robotic sortation centre: induct stations on the west and east borders, a field of chute
  holes (blocked cells) each with one drop cell beside it, travel lanes between hole rows and
  round the field, parking and chargers along the north and south walls.

The seed decides what a real site leaves to chance (which rows get chargers, where building
pillars stand); the rest is fixed by the parameters. Regenerate the bundled files with
``python -m warehouse_maps.generators`` (see :func:`write_bundled`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from warehouse_maps.ascii_rows import FLOOR, HOLE, WALL, layout_from_rows
from warehouse_maps.layout import PLACE_CHARS, Layout, PlaceKind
from warehouse_maps.layout_yaml import save_layout_yaml

LAYOUT_DIR = Path(__file__).parent / "layouts"

_P = PLACE_CHARS


@dataclass(frozen=True, slots=True)
class FulfilmentParams:
    """Size and equipment counts of a goods-to-person fulfilment centre.

    Args:
        width: cells east-west (>= 16).
        height: cells north-south (>= 12).
        stations: pick stations on the west wall.
        chargers: chargers on the east wall.
        parking: parking cells along the north and south walls.
        station_zone_w: width in cells of the queueing zone in front of the stations.
        block_h: storage block length north-south (blocks are two cells wide).
        pillars: building pillars placed on storage cells (blocked).
        cell_size_m: cell edge in metres.
    """

    width: int
    height: int
    stations: int
    chargers: int
    parking: int
    station_zone_w: int = 6
    block_h: int = 5
    pillars: int = 0
    cell_size_m: float = 1.0


@dataclass(frozen=True, slots=True)
class SortationParams:
    """Size and equipment counts of a robotic sortation centre.

    Args:
        width: cells east-west (>= 16).
        height: cells north-south (>= 10).
        inducts: induct stations, split between the west and east borders.
        chargers: chargers along the north wall.
        parking: parking cells along the north and south walls.
        cell_size_m: cell edge in metres.
    """

    width: int
    height: int
    inducts: int
    chargers: int
    parking: int
    cell_size_m: float = 1.0


def _spread(lo: int, hi: int, n: int) -> list[int]:
    """``n`` distinct integers spread evenly over ``[lo, hi]``."""
    if n > hi - lo + 1:
        raise ValueError(f"cannot fit {n} items in {hi - lo + 1} cells")
    return sorted({int(round(v)) for v in np.linspace(lo, hi, n)})


def _walled(width: int, height: int) -> np.ndarray:
    chars = np.full((height, width), FLOOR, dtype="<U1")
    chars[0, :] = chars[-1, :] = WALL
    chars[:, 0] = chars[:, -1] = WALL
    return chars


def _fill_parking(chars: np.ndarray, rows: tuple[int, ...], x_lo: int, x_hi: int, count: int) -> None:
    """Mark ``count`` free cells of the given rows as parking, west first, rows alternating."""
    free = [(x, y) for x in range(x_lo, x_hi + 1) for y in rows if chars[y, x] == FLOOR]
    if len(free) < count:
        raise ValueError(f"room for {len(free)} parking cells, {count} asked")
    for x, y in free[:count]:
        chars[y, x] = _P[PlaceKind.PARKING]


def fulfilment_centre(name: str, params: FulfilmentParams, seed: int,
                      equipment: Mapping[str, Any] | None = None) -> Layout:
    """Generate a goods-to-person fulfilment centre (see the module docstring)."""
    w, h = params.width, params.height
    if w < 16 or h < 12:
        raise ValueError("a fulfilment centre needs at least 16 x 12 cells")
    rng = np.random.default_rng(seed)
    chars = _walled(w, h)
    # Pick stations on x = 1; the picker's bench is the wall cell x = 0 behind each one.
    for y in _spread(3, h - 4, params.stations):
        chars[y, 1] = _P[PlaceKind.PICK_STATION]
    # Storage: x0 is the first aisle column, then blocks 2 wide and 1 aisle; rows y = 1, h - 2
    # park, rows y = 2, h - 3 are lanes, y = 3 is the first cross aisle. East lane x = w - 3.
    x0, y0 = params.station_zone_w + 1, 3
    x_last = w - 4
    storage: list[tuple[int, int]] = []
    for y in range(y0 + 1, h - 3):
        if (y - y0) % (params.block_h + 1) == 0:
            continue
        for x in range(x0 + 1, x_last + 1):
            cx = (x - x0) % 3
            if cx == 1 and x + 1 <= x_last or cx == 2:
                storage.append((x, y))
    for x, y in storage:
        chars[y, x] = _P[PlaceKind.STORAGE]
    if params.pillars:
        for i in rng.choice(len(storage), size=params.pillars, replace=False):
            x, y = storage[int(i)]
            chars[y, x] = WALL
    # Chargers on the east wall column, at seeded rows.
    rows = np.arange(3, h - 3)
    for y in sorted(rng.choice(rows, size=params.chargers, replace=False).tolist()):
        chars[y, w - 2] = _P[PlaceKind.CHARGER]
    _fill_parking(chars, (1, h - 2), x0, w - 2, params.parking)
    return layout_from_rows(name, ["".join(r) for r in chars], source=f"<generated {name}>",
                            cell_size_m=params.cell_size_m, equipment=equipment)


def sortation_centre(name: str, params: SortationParams, seed: int,
                     equipment: Mapping[str, Any] | None = None) -> Layout:
    """Generate a robotic sortation centre (see the module docstring).

    The chute field repeats a tile three cells wide and two tall: ``O H .`` over ``. . .``,
    so each drop cell ``H`` touches exactly one hole ``O`` and every hole row has a lane below.
    """
    w, h = params.width, params.height
    if w < 16 or h < 10:
        raise ValueError("a sortation centre needs at least 16 x 10 cells")
    rng = np.random.default_rng(seed)
    chars = _walled(w, h)
    west = params.inducts - params.inducts // 2
    for x, n in ((1, west), (w - 2, params.inducts // 2)):
        for y in _spread(3, h - 4, n):
            chars[y, x] = _P[PlaceKind.INDUCT]
    fx0, fx1, fy0, fy1 = 5, w - 6, 3, h - 4
    for y in range(fy0, fy1 + 1, 2):
        for x in range(fx0, fx1 - 1, 3):
            chars[y, x + 1] = HOLE
            chars[y, x + 2] = _P[PlaceKind.CHUTE]
    north = [x for x in range(4, w - 4)]
    for x in sorted(rng.choice(north, size=params.chargers, replace=False).tolist()):
        chars[1, x] = _P[PlaceKind.CHARGER]
    _fill_parking(chars, (1, h - 2), 4, w - 5, params.parking)
    return layout_from_rows(name, ["".join(r) for r in chars], source=f"<generated {name}>",
                            cell_size_m=params.cell_size_m, equipment=equipment)


#: The fc's conveyor sorter (plain data for the sorter package): loop length, carrier pitch, speed.
FC_SORTER: dict[str, Any] = {
    "loop_length_m": 200.0,
    "pitch_m": 0.6,
    "speed_mps": 2.5,
    "inducts": 4,
    "chutes": 200,
}


@dataclass(frozen=True)
class BundledSpec:
    """How one bundled layout is made: a description and a zero-argument generator call."""

    description: str
    make: Callable[[], Layout]


BUNDLED: dict[str, BundledSpec] = {
    "small-fc": BundledSpec(
        "small goods-to-person fulfilment centre, 30 x 20, 3 pick stations, 30 parking cells",
        lambda: fulfilment_centre("small-fc", FulfilmentParams(30, 20, stations=3, chargers=4, parking=30,
                                                               station_zone_w=5), seed=1),
    ),
    "fc": BundledSpec(
        "goods-to-person fulfilment centre, 160 x 60, 10 pick stations, 12 chargers, 200 parking cells, "
        "a conveyor sorter",
        lambda: fulfilment_centre("fc", FulfilmentParams(160, 60, stations=10, chargers=12, parking=200,
                                                         station_zone_w=8, pillars=24), seed=2,
                                  equipment={"sorter": dict(FC_SORTER)}),
    ),
    "sort-center": BundledSpec(
        "robotic sortation centre, 64 x 40, 8 inducts, a field of chute holes, 8 chargers, 100 parking cells",
        lambda: sortation_centre("sort-center", SortationParams(64, 40, inducts=8, chargers=8, parking=100),
                                 seed=3),
    ),
}


def write_bundled(folder: str | Path = LAYOUT_DIR) -> list[Path]:
    """(Re)generate every bundled layout YAML into ``folder``; returns the files written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, spec in BUNDLED.items():
        path = folder / f"{name}.yaml"
        save_layout_yaml(spec.make(), path, description=spec.description)
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_bundled(sys.argv[1] if len(sys.argv) > 1 else LAYOUT_DIR):
        print(written_path)
