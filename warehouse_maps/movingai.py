"""Loaders for MovingAI MAPF benchmark files: grid ``.map`` and scenario ``.scen``.

Format (movingai.com/benchmarks): a map starts ``type octile``, ``height H``, ``width W``,
``map``, then H rows of W characters. ``.``, ``G`` and ``S`` are passable; ``@``, ``O``, ``T``
and ``W`` are blocked. A scenario starts ``version 1`` and has one agent per line:
``bucket map width height start_x start_y goal_x goal_y optimal_length``. The optimal length in
the file assumes 8-connected moves, so we recompute 4-connected distances instead of trusting it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from warehouse_maps.errors import InputError, MapFormatError
from warehouse_maps.grid import UNREACHABLE, Cell, Grid
from warehouse_maps.limits import over_limit
from warehouse_maps.safe_load import read_text_capped

PASSABLE_CHARS = frozenset(".GS")
BLOCKED_CHARS = frozenset("@OTW")


def _read_lines(path: Path) -> list[str]:
    """The lines of a regular text file within the size limit (:func:`read_text_capped`)."""
    try:
        return read_text_capped(path).splitlines()
    except InputError as exc:
        raise MapFormatError(exc.source, exc.message, exc.line) from None


def check_grid_size(source: str | Path, width: int, height: int, line: int | None = None) -> None:
    """Refuse a non-positive size or more cells than the ``grid_cells`` limit, before allocating."""
    if height <= 0 or width <= 0:
        raise MapFormatError(source, f"map size {width} x {height} must be positive", line)
    cells = width * height
    problem = over_limit("grid_cells", cells, f"map size {width} x {height} ({cells:,} cells)")
    if problem:
        raise MapFormatError(source, problem, line)


def parse_map_text(lines: list[str], source: str | Path = "<string>") -> Grid:
    """Parse the lines of a MovingAI ``.map`` into a :class:`Grid`."""
    header: dict[str, str] = {}
    i = 0
    expected = ("type", "height", "width", "map")
    for key in expected:
        if i >= len(lines):
            raise MapFormatError(source, f"file ends before the {key!r} header line", i + 1)
        parts = lines[i].split()
        if not parts or parts[0] != key:
            raise MapFormatError(
                source, f"expected header {key!r}, found {lines[i][:40]!r}", i + 1
            )
        if key != "map":
            if len(parts) != 2:
                raise MapFormatError(source, f"header {key!r} needs one value", i + 1)
            header[key] = parts[1]
        i += 1
    try:
        height, width = int(header["height"]), int(header["width"])
    except ValueError:
        raise MapFormatError(source, "height and width must be whole numbers", 2) from None
    check_grid_size(source, width, height, 2)
    rows = lines[i : i + height]
    if len(rows) < height:
        raise MapFormatError(
            source, f"header says {height} rows but the file has {len(rows)}", i + len(rows) + 1
        )
    grid = np.zeros((height, width), dtype=bool)
    for r, row in enumerate(rows):
        lineno = i + r + 1
        row = row.rstrip("\r")
        if len(row) != width:
            raise MapFormatError(
                source, f"row has {len(row)} characters, header says width {width}", lineno
            )
        for c, ch in enumerate(row):
            if ch in PASSABLE_CHARS:
                grid[r, c] = True
            elif ch not in BLOCKED_CHARS:
                raise MapFormatError(
                    source, f"unknown map character {ch!r} at column {c}", lineno
                )
    for extra, row in enumerate(lines[i + height :], start=i + height + 1):
        if row.strip():
            raise MapFormatError(source, f"more rows than the header's height {height}", extra)
    return Grid(grid)


def load_map(path: str | Path) -> Grid:
    """Load a MovingAI ``.map`` file."""
    path = Path(path)
    return parse_map_text(_read_lines(path), path)


@dataclass(frozen=True, slots=True)
class ScenarioAgent:
    """One agent of a MovingAI scenario, with its 4-connected shortest distance."""

    start: Cell
    goal: Cell
    distance: int


def load_scenario(path: str | Path, grid: Grid) -> list[ScenarioAgent]:
    """Load a MovingAI ``.scen`` for ``grid``; every start and goal must be reachable floor."""
    path = Path(path)
    lines = _read_lines(path)
    if not lines or not lines[0].startswith("version"):
        raise MapFormatError(path, "scenario must start with a 'version' line", 1)
    pairs: list[tuple[Cell, Cell]] = []
    linenos: list[int] = []
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        parts = line.split("\t") if "\t" in line else line.split()
        if len(parts) != 9:
            raise MapFormatError(path, f"expected 9 fields, found {len(parts)}", lineno)
        try:
            w, h, sx, sy, gx, gy = (int(p) for p in parts[2:8])
        except ValueError:
            raise MapFormatError(path, "size and coordinates must be whole numbers", lineno) from None
        if (w, h) != (grid.width, grid.height):
            raise MapFormatError(
                path, f"scenario is for a {w} x {h} map, not {grid.width} x {grid.height}", lineno
            )
        start, goal = (sx, sy), (gx, gy)
        for what, cell in (("start", start), ("goal", goal)):
            if not grid.is_passable(cell):
                raise MapFormatError(path, f"{what} {cell} is a blocked or off-map cell", lineno)
        pairs.append((start, goal))
        linenos.append(lineno)
    if not pairs:
        raise MapFormatError(path, "scenario has no agents")
    dists = grid.pair_distances(pairs)  # batched; tables are not kept for every goal
    agents: list[ScenarioAgent] = []
    for (start, goal), dist, lineno in zip(pairs, dists.tolist(), linenos, strict=True):
        if dist == UNREACHABLE:
            raise MapFormatError(path, f"goal {goal} is unreachable from start {start}", lineno)
        agents.append(ScenarioAgent(start, goal, dist))
    return agents
