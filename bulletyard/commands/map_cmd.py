"""``bulletyard map show|convert``: look at a floor and turn public formats into our layout YAML.

``show`` accepts anything :func:`warehouse_maps.catalog.load_layout` does (a bundled name, our
YAML, a MovingAI ``.map``, a LoRR map or instance ``.json``), prints the rows with places marked
and the statistics an engineer checks first: size, floor, per-kind place counts, connectivity.
With ``--scen`` it also checks a MovingAI scenario against the map.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage

from bulletyard.inputs.options import finite_number
from bulletyard.inputs.paths import check_output_file
from warehouse_maps.catalog import bundled_names, load_layout
from warehouse_maps.layout import PLACE_CHARS, Layout
from warehouse_maps.layout_yaml import HOLE, MAX_CELL_SIZE_M, dump_layout_yaml, layout_rows
from warehouse_maps.movingai import load_scenario


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``map`` and its subcommands."""
    p = sub.add_parser("map", help="show or convert warehouse maps")
    msub = p.add_subparsers(dest="map_command", metavar="ACTION")
    msub.required = True
    names = ", ".join(bundled_names())
    show = msub.add_parser("show", help="print a map (ASCII, places marked) and its statistics")
    show.add_argument("file", help=f"bundled layout ({names}), layout .yaml, MovingAI .map or LoRR .json")
    show.add_argument("--scen", type=Path,
                      help="also load and check this MovingAI .scen against the map")
    show.add_argument("--stats-only", action="store_true", help="print the statistics without the rows")
    show.set_defaults(func=_show)
    conv = msub.add_parser("convert", help="write our layout YAML from a MovingAI or LoRR map")
    conv.add_argument("file", help="MovingAI .map, LoRR .map or instance .json (or any layout)")
    conv.add_argument("-o", "--output", default="-", help="YAML file to write ('-' for stdout, the default)")
    conv.add_argument("--name", help="layout name (default: the file's stem)")
    conv.add_argument("--cell-size-m", type=finite_number, help="cell edge in metres (default 1.0)")
    conv.set_defaults(func=_convert)


def render(layout: Layout) -> str:
    """ASCII rows: ``.`` floor, ``@`` blocked, ``O`` chute hole, one letter per place kind."""
    return "\n".join(layout_rows(layout))


def statistics(layout: Layout) -> list[str]:
    """Human-readable statistics lines for ``show``."""
    grid = layout.grid
    free = len(grid.free_cells)
    total = grid.width * grid.height
    labels, n_parts = ndimage.label(grid.passable)
    largest = int(np.bincount(labels.ravel())[1:].max()) if n_parts else 0
    lines = [
        f"name: {layout.name}",
        f"size: {grid.width} x {grid.height} cells ({grid.width * layout.cell_size_m:g} m x "
        f"{grid.height * layout.cell_size_m:g} m at {layout.cell_size_m:g} m per cell)",
        f"floor cells: {free}  blocked: {total - free}  ({100.0 * free / total:.1f}% floor)",
        f"connected floor regions: {n_parts}  (largest: {largest} cells)",
    ]
    if grid.one_way or grid.edge_weights:
        lines.append(f"one-way edges: {len(grid.one_way)}  weighted edges: {len(grid.edge_weights)}")
    counts = layout.counts()
    lines.append("places: " + "  ".join(
        f"{kind.value} ({PLACE_CHARS[kind]}) {n}" for kind, n in counts.items()))
    holes = sum(1 for p in layout.places if p.fixture is not None and not grid.is_passable(p.fixture))
    if holes:
        lines.append(f"chute holes ({HOLE}): {holes}")
    if layout.equipment:
        lines.append("equipment: " + ", ".join(sorted(str(k) for k in layout.equipment)))
    return lines


def _show(args: argparse.Namespace) -> int:
    layout = load_layout(args.file)
    out = []
    if not args.stats_only:
        out.append(render(layout))
    out += statistics(layout)
    if args.scen is not None:
        agents = load_scenario(args.scen, layout.grid)
        dists = [a.distance for a in agents]
        out.append(f"scenario: {len(agents)} agents, 4-connected distance min {min(dists)} "
                   f"mean {sum(dists) / len(dists):.1f} max {max(dists)}")
    print("\n".join(out))
    return 0


def _convert(args: argparse.Namespace) -> int:
    if args.output != "-":
        check_output_file(args.output, "--output")
    layout = load_layout(args.file)
    if args.name or args.cell_size_m is not None:
        if args.cell_size_m is not None and not 0 < args.cell_size_m <= MAX_CELL_SIZE_M:
            from bulletyard.errors import UsageError

            raise UsageError(f"--cell-size-m must be positive (at most {MAX_CELL_SIZE_M:g}), "
                             f"got {args.cell_size_m}")
        layout = Layout(args.name or layout.name, layout.grid, layout.places,
                        args.cell_size_m or layout.cell_size_m, layout.equipment)
    text = dump_layout_yaml(layout, description=f"converted from {Path(args.file).name}")
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}: {layout.grid.width} x {layout.grid.height}, {len(layout.places)} places")
    return 0
