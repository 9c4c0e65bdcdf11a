"""Independent plan validator: the one judge every planner, test, CLI call and simulation uses.

It shares no code with the planners on purpose (only the :class:`Grid`), so a planner bug cannot
hide behind a matching validator bug. Rules checked, in this order:

* ``start``: each path begins at its agent's start (and is not empty);
* ``goal``: each path ends at its agent's goal;
* ``wall``: every cell is on the grid and passable;
* ``jump``: consecutive cells are equal or 4-neighbours the grid allows (one-way edges honoured);
* ``turn`` (oriented paths only): the step is a wait, a 90 degree turn in place, or one move
  forward along the heading;
* ``vertex``: two agents on one cell at one timestep;
* ``swap``: two agents exchanging cells across one edge in one step.

With ``stay_at_goal=True`` (the MAPF convention) an agent whose path is shorter than the longest
one waits on its last cell, and conflicts with it there count. With ``stay_at_goal=False`` an
agent disappears after its last step.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from controller.planning.errors import PlanConflict
from warehouse_maps.grid import MOVES, Cell, Grid

OrientedState = tuple[int, int, int]
"""``(x, y, heading)`` with heading 0 = east (+x), 1 = south (+y), 2 = west, 3 = north."""


def validate_paths(
    grid: Grid,
    paths: Sequence[Sequence[Cell]],
    starts: Sequence[Cell] | None = None,
    goals: Sequence[Cell] | None = None,
    *,
    stay_at_goal: bool = True,
) -> None:
    """Raise :class:`PlanConflict` for the first broken rule; return None for a valid plan.

    Args:
        grid: the map.
        paths: one list of ``(x, y)`` cells per agent, one cell per timestep from t = 0.
        starts: when given, each path must begin there.
        goals: when given, each path must end there.
        stay_at_goal: agents wait on their last cell after their path ends.
    """
    arr = _as_array(paths, 2)
    _check_ends(arr, paths, starts, goals)
    _check_cells(grid, arr, paths)
    _check_moves(grid, arr, paths)
    _check_conflicts(grid, arr, paths, stay_at_goal)


def validate_oriented_paths(
    grid: Grid,
    states: Sequence[Sequence[OrientedState]],
    starts: Sequence[Cell | OrientedState] | None = None,
    goals: Sequence[Cell] | None = None,
    *,
    stay_at_goal: bool = True,
) -> None:
    """Validate ``(x, y, heading)`` paths of the rotation model (forward, turn 90 degrees, wait).

    ``starts`` may give a heading (then it must match) or only a cell; ``goals`` are cells (any
    heading counts as arrived). Cell conflicts are the same as for :func:`validate_paths`.
    """
    arr = _as_array(states, 3)
    cells = [[(int(s[0]), int(s[1])) for s in p] for p in states]
    for i, p in enumerate(states):
        for t, s in enumerate(p):
            if not 0 <= int(s[2]) <= 3:
                raise PlanConflict("turn", (i,), t, f"heading {s[2]} is not 0..3")
    if starts is not None:
        for i, (p, start) in enumerate(zip(states, starts, strict=True)):
            if len(start) == 3 and p and tuple(int(v) for v in p[0]) != tuple(start):
                raise PlanConflict("start", (i,), 0, f"path starts at {tuple(p[0])}, start is {tuple(start)}")
    cell_starts = None if starts is None else [(int(s[0]), int(s[1])) for s in starts]
    cell_arr = arr[:, :, :2]
    _check_ends(cell_arr, cells, cell_starts, goals)
    _check_cells(grid, cell_arr, cells)
    _check_moves(grid, cell_arr, cells)
    for i, p in enumerate(states):
        for t in range(1, len(p)):
            _check_oriented_step(i, t, p[t - 1], p[t])
    _check_conflicts(grid, cell_arr, cells, stay_at_goal)


def _check_oriented_step(agent: int, t: int, a: Sequence[int], b: Sequence[int]) -> None:
    ax, ay, ah = (int(v) for v in a)
    bx, by, bh = (int(v) for v in b)
    if (ax, ay) == (bx, by):
        if (bh - ah) % 4 == 2:
            raise PlanConflict("turn", (agent,), t, f"turned 180 degrees in one step at {(ax, ay)}")
        return  # wait or a 90 degree turn
    if bh != ah:
        raise PlanConflict("turn", (agent,), t, f"moved and turned in one step {tuple(a)} -> {tuple(b)}")
    dx, dy = MOVES[ah]
    if (bx, by) != (ax + dx, ay + dy):
        raise PlanConflict("turn", (agent,), t, f"moved {tuple(a)} -> {tuple(b)}, not forward along heading")


def _as_array(paths: Sequence[Sequence[Sequence[int]]], width: int) -> np.ndarray:
    """Paths padded with their last entry to a common length: int64 array (agents, T, width)."""
    length = max((len(p) for p in paths), default=0)
    arr = np.zeros((len(paths), max(length, 1), width), dtype=np.int64)
    for i, p in enumerate(paths):
        if len(p) == 0:
            raise PlanConflict("start", (i,), 0, "path is empty")
        try:
            block = np.asarray([[int(v) for v in s] for s in p], dtype=np.int64)
        except (TypeError, ValueError):
            raise PlanConflict("wall", (i,), 0, "path entries must be integer tuples") from None
        if block.ndim != 2 or block.shape[1] != width:
            raise PlanConflict("wall", (i,), 0, f"path entries must have {width} integers")
        arr[i, : len(p)] = block
        arr[i, len(p) :] = block[-1]
    return arr


def _check_ends(
    arr: np.ndarray,
    paths: Sequence[Sequence[Sequence[int]]],
    starts: Sequence[Cell] | None,
    goals: Sequence[Cell] | None,
) -> None:
    for name, ends in (("starts", starts), ("goals", goals)):
        if ends is not None and len(ends) != len(paths):
            raise ValueError(f"{len(paths)} paths but {len(ends)} {name}")
    for i, p in enumerate(paths):
        if starts is not None and tuple(int(v) for v in p[0][:2]) != tuple(starts[i]):
            got, want = tuple(p[0][:2]), tuple(starts[i])
            raise PlanConflict("start", (i,), 0, f"path starts at {got}, start is {want}")
        if goals is not None and tuple(int(v) for v in p[-1][:2]) != tuple(goals[i]):
            raise PlanConflict(
                "goal", (i,), len(p) - 1, f"path ends at {tuple(p[-1][:2])}, goal is {tuple(goals[i])}"
            )


def _check_cells(grid: Grid, arr: np.ndarray, paths: Sequence[Sequence[Sequence[int]]]) -> None:
    x, y = arr[:, :, 0], arr[:, :, 1]
    inside = (x >= 0) & (x < grid.width) & (y >= 0) & (y < grid.height)
    ok = inside.copy()
    ok[inside] = grid.passable[y[inside], x[inside]]
    if not ok.all():
        i, t = (int(v) for v in np.argwhere(~ok)[0])
        cell = (int(x[i, t]), int(y[i, t]))
        raise PlanConflict("wall", (i,), t, f"cell {cell} is {'blocked' if inside[i, t] else 'off the map'}")


def _check_moves(grid: Grid, arr: np.ndarray, paths: Sequence[Sequence[Sequence[int]]]) -> None:
    if arr.shape[1] < 2:
        return
    step = np.abs(np.diff(arr[:, :, :2], axis=1)).sum(axis=2)
    if (step > 1).any():
        i, t = (int(v) for v in np.argwhere(step > 1)[0])
        a, b = tuple(int(v) for v in arr[i, t, :2]), tuple(int(v) for v in arr[i, t + 1, :2])
        raise PlanConflict("jump", (i,), t + 1, f"moved {a} -> {b}, not to a neighbouring cell")
    if grid.one_way:
        for i, t in np.argwhere(step == 1):
            a = (int(arr[i, t, 0]), int(arr[i, t, 1]))
            b = (int(arr[i, t + 1, 0]), int(arr[i, t + 1, 1]))
            if not grid.can_move(a, b):
                raise PlanConflict("jump", (int(i),), int(t) + 1, f"move {a} -> {b} breaks a one-way edge")


def _check_conflicts(
    grid: Grid, arr: np.ndarray, paths: Sequence[Sequence[Sequence[int]]], stay_at_goal: bool
) -> None:
    n_agents, horizon = arr.shape[0], arr.shape[1]
    if n_agents < 2:
        return
    lengths = np.array([len(p) for p in paths])
    idx = arr[:, :, 1] * grid.width + arr[:, :, 0]  # (agents, T)
    present = np.ones_like(idx, dtype=bool)
    if not stay_at_goal:
        present = np.arange(horizon)[None, :] < lengths[:, None]
    for t in range(horizon):
        live = np.flatnonzero(present[:, t])
        cells = idx[live, t]
        order = np.argsort(cells, kind="stable")
        dup = np.flatnonzero(cells[order][1:] == cells[order][:-1])
        if dup.size:
            a, b = int(live[order[dup[0]]]), int(live[order[dup[0] + 1]])
            cell = grid.cell_of(int(idx[a, t]))
            raise PlanConflict("vertex", (a, b), t, f"both on cell {cell}")
        if t == 0:
            continue
        movers = live[(idx[live, t] != idx[live, t - 1]) & present[live, t - 1]]
        if movers.size < 2:
            continue
        lo = np.minimum(idx[movers, t - 1], idx[movers, t])
        hi = np.maximum(idx[movers, t - 1], idx[movers, t])
        key = lo * (grid.width * grid.height) + hi
        order = np.argsort(key, kind="stable")
        dup = np.flatnonzero(key[order][1:] == key[order][:-1])
        if dup.size:
            a, b = int(movers[order[dup[0]]]), int(movers[order[dup[0] + 1]])
            u, v = grid.cell_of(int(idx[a, t - 1])), grid.cell_of(int(idx[a, t]))
            raise PlanConflict("swap", (a, b), t, f"exchanged cells {u} and {v}")
