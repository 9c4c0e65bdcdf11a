"""One-way flow through each induct: robots enter from one side and leave straight on by the other.

Why: at an induct a robot is loaded (seconds) while the next one waits; planning chose freely how
each robot came in and went out, and a third of the loaded robots left the way they came (half a
turn, and across the cell where the next robot waited), so an induct handed over a parcel every
~10 s against a physical floor of ~6 s. Real robotic sort floors run every induct one way: the next
robot waits on the entry side facing the induct while the loaded one drives straight off the other
side, with no turn for either.

The rule is derived from the layout, for any induct: of the induct's floor neighbours, two opposite
ones form its axis (the only pair for an induct against a wall; in open floor the pair along the
longer straight run of floor through it). Along the axis the exit is the side toward the floor's
centre of mass: loaded robots head for chutes spread over the floor, and the robots waiting to be
loaded stand on the side toward the edge, out of their way (measured on sort-center, 100 robots,
seeds 1 to 3: 2,924 parcels/h against 2,799 with the exit the other way round). Where both sides
are as far from the centre, the soft lane direction of that row or column decides
(:func:`controller.planning.guidance.lane_signs`). The cell behind is the entry (only the move
entry -> induct is allowed on that edge), the cell ahead the exit (only induct -> exit), and any
other neighbour is closed both ways. It is written as one-way edges of the planning grid
(:class:`Grid` ``one_way``; both directions listed closes an edge), so the planners' moves and
distance tables and the plan validator's legal-move check all honour it.

Behind the entry each induct gets a waiting line (``queue``, the entry first: straight back along
the axis, turning at a wall; plain floor only), where the planner lines up the robots bound for it
(:mod:`controller.execution.stop_queues`), and the moves along that line and through the induct
cost 1 whatever the lane guidance says (grid edge weights, which the guidance honours).

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
    queue: tuple[Cell, ...] = ()  # where robots bound for it wait in line, the entry first

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


def _centre(grid: Grid) -> tuple[float, float]:
    """The floor's centre of mass ``(x, y)``."""
    ys, xs = np.nonzero(grid.passable)
    return (float(xs.mean()), float(ys.mean()))


def _off_centre(cell: Cell, centre: tuple[float, float]) -> float:
    return abs(cell[0] - centre[0]) + abs(cell[1] - centre[1])


def induct_lane(grid: Grid, induct: Cell, row_sign: np.ndarray, col_sign: np.ndarray,
                centre: tuple[float, float]) -> InductLane | None:
    """The passage through ``induct`` (None: no two opposite floor neighbours); ``centre`` the floor's
    centre of mass (x, y)."""
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
    if _off_centre(exit_, centre) > _off_centre(entry, centre):
        entry, exit_ = exit_, entry
    closed = tuple(n for n in two_way if n not in (entry, exit_))
    return InductLane(induct, entry, exit_, closed)


def induct_lanes(grid: Grid, inducts: Sequence[Cell]) -> list[InductLane]:
    """The passages that can be one way on ``grid`` (see the module docstring), in induct order."""
    row_sign = lane_signs(grid.passable, 0)
    col_sign = lane_signs(grid.passable, 1)
    centre = _centre(grid)
    cells = set(inducts)
    lanes: list[InductLane] = []
    for induct in inducts:
        lane = induct_lane(grid, induct, row_sign, col_sign, centre)
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


def _queue(grid: Grid, lane: InductLane, taken: set[Cell], depth: int,
           centre: tuple[float, float]) -> tuple[Cell, ...]:
    """Up to ``depth`` waiting cells in line behind the entry: straight back along the axis, turning
    (away from the floor's centre first) where the line meets a wall or a cell in ``taken``; each
    cell can move into the one before it."""
    cells = [lane.entry]
    step = (lane.entry[0] - lane.induct[0], lane.entry[1] - lane.induct[1])
    while len(cells) < depth:
        tail = cells[-1]
        turns = sorted([(step[1], step[0]), (-step[1], -step[0])],
                       key=lambda d: -_off_centre((tail[0] + d[0], tail[1] + d[1]), centre))
        for d in (step, *turns):
            n = (tail[0] + d[0], tail[1] + d[1])
            if grid.can_move(n, tail) and n not in taken and n not in cells:
                cells.append(n)
                step = d
                break
        else:
            break
    return tuple(cells)


def _directed(grid: Grid, lanes: Sequence[InductLane]) -> Grid:
    edges = set(grid.one_way)
    for lane in lanes:
        edges |= lane.edges()
    return Grid(grid.passable, one_way=frozenset(edges), edge_weights=dict(grid.edge_weights))


def with_induct_flow(layout: Layout, depth: int = 6) -> tuple[Layout, list[InductLane]]:
    """``layout`` whose grid runs every induct one way (its passages, each with up to ``depth``
    waiting cells on plain floor: no place, no other passage or queue), and those passages; the
    layout itself when none applies."""
    lanes = induct_lanes(layout.grid, layout.cells_of(PlaceKind.INDUCT))
    if not lanes:
        return layout, lanes
    grid = _directed(layout.grid, lanes)
    centre = _centre(grid)
    taken = {p.cell for p in layout.places}
    taken |= {c for lane in lanes for c in (lane.induct, lane.entry, lane.exit, *lane.closed)}
    queued: list[InductLane] = []
    for lane in lanes:
        queue = _queue(grid, lane, taken - {lane.entry}, depth, centre)
        taken |= set(queue)
        queued.append(dataclasses.replace(lane, queue=queue))
    # moves along a waiting line and through the induct cost 1 (with the flow), whatever the lane
    # guidance of their row or column says: against it, robots left the line for a detour round it
    weights = {(b, a): 1 for lane in queued for a, b in zip(lane.queue, lane.queue[1:])}
    weights |= {e: 1 for lane in queued for e in ((lane.entry, lane.induct), (lane.induct, lane.exit))}
    grid = Grid(grid.passable, one_way=grid.one_way, edge_weights=weights | dict(grid.edge_weights))
    return dataclasses.replace(layout, grid=grid), queued
