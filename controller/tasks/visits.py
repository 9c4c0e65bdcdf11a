"""The operations' values: their configuration, order lines, pod visits, and the two pure steps
that need no state: building a pod trip and matching robots to pods (OR-Tools).

Split from :mod:`controller.tasks.operations` so that file holds the decisions only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from ortools.graph.python import linear_sum_assignment

from bus.clock import Instant
from controller.execution.trips import Stop, Trip
from controller.orders.model import Order
from warehouse_maps.grid import Cell

Rule = Literal["pileon", "greedy"]
RELEASE_SLACK = 2
"""pileon: an order may go to a station holding up to this many more open orders than the emptiest."""


@dataclass(frozen=True, slots=True)
class OpsConfig:
    """The rules and their defaults (``docs/operations.md`` gives the reasons).

    Attributes:
        rule: ``pileon`` or ``greedy`` (the old baseline).
        station_open_orders: orders a station holds open at once (put-wall slots).
        robots_per_station: robots bound to one station at once (travelling, queueing, at it).
        pick_time_s: picker's time per order line; the station stop lasts lines x this.
        age_per_line_s: waiting this long is worth one more line when pods are ranked.
        refill_below: a slot left with fewer units is refilled at the station.
    """

    rule: Rule = "pileon"
    station_open_orders: int = 12
    robots_per_station: int = 10
    pick_time_s: float = 5.0
    age_per_line_s: float = 120.0
    refill_below: int = 10


@dataclass(frozen=True, slots=True)
class Line:
    """One order line to pick: ``quantity`` of ``sku`` for line ``index`` of ``order_id``."""

    order_id: str
    index: int
    sku: str
    quantity: int


@dataclass
class Visit:
    """A trip in flight: the pod, its station, the lines reserved on it, where the pod goes."""

    trip: Trip
    pod: str
    station: str
    lines: list[Line]
    place_from: str
    lifted: bool = False
    picked: bool = False


@dataclass
class OrderState:
    """Where one accepted order stands: its station once it has one, and its lines not yet picked."""

    order: Order
    arrived: Instant
    station: str | None = None
    open_lines: list[Line] = field(default_factory=list)  # released, not yet on a pod
    lines_left: int = 0  # not yet picked


@dataclass(frozen=True, slots=True)
class Picked:
    """Lines picked at a station visit: per order, and the orders now wholly picked."""

    lines: int
    orders_done: tuple[str, ...]


def pod_trip(trip_id: str, station: str, station_cell: Cell, pod: str, lines: Sequence[Line],
             place_from: tuple[str, Cell], place_to: tuple[str, Cell], pick_time_s: float) -> Trip:
    """The three stops of a pod visit: ``pick`` the pod on its place, ``wait`` at the station for
    lines x ``pick_time_s`` seconds (``lines`` lists ``order:line``), ``drop`` it on its new place."""
    picks = ",".join(f"{ln.order_id}:{ln.index}" for ln in lines)
    duration = len(lines) * pick_time_s
    return Trip(
        trip_id=trip_id,
        stops=(
            Stop(place_from[1], "pick", (("podId", pod),)),
            Stop(station_cell, "wait",
                 (("stationId", station), ("podId", pod), ("lines", picks), ("duration", duration))),
            Stop(place_to[1], "drop", (("podId", pod), ("placeId", place_to[0]))),
        ),
        kind="pod",
        order_ids=tuple(sorted({ln.order_id for ln in lines})),
    )


def match_robots(robot_cells: Sequence[Cell], pod_cells: Sequence[Cell]) -> list[tuple[int, int]]:
    """(robot index, pod index) pairs of least total Manhattan travel, every robot or every pod
    matched (whichever are fewer); OR-Tools' linear sum assignment on a padded square matrix."""
    if not robot_cells or not pod_cells:
        return []
    r = np.asarray(robot_cells, dtype=np.int64)
    p = np.asarray(pod_cells, dtype=np.int64)
    return min_cost_matching(np.abs(r[:, None, :] - p[None, :, :]).sum(axis=2))


def min_cost_matching(cost: np.ndarray) -> list[tuple[int, int]]:
    """(row, column) pairs of least total ``cost`` (integers, rows x columns), every row or every
    column matched (whichever are fewer); OR-Tools' linear sum assignment on a padded square matrix."""
    rows, cols = cost.shape
    if not rows or not cols:
        return []
    n = max(rows, cols)  # dummy rows or columns cost nothing
    square = np.zeros((n, n), dtype=np.int64)
    square[:rows, :cols] = cost
    left, right = np.divmod(np.arange(n * n, dtype=np.int64), n)  # row-major, as arcs were added one by one
    solver = linear_sum_assignment.SimpleLinearSumAssignment()
    solver.add_arcs_with_cost(left, right, square.ravel())  # one call: n*n arcs from Python cost 30 ms at 500
    if solver.solve() != solver.OPTIMAL:
        raise RuntimeError("linear sum assignment failed on a complete bipartite graph")
    pairs = [(i, solver.right_mate(i)) for i in range(rows)]
    return [(i, j) for i, j in pairs if j < cols]
