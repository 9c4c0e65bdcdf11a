"""Task building: turn received orders into pod trips, batching lines of many orders per pod visit.

Public API (used by the controller, issue 8)::

    builder = TaskBuilder(layout)
    trips = builder.build(now, order_book, inventory, layout)   # open trips whose pod is at rest
    builder.dispatch(trip_id, robot_id, station_id, now)        # a robot took it
    builder.robot_failed(robot_id, now, pod_cell=None)          # its trip goes back to the pool
    builder.picked(trip_id, now)                                # lines picked at the station
    builder.returned(trip_id, now)                              # pod back in storage

Allocation reserves stock for each line of a received order on one pod (or, when no single pod
holds enough, on several). It prefers a pod that already has an open trip, so one pod visit
serves lines of many orders (batching), then the pod nearest a pick station. Each line part
belongs to exactly one trip at a time, so a failed robot's work is neither lost nor duplicated.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from bus.clock import Instant
from controller.orders.book import OrderBook
from controller.orders.inventory import Inventory
from controller.orders.model import OrderStatus
from controller.tasks.trips import Trip, TripId, TripKind, TripLine, TripState
from warehouse_maps.grid import Cell
from warehouse_maps.layout import Layout, PlaceKind


@dataclass
class _TripRec:
    """The builder's mutable record of a trip (callers only ever see :class:`Trip` snapshots)."""

    id: TripId
    pod_id: str
    pickup: Cell
    home: Cell
    station_id: str
    created: Instant
    lines: list[TripLine] = field(default_factory=list)
    oldest: Instant | None = None
    priority: int = 0
    state: TripState = TripState.OPEN
    robot_id: str | None = None

    def snapshot(self) -> Trip:
        return Trip(
            self.id,
            TripKind.POD,
            self.pod_id,
            self.pickup,
            self.station_id,
            tuple(self.lines),
            self.state,
            self.created,
            self.oldest if self.oldest is not None else self.created,
            self.priority,
            self.home,
            self.robot_id,
        )


class TaskBuilder:
    """Keeps the pool of pod trips and the line parts each one serves.

    Args:
        layout: the floor; its pick stations give each trip a default (nearest) station.
    """

    def __init__(self, layout: Layout) -> None:
        stations = layout.of_kind(PlaceKind.PICK_STATION)
        if not stations:
            raise ValueError(f"layout {layout.name} has no pick station")
        self._station_ids = [s.id for s in stations]
        tables = np.stack([layout.grid.distance_table(s.cell) for s in stations]).astype(np.int64)
        tables[tables < 0] = np.iinfo(np.int32).max
        self._nearest_station = tables.argmin(axis=0)  # (h, w) index into station ids
        self._station_dist = tables.min(axis=0)
        self._trips: dict[TripId, _TripRec] = {}
        self._open_by_pod: dict[str, TripId] = {}
        self._busy_pods: dict[str, TripId] = {}  # pod -> trip carrying it
        self._pod_cell: dict[str, Cell] = {}  # pods away from home after a failure
        self._parts_left: dict[tuple[str, int], int] = {}  # (order, line) -> parts not yet picked
        self._lines_left: dict[str, int] = {}  # order -> lines not yet picked
        self._next = 1

    # -- building -----------------------------------------------------------------------------

    def build(self, now: Instant, book: OrderBook, inventory: Inventory, layout: Layout) -> list[Trip]:
        """Allocate every received order, then return the open trips whose pod is at rest (id order)."""
        for order in list(book.in_status(OrderStatus.RECEIVED)):
            for index, line in enumerate(order.lines):
                touched = self._allocate(now, inventory, order.id, index, line.sku, line.quantity)
                self._parts_left[(order.id, index)] = len(touched)
                for rec_id in touched:
                    rec = self._trips[rec_id]
                    created = order.created if order.created is not None else now
                    rec.oldest = created if rec.oldest is None else min(rec.oldest, created)
                    rec.priority = max(rec.priority, order.priority)
            self._lines_left[order.id] = len(order.lines)
            book.advance(order.id, OrderStatus.ALLOCATED, now)
        return self.open_trips()

    def open_trips(self) -> list[Trip]:
        """Open trips whose pod is not on another trip, in id order."""
        return [
            r.snapshot()
            for r in self._trips.values()
            if r.state is TripState.OPEN and r.pod_id not in self._busy_pods
        ]

    def _allocate(
        self, now: Instant, inventory: Inventory, order_id: str, index: int, sku: str, quantity: int
    ) -> list[TripId]:
        """Reserve ``quantity`` of ``sku`` on pods; returns the trips that serve the line's parts."""
        touched: list[TripId] = []
        candidates = sorted(
            inventory.pods_with(sku),
            key=lambda p: (
                p not in self._open_by_pod,
                -min(inventory.free(p, sku), quantity),
                self._pod_station_dist(inventory, p),
                p,
            ),
        )
        left = quantity
        for pod_id in candidates:
            take = min(left, inventory.free(pod_id, sku))
            if take <= 0:
                continue
            inventory.reserve(pod_id, sku, take)
            rec = self._open_trip_for(now, inventory, pod_id)
            rec.lines.append(TripLine(order_id, index, sku, take))
            touched.append(rec.id)
            left -= take
            if left == 0:
                return touched
        raise RuntimeError(f"order {order_id} line {index}: stock of {sku} vanished after acceptance")

    def _pod_station_dist(self, inventory: Inventory, pod_id: str) -> int:
        x, y = inventory.pod(pod_id).home
        return int(self._station_dist[y, x])

    def _open_trip_for(self, now: Instant, inventory: Inventory, pod_id: str) -> _TripRec:
        trip_id = self._open_by_pod.get(pod_id)
        if trip_id is not None:
            return self._trips[trip_id]
        home = inventory.pod(pod_id).home
        rec = _TripRec(
            f"T{self._next:06d}",
            pod_id,
            self._pod_cell.get(pod_id, home),
            home,
            self._station_ids[int(self._nearest_station[home[1], home[0]])],
            now,
        )
        self._next += 1
        self._trips[rec.id] = rec
        self._open_by_pod[pod_id] = rec.id
        return rec

    # -- life of a trip -----------------------------------------------------------------------

    def trip(self, trip_id: TripId) -> Trip:
        """Snapshot of one trip."""
        return self._trips[trip_id].snapshot()

    def dispatch(
        self, trip_id: TripId, robot_id: str, station_id: str, now: Instant, book: OrderBook
    ) -> Trip:
        """A robot takes an open trip to ``station_id``; its allocated orders start picking."""
        rec = self._trips[trip_id]
        if rec.state is not TripState.OPEN or rec.pod_id in self._busy_pods:
            raise ValueError(f"trip {trip_id} is not open for dispatch ({rec.state.value})")
        rec.state, rec.robot_id, rec.station_id = TripState.ASSIGNED, robot_id, station_id
        self._busy_pods[rec.pod_id] = trip_id
        del self._open_by_pod[rec.pod_id]
        for order_id in sorted({ln.order_id for ln in rec.lines}):
            if book.status(order_id) is OrderStatus.ALLOCATED:
                book.advance(order_id, OrderStatus.PICKING, now)
        return rec.snapshot()

    def robot_failed(self, robot_id: str, now: Instant, pod_cell: Cell | None = None) -> list[TripId]:
        """Put the failed robot's unpicked trip back in the pool; returns the trip ids returned.

        ``pod_cell`` is where the pod was left (when the robot carried it), so the next robot
        fetches it from there. Lines already picked stay picked; lines opened for the same pod
        meanwhile join the returned trip, so the pod is never wanted by two robots at once.
        """
        back: list[TripId] = []
        for rec in list(self._trips.values()):
            if rec.robot_id != robot_id or rec.state is not TripState.ASSIGNED:
                continue
            rec.state, rec.robot_id = TripState.OPEN, None
            if pod_cell is not None:
                rec.pickup = pod_cell
                self._pod_cell[rec.pod_id] = pod_cell
            del self._busy_pods[rec.pod_id]
            newer = self._open_by_pod.get(rec.pod_id)
            if newer is not None:
                other = self._trips.pop(newer)
                rec.lines.extend(other.lines)
                rec.priority = max(rec.priority, other.priority)
            self._open_by_pod[rec.pod_id] = rec.id
            back.append(rec.id)
        return back

    def picked(self, trip_id: TripId, now: Instant, book: OrderBook, inventory: Inventory) -> list[str]:
        """The station picked every line of the trip; returns the orders now fully picked."""
        rec = self._trips[trip_id]
        if rec.state is not TripState.ASSIGNED:
            raise ValueError(f"trip {trip_id} is not at a station ({rec.state.value})")
        rec.state = TripState.PICKED
        done: list[str] = []
        for ln in rec.lines:
            inventory.consume(rec.pod_id, ln.sku, ln.quantity)
            key = (ln.order_id, ln.line_index)
            self._parts_left[key] -= 1
            if self._parts_left[key] == 0:
                self._lines_left[ln.order_id] -= 1
                if self._lines_left[ln.order_id] == 0:
                    book.advance(ln.order_id, OrderStatus.PICKED, now)
                    done.append(ln.order_id)
        return done

    def returned(self, trip_id: TripId, now: Instant) -> None:
        """The pod is back at its home cell; it may serve its next trip."""
        rec = self._trips[trip_id]
        if rec.state is not TripState.PICKED:
            raise ValueError(f"trip {trip_id} has not been picked ({rec.state.value})")
        rec.state = TripState.DONE
        del self._busy_pods[rec.pod_id]
        self._pod_cell.pop(rec.pod_id, None)
        newer = self._open_by_pod.get(rec.pod_id)
        if newer is not None:
            self._trips[newer].pickup = rec.home
        del self._trips[trip_id]

    def set_home(self, pod_id: str, cell: Cell) -> None:
        """The pod now lives at ``cell`` (slotting moved it); open trips fetch it from there."""
        trip_id = self._open_by_pod.get(pod_id)
        if trip_id is not None:
            rec = self._trips[trip_id]
            self._trips[trip_id] = replace(rec, pickup=cell, home=cell)

    def counts(self) -> dict[TripState, int]:
        """Trips per state (done trips are forgotten)."""
        out = {s: 0 for s in TripState}
        for rec in self._trips.values():
            out[rec.state] += 1
        return out
