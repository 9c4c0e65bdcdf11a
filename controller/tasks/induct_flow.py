"""One-way flow through each induct: robots enter from one side and leave straight on by the other.

Why: at an induct a robot is loaded (seconds) while the next one waits; planning chose freely how
each robot came in and went out, and a third of the loaded robots left the way they came (half a
turn, and across the cell where the next robot waited), so an induct handed over a parcel every
~10 s against a physical floor of ~6 s. Real robotic sort floors run every induct one way: the next
robot waits on the entry side facing the induct while the loaded one drives straight off the other
side, with no turn for either.

The rule is derived from the layout, for any induct: of the induct's floor neighbours, two opposite
ones form its axis (the only pair for an induct against a wall; in open floor the pair along the
longer straight run of floor through it). The direction along the axis is the soft lane direction
of that row or column (:func:`controller.planning.guidance.lane_signs`), so the induct's flow agrees
with the traffic guidance around it. The cell behind is the entry (only the move entry -> induct is
allowed on that edge), the cell ahead the exit (only induct -> exit), and any other neighbour is
closed both ways. It is written as one-way edges of the planning grid (:class:`Grid` ``one_way``;
both directions listed closes an edge), so the planners' moves and distance tables and the plan
validator's legal-move check all honour it.

An induct keeps its free access when no straight pair exists (a corner or a dead end), when it
borders another induct (their rules would contradict), or when its rule would cut some floor off
from the rest (the strongly connected parts of the floor must stay those of the two-way floor).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from controller.planning.guidance import lane_signs
from warehouse_maps.grid import Cell, Grid
from warehouse_maps.layout import Layout, PlaceKind


@dataclass(frozen=True, slots=True)
class InductLane:
    """The one-way passage through one induct: enter from ``entry``, leave by ``exit``; ``closed``
    neighbours neither enter nor leave it."""

    induct: Cell
    entry: Cell
    exit: Cell
    closed: tuple[Cell, ...]

    def edges(self) -> frozenset[tuple[Cell, Cell]]:
        """The grid's one-way edges of this passage (an edge listed both ways is closed)."""
        c = self.induct
        closed = {e for s in self.closed for e in ((s, c), (c, s))}
        return frozenset({(self.entry, c), (c, self.exit)} | closed)


def _run(grid: Grid, cell: Cell, step: Cell) -> int:
    """Floor cells in a straight line from ``cell`` (not counted) along ``step`` until a wall."""
    n = 0
    x, y = cell[0] + step[0], cell[1] + step[1]
    while grid.is_passable((x, y)):
        n += 1
        x, y = x + step[0], y + step[1]
    return n


def induct_lane(grid: Grid, induct: Cell, row_sign: np.ndarray, col_sign: np.ndarray) -> InductLane | None:
    """The passage through ``induct`` (None: no two opposite floor neighbours)."""
    x, y = induct
    around = [(x + 1, y), (x, y + 1), (x - 1, y), (x, y - 1)]  # E, S, W, N
    two_way = [n for n in around if grid.can_move(induct, n) and grid.can_move(n, induct)]
    axes: list[tuple[int, Cell, Cell]] = []  # (straight run, behind, ahead) with the lane
    if (x, y - 1) in two_way and (x, y + 1) in two_way:
        north, south = (x, y - 1), (x, y + 1)
        run = _run(grid, induct, (0, -1)) + _run(grid, induct, (0, 1))
        axes.append((run, north, south) if col_sign[x] > 0 else (run, south, north))
    if (x - 1, y) in two_way and (x + 1, y) in two_way:
        west, east = (x - 1, y), (x + 1, y)
        run = _run(grid, induct, (-1, 0)) + _run(grid, induct, (1, 0))
        axes.append((run, west, east) if row_sign[y] > 0 else (run, east, west))
    if not axes:
        return None
    _, entry, exit_ = max(axes, key=lambda a: a[0])  # ties: north-south (listed first)
    closed = tuple(n for n in two_way if n not in (entry, exit_))
    return InductLane(induct, entry, exit_, closed)


def induct_lanes(grid: Grid, inducts: Sequence[Cell]) -> list[InductLane]:
    """The passages that can be one way on ``grid`` (see the module docstring), in induct order."""
    row_sign = lane_signs(grid.passable, 0)
    col_sign = lane_signs(grid.passable, 1)
    cells = set(inducts)
    lanes: list[InductLane] = []
    for induct in inducts:
        lane = induct_lane(grid, induct, row_sign, col_sign)
        if lane is None or any(n in cells for n in (lane.entry, lane.exit, *lane.closed)):
            continue
        lanes.append(lane)
    parts = grid.strong_parts()
    if _directed(grid, lanes).strong_parts() == parts:
        return lanes
    kept: list[InductLane] = []  # some rule cuts floor off: keep those that do not, one by one
    for lane in lanes:
        if _directed(grid, [*kept, lane]).strong_parts() == parts:
            kept.append(lane)
    return kept


def _directed(grid: Grid, lanes: Sequence[InductLane]) -> Grid:
    edges = set(grid.one_way)
    for lane in lanes:
        edges |= lane.edges()
    return Grid(grid.passable, one_way=frozenset(edges), edge_weights=dict(grid.edge_weights))


def with_induct_flow(layout: Layout) -> tuple[Layout, list[InductLane]]:
    """``layout`` whose grid runs every induct one way (its passages), and those passages; the
    layout itself when none applies."""
    lanes = induct_lanes(layout.grid, layout.cells_of(PlaceKind.INDUCT))
    if not lanes:
        return layout, lanes
    return dataclasses.replace(layout, grid=_directed(layout.grid, lanes)), lanes
