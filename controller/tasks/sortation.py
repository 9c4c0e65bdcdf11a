"""Robotic-sortation trips: a robot carries one parcel from an induct station to its chute.

In robotic sortation (the second mode of the operation) robots replace the conveyor sorter: a
parcel is put on a robot at an induct, the robot drives to the drop cell of the destination chute
and tips it in. Each parcel is one :class:`Trip` of kind ``parcel`` with the induct cell as pickup
and the chute id as (fixed) station, so the same assigners plan both modes.

Parcels come either directly (:meth:`SortationTripBuilder.add_parcel`, e.g. from a scanner) or
from picked orders (:meth:`SortationTripBuilder.from_orders`): one parcel per packed order, to
the chute named by its destination; an order whose destination is no chute fails with a reason.
"""

from __future__ import annotations

from dataclasses import replace

from bus.clock import Instant
from controller.orders.book import OrderBook
from controller.orders.model import OrderStatus
from controller.tasks.trips import Trip, TripId, TripKind, TripState
from warehouse_maps.grid import Cell
from warehouse_maps.layout import Layout, PlaceKind


class SortationTripBuilder:
    """The pool of parcel trips.

    Args:
        layout: needs induct and chute places.
    """

    def __init__(self, layout: Layout) -> None:
        self._inducts = {p.id: p.cell for p in layout.of_kind(PlaceKind.INDUCT)}
        self._chutes = {p.id: p.cell for p in layout.of_kind(PlaceKind.CHUTE)}
        if not self._inducts or not self._chutes:
            raise ValueError(f"layout {layout.name} needs inducts and chutes for robotic sortation")
        self._trips: dict[TripId, Trip] = {}
        self._order_of: dict[TripId, str] = {}
        self._load: dict[str, int] = {i: 0 for i in self._inducts}
        self._seen_orders: set[str] = set()
        self._next = 1

    def add_parcel(self, parcel_id: str, induct_id: str, chute_id: str, now: Instant,
                   priority: int = 0) -> Trip:
        """Open a trip for a parcel waiting at ``induct_id`` bound for ``chute_id``."""
        if induct_id not in self._inducts:
            raise KeyError(f"unknown induct {induct_id!r}")
        if chute_id not in self._chutes:
            raise KeyError(f"unknown chute {chute_id!r}")
        trip = Trip(f"R{self._next:06d}", TripKind.PARCEL, None, self._inducts[induct_id], chute_id, (),
                    TripState.OPEN, now, now, priority, None, None, parcel_id)
        self._next += 1
        self._load[induct_id] += 1
        self._trips[trip.id] = trip
        return trip

    def from_orders(self, now: Instant, book: OrderBook) -> list[Trip]:
        """One parcel trip per newly picked order, at the least-loaded induct (ties: id order)."""
        made = []
        for order in list(book.in_status(OrderStatus.PICKED)):
            if order.id in self._seen_orders:
                continue
            self._seen_orders.add(order.id)
            if order.destination not in self._chutes:
                book.advance(order.id, OrderStatus.FAILED, now,
                             reason=f"destination {order.destination!r} is not a chute of this layout")
                continue
            induct = min(self._inducts, key=lambda i: (self._load[i], i))
            trip = self.add_parcel(f"PARCEL-{order.id}", induct, order.destination, now, order.priority)
            self._order_of[trip.id] = order.id
            made.append(trip)
        return made

    def open_trips(self) -> list[Trip]:
        """Parcel trips waiting for a robot, in id order."""
        return [t for t in self._trips.values() if t.state is TripState.OPEN]

    def dispatch(self, trip_id: TripId, robot_id: str) -> Trip:
        """A robot takes the parcel trip."""
        trip = self._trips[trip_id]
        if trip.state is not TripState.OPEN:
            raise ValueError(f"trip {trip_id} is not open ({trip.state.value})")
        self._trips[trip_id] = trip = replace(trip, state=TripState.ASSIGNED, robot_id=robot_id)
        return trip

    def loaded(self, trip_id: TripId, now: Instant, book: OrderBook) -> None:
        """The parcel is on the robot: its order is inducted."""
        order_id = self._order_of.get(trip_id)
        if order_id is not None and book.status(order_id) is OrderStatus.PICKED:
            book.advance(order_id, OrderStatus.INDUCTED, now)

    def dropped(self, trip_id: TripId, now: Instant, book: OrderBook) -> None:
        """The parcel fell into its chute: the order is sorted and the trip done."""
        trip = self._trips.pop(trip_id)
        if trip.state is not TripState.ASSIGNED:
            raise ValueError(f"trip {trip_id} was not under way ({trip.state.value})")
        order_id = self._order_of.pop(trip_id, None)
        if order_id is not None:
            if book.status(order_id) is OrderStatus.PICKED:
                book.advance(order_id, OrderStatus.INDUCTED, now)
            book.advance(order_id, OrderStatus.SORTED, now)

    def robot_failed(self, robot_id: str, parcel_cell: Cell | None = None) -> list[TripId]:
        """The failed robot's parcel trip goes back to the pool (picked up where it was left)."""
        back = []
        for trip_id, trip in sorted(self._trips.items()):
            if trip.robot_id == robot_id and trip.state is TripState.ASSIGNED:
                pickup = parcel_cell if parcel_cell is not None else trip.pod_home
                self._trips[trip_id] = replace(trip, state=TripState.OPEN, robot_id=None, pod_home=pickup)
                back.append(trip_id)
        return back
