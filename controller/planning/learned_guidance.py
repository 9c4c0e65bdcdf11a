"""Learned guidance: a file of per-move costs for one map, learned offline, and the grid that carries them.

The hand-made lanes (:mod:`controller.planning.guidance`) give every move a cost from a rule; a
learned guidance file gives every directed move ``(cell, heading)`` its own integer cost >= 1,
optimised offline by running the planner (``bench/learn_guidance.py``, the idea of guidance
graph optimisation). The planner takes them as the grid's edge weights (``Grid.edge_weights``:
a move the grid weights costs that weight instead of the lane's), so the planner itself is the
same with or without a file.

Format (JSON, written by :func:`write_guidance`)::

    {"format": "bulletyard-guidance", "version": 1, "width": W, "height": H,
     "costs": [[e, s, w, n], ...],   # H * W rows, row-major (index y * W + x), headings E, S, W, N
     "training": {...}}              # free-form: how the costs were learned

Costs of moves off the floor are ignored (they are written as 1).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from controller.planning.errors import PlanningInputError
from warehouse_maps.errors import InputError
from warehouse_maps.grid import MOVES, Grid
from warehouse_maps.safe_load import read_text_capped, safe_json_loads

FORMAT = "bulletyard-guidance"
VERSION = 1
MAX_COST = 1000
"""Largest cost a file may give (a move the planner should never take is better a wall)."""


def guidance_document(grid: Grid, costs: np.ndarray,
                      training: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON document of ``costs`` (int ``(cells, 4)``) for ``grid``."""
    arr = _checked(np.asarray(costs), grid, "costs")
    return {"format": FORMAT, "version": VERSION, "width": grid.width, "height": grid.height,
            "costs": arr.tolist(), "training": dict(training or {})}


def write_guidance(path: Path, grid: Grid, costs: np.ndarray, training: dict[str, Any] | None = None) -> None:
    """Write a guidance file (one line of JSON)."""
    path.write_text(json.dumps(guidance_document(grid, costs, training), separators=(",", ":")) + "\n",
                    encoding="utf-8")


def read_guidance(path: Path, grid: Grid) -> np.ndarray:
    """int32 ``(cells, 4)`` costs of a guidance file for ``grid``; :class:`PlanningInputError`
    naming the file when it is not one, or was learned for another map size."""
    try:
        doc = safe_json_loads(read_text_capped(path), path)
    except InputError as exc:
        raise PlanningInputError(f"guidance file {path}: {exc.message}") from None
    except OSError as exc:
        raise PlanningInputError(f"guidance file {path}: cannot read: {exc.strerror}") from None
    return parse_guidance(doc, grid, str(path))


def parse_guidance(doc: Any, grid: Grid, source: str = "<guidance>") -> np.ndarray:
    """The costs of a parsed guidance document, checked against ``grid``."""
    where = f"guidance file {source}"
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise PlanningInputError(f"{where}: not a guidance file (\"format\" must be {FORMAT!r})")
    if doc.get("version") != VERSION:
        raise PlanningInputError(f"{where}: version {doc.get('version')!r} is not supported (only {VERSION})")
    if (doc.get("width"), doc.get("height")) != (grid.width, grid.height):
        raise PlanningInputError(f"{where}: learned for a {doc.get('width')} x {doc.get('height')} map, "
                                 f"this map is {grid.width} x {grid.height}")
    costs = doc.get("costs")
    if not isinstance(costs, list) or not all(
        isinstance(row, list) and len(row) == 4 and all(type(c) is int for c in row) for row in costs
    ):
        raise PlanningInputError(f"{where}: \"costs\" must be a list of [e, s, w, n] integer rows")
    return _checked(np.asarray(costs, dtype=np.int64).reshape(-1, 4), grid, where)


def _checked(costs: np.ndarray, grid: Grid, where: str) -> np.ndarray:
    cells = grid.width * grid.height
    if costs.shape != (cells, 4):
        raise PlanningInputError(f"{where}: {costs.shape[0] if costs.ndim else 0} cost rows, the map has "
                                 f"{cells} cells")
    if not np.issubdtype(costs.dtype, np.integer):
        raise PlanningInputError(f"{where}: costs must be integers")
    floor = grid.passable.ravel()
    flat = costs.ravel()
    bad = np.flatnonzero(np.repeat(floor, 4) & ((flat < 1) | (flat > MAX_COST)))
    if bad.size:
        cell = grid.cell_of(int(bad[0]) // 4)
        raise PlanningInputError(f"{where}: cost {int(flat[bad[0]])} of the move from {cell} "
                                 f"heading {'ESWN'[int(bad[0]) % 4]} is not in 1..{MAX_COST}")
    out = np.where(floor[:, None], costs, 1).astype(np.int32)
    return out


def weighted_grid(grid: Grid, costs: np.ndarray) -> Grid:
    """``grid`` with every move between floor cells costing ``costs[cell, heading]`` (a move the grid
    already weights keeps its weight: the layout's word wins, as over the lanes)."""
    costs = _checked(np.asarray(costs), grid, "costs")
    edges = dict(grid.edge_weights)
    for y, x in zip(*np.nonzero(grid.passable)):
        a = (int(x), int(y))
        for d, (dx, dy) in enumerate(MOVES):
            b = (a[0] + dx, a[1] + dy)
            if grid.can_move(a, b):
                edges.setdefault((a, b), int(costs[grid.index(a), d]))
    return Grid(grid.passable, one_way=grid.one_way, edge_weights=edges)
