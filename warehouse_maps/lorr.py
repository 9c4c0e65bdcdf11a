"""Loader for League of Robot Runners (LoRR) instances.

An instance is a JSON file naming a map, an agents file and a tasks file (paths relative to the
JSON file), the team size and the task assignment rule. Map files use the MovingAI layout; the
LoRR start kit treats ``@`` and ``T`` as obstacles and every other character (``.``, ``E``
emitter/endpoint, ``S`` service) as floor. Agents and tasks files hold a count on the first
line, then one cell per line numbered ``row * width + col``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from warehouse_maps.errors import InputError, MapFormatError
from warehouse_maps.grid import Cell, Grid
from warehouse_maps.movingai import _read_lines, check_grid_size
from warehouse_maps.safe_load import safe_json_loads

LORR_BLOCKED = frozenset("@TOW")
LORR_PASSABLE = frozenset(".ESG")


@dataclass(frozen=True)
class LorrInstance:
    """A lifelong MAPF instance: start cells per agent and the shared task list.

    Under the ``roundrobin`` rule agent ``k``'s ``j``-th task is
    ``tasks[(j * team_size + k) % len(tasks)]``; see :meth:`task_for`.
    """

    name: str
    grid: Grid
    starts: tuple[Cell, ...]
    tasks: tuple[Cell, ...]
    team_size: int
    assignment: str

    def task_for(self, agent: int, j: int) -> Cell:
        """The ``j``-th task (0-based) of ``agent`` under the round-robin rule."""
        return self.tasks[(j * self.team_size + agent) % len(self.tasks)]


def load_lorr_map(path: str | Path) -> Grid:
    """Load a LoRR map file (MovingAI layout, LoRR characters)."""
    path = Path(path)
    lines = _read_lines(path)
    if len(lines) < 4 or not lines[0].startswith("type"):
        raise MapFormatError(path, "expected a 'type' header line", 1)
    try:
        height = int(lines[1].split()[1])
        width = int(lines[2].split()[1])
    except (IndexError, ValueError):
        raise MapFormatError(path, "height and width headers must be 'height N' and 'width N'", 2) from None
    check_grid_size(path, width, height, 2)
    if lines[3].strip() != "map":
        raise MapFormatError(path, "expected the 'map' line", 4)
    rows = lines[4 : 4 + height]
    if len(rows) != height:
        raise MapFormatError(path, f"header says {height} rows, file has {len(rows)}", 5 + len(rows))
    arr = np.zeros((height, width), dtype=bool)
    for r, row in enumerate(rows):
        if len(row) != width:
            raise MapFormatError(path, f"row has {len(row)} characters, width is {width}", r + 5)
        for c, ch in enumerate(row):
            if ch in LORR_PASSABLE:
                arr[r, c] = True
            elif ch not in LORR_BLOCKED:
                raise MapFormatError(path, f"unknown map character {ch!r} at column {c}", r + 5)
    return Grid(arr)


def _read_cells(path: Path, grid: Grid, what: str) -> tuple[Cell, ...]:
    """Cells of an agents or tasks file, checked in bulk (LoRR task files have 500 000 lines)."""
    lines = _read_lines(path)
    if not lines:
        raise MapFormatError(path, f"empty {what} file")
    try:
        count = int(lines[0].strip())
    except ValueError:
        raise MapFormatError(path, f"first line must be the number of {what}", 1) from None
    linenos: list[int] = []
    indices: list[int] = []
    for lineno, line in enumerate(lines[1:], start=2):
        text = line.strip()
        if not text:
            continue
        # Newer LoRR task files list several comma-separated errands; the first is the pickup.
        first = text.split(",", 1)[0]
        try:
            indices.append(int(first))
        except ValueError:
            raise MapFormatError(path, f"expected a cell number, found {text[:30]!r}", lineno) from None
        linenos.append(lineno)
    idx = np.asarray(indices, dtype=np.int64)
    outside = np.flatnonzero((idx < 0) | (idx >= grid.width * grid.height))
    if outside.size:
        k = int(outside[0])
        raise MapFormatError(path, f"cell {indices[k]} lies outside the map", linenos[k])
    blocked = np.flatnonzero(~grid.passable.ravel()[idx]) if idx.size else idx
    if blocked.size:
        k = int(blocked[0])
        raise MapFormatError(path, f"cell {indices[k]} {grid.cell_of(indices[k])} is blocked", linenos[k])
    if len(indices) < count:
        raise MapFormatError(path, f"header promises {count} {what}, file has {len(indices)}")
    width = grid.width
    return tuple((i % width, i // width) for i in indices[:count])


def load_lorr_instance(path: str | Path) -> LorrInstance:
    """Load a LoRR instance JSON with its map, agents and tasks."""
    path = Path(path)
    lines = _read_lines(path)
    try:
        spec = safe_json_loads("\n".join(lines), path)
    except InputError as exc:
        raise MapFormatError(exc.source, exc.message, exc.line) from None
    if not isinstance(spec, dict):
        raise MapFormatError(path, "instance must be a JSON object")
    for key, typ in (("mapFile", str), ("agentFile", str), ("taskFile", str), ("teamSize", int)):
        if not isinstance(spec.get(key), typ) or isinstance(spec.get(key), bool):
            raise MapFormatError(path, f"field {key!r} missing or not a {typ.__name__}")
    rule = spec.get("taskAssignmentStrategy", "roundrobin")
    if rule != "roundrobin":
        raise MapFormatError(path, f"task assignment strategy {rule!r} is not supported (roundrobin only)")
    base = path.parent
    grid = load_lorr_map(base / spec["mapFile"])
    starts = _read_cells(base / spec["agentFile"], grid, "agents")
    tasks = _read_cells(base / spec["taskFile"], grid, "tasks")
    team = spec["teamSize"]
    if not tasks:
        raise MapFormatError(path, f"the tasks file {spec['taskFile']} lists no tasks")
    if team <= 0 or team > len(starts):
        raise MapFormatError(path, f"teamSize {team} but the agents file has {len(starts)} agents")
    if len(set(starts[:team])) != team:
        raise MapFormatError(path, "two agents start on the same cell")
    return LorrInstance(path.stem, grid, starts[:team], tasks, team, rule)
