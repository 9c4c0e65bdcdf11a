"""``bulletyard map show|convert``: look at a map and turn public formats into our layout YAML."""

from __future__ import annotations

import argparse
from pathlib import Path

from warehouse_maps.errors import MapFormatError
from warehouse_maps.grid import Grid
from warehouse_maps.movingai import load_map


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``map`` and its subcommands."""
    p = sub.add_parser("map", help="show or convert warehouse maps")
    msub = p.add_subparsers(dest="map_command", metavar="ACTION")
    msub.required = True
    show = msub.add_parser("show", help="print a map (ASCII, places marked) and its statistics")
    show.add_argument("file", type=Path, help="MovingAI .map, LoRR instance .json or layout .yaml")
    show.set_defaults(func=_show)


def load_any_grid(path: Path) -> Grid:
    """Load a grid from a MovingAI map (more formats come with the layout loaders)."""
    if path.suffix == ".map":
        return load_map(path)
    raise MapFormatError(path, f"unknown map format {path.suffix!r} (expected .map)")


def render_grid(grid: Grid) -> str:
    """ASCII rows: ``.`` floor, ``@`` blocked."""
    return "\n".join(
        "".join("." if grid.passable[y, x] else "@" for x in range(grid.width))
        for y in range(grid.height)
    )


def _show(args: argparse.Namespace) -> int:
    grid = load_any_grid(args.file)
    print(render_grid(grid))
    free = len(grid.free_cells)
    blocked = grid.width * grid.height - free
    print(f"size: {grid.width} x {grid.height}  floor cells: {free}  blocked: {blocked}")
    return 0
