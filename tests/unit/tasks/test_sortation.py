"""Robotic sortation: one parcel trip per picked order, from an induct to its chute."""

from __future__ import annotations

import pytest

from bus.clock import SIM_EPOCH
from controller.assignment import FlowAssigner, RobotView, TravelTimes
from controller.orders import Inventory, Order, OrderBook, OrderLine, OrderStatus, Pod
from controller.tasks.sortation import SortationTripBuilder
from controller.tasks.trips import TripKind, TripState
from tests.unit.orders.helpers import small_layout

T0 = SIM_EPOCH
ROWS = [  # I = induct, H = chute drop cell
    "I....H",
    "......",
    "I....H",
]


def _setup():
    layout = small_layout(ROWS)
    inv = Inventory([Pod("POD1", (2, 1))], {"POD1": {"SKU-1": 10}})
    book = OrderBook(inv)
    for oid, dest in (("O1", "CH1"), ("O2", "CH2"), ("O3", "CH9")):
        book.submit(Order(oid, (OrderLine("SKU-1", 1),), dest), T0)
        for status in (OrderStatus.ALLOCATED, OrderStatus.PICKING, OrderStatus.PICKED):
            book.advance(oid, status, T0)
    return layout, book, SortationTripBuilder(layout)


def test_picked_orders_become_parcel_trips_and_unknown_chutes_fail() -> None:
    layout, book, sort = _setup()
    trips = sort.from_orders(T0, book)
    assert [(t.kind, t.station_id, t.parcel_id) for t in trips] == [
        (TripKind.PARCEL, "CH1", "PARCEL-O1"), (TripKind.PARCEL, "CH2", "PARCEL-O2")]
    assert {t.pod_home for t in trips} == {(0, 0), (0, 2)}  # spread over both inducts
    assert book.status("O3") is OrderStatus.FAILED
    assert "CH9" in book.reason("O3")
    assert sort.from_orders(T0, book) == []  # never twice


def test_parcel_trip_life_and_failure_return() -> None:
    layout, book, sort = _setup()
    sort.from_orders(T0, book)
    places = {p.id: p.cell for p in layout.places}
    plan = FlowAssigner(places, []).assign(T0, [RobotView("r1", (2, 1))], sort.open_trips(),
                                           TravelTimes(layout.grid))
    (a,) = plan
    sort.dispatch(a.trip_id, "r1")
    sort.loaded(a.trip_id, T0, book)
    assert sort.robot_failed("r1", parcel_cell=(3, 1)) == [a.trip_id]
    (back,) = [t for t in sort.open_trips() if t.id == a.trip_id]
    assert back.pod_home == (3, 1)
    assert back.state is TripState.OPEN
    sort.dispatch(a.trip_id, "r2")
    sort.dropped(a.trip_id, T0, book)
    order_id = back.parcel_id.removeprefix("PARCEL-")
    assert book.status(order_id) is OrderStatus.SORTED
    with pytest.raises(KeyError):
        sort.dropped(a.trip_id, T0, book)
