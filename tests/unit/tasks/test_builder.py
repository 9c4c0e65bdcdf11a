"""Task building: batching several orders onto one pod visit, failure returns, no duplicates."""

from __future__ import annotations

from bus.clock import SIM_EPOCH
from controller.orders import Order, OrderBook, OrderLine, OrderStatus
from controller.tasks.builder import TaskBuilder
from controller.tasks.trips import TripState
from tests.unit.orders.helpers import small_inventory, small_layout

T0 = SIM_EPOCH


def _setup():
    layout = small_layout()
    inv = small_inventory(layout)
    return layout, inv, OrderBook(inv), TaskBuilder(layout)


def _order(oid: str, *lines: tuple[str, int]) -> Order:
    return Order(oid, tuple(OrderLine(s, q) for s, q in lines), "CH001", created=T0)


def test_one_pod_visit_serves_lines_of_several_orders() -> None:
    layout, inv, book, builder = _setup()
    for oid in ("O1", "O2", "O3"):
        assert book.submit(_order(oid, ("SKU-3", 1)), T0)
    trips = builder.build(T0, book, inv, layout)
    assert len(trips) == 1
    assert trips[0].pod_id == "POD3"
    assert trips[0].order_ids == ("O1", "O2", "O3")
    assert trips[0].n_lines == 3
    assert all(book.status(o) is OrderStatus.ALLOCATED for o in ("O1", "O2", "O3"))
    assert inv.free("POD3", "SKU-3") == 7


def test_lines_of_one_order_go_to_the_pods_that_hold_them() -> None:
    layout, inv, book, builder = _setup()
    book.submit(_order("O1", ("SKU-1", 1), ("SKU-5", 2)), T0)
    trips = builder.build(T0, book, inv, layout)
    assert sorted(t.pod_id for t in trips) == ["POD1", "POD5"]


def test_a_line_larger_than_any_one_pod_is_split_and_picked_once() -> None:
    layout, inv, book, builder = _setup()
    book.submit(_order("O1", ("SKU-A", 8)), T0)  # POD1 and POD2 hold 5 each
    trips = builder.build(T0, book, inv, layout)
    assert sorted((t.pod_id, t.lines[0].quantity) for t in trips) in (
        [("POD1", 5), ("POD2", 3)], [("POD1", 3), ("POD2", 5)])
    builder.dispatch(trips[0].id, "r1", trips[0].station_id, T0, book)
    assert builder.picked(trips[0].id, T0, book, inv) == []
    assert book.status("O1") is OrderStatus.PICKING
    builder.dispatch(trips[1].id, "r2", trips[1].station_id, T0, book)
    assert builder.picked(trips[1].id, T0, book, inv) == ["O1"]
    assert book.status("O1") is OrderStatus.PICKED


def test_robot_failing_mid_trip_returns_the_trip_without_loss_or_duplicates() -> None:
    layout, inv, book, builder = _setup()
    book.submit(_order("O1", ("SKU-3", 1)), T0)
    (trip,) = builder.build(T0, book, inv, layout)
    builder.dispatch(trip.id, "r1", trip.station_id, T0, book)
    assert builder.build(T0, book, inv, layout) == []  # the pod is away: nothing to hand out
    book.submit(_order("O2", ("SKU-3", 2)), T0)  # a new line for the same pod while it travels
    assert builder.build(T0, book, inv, layout) == []
    assert builder.robot_failed("r1", T0, pod_cell=(5, 0)) == [trip.id]
    (again,) = builder.build(T0, book, inv, layout)
    assert again.id == trip.id
    assert again.pod_home == (5, 0)
    assert again.state is TripState.OPEN
    assert sorted((ln.order_id, ln.line_index) for ln in again.lines) == [("O1", 0), ("O2", 0)]
    assert book.status("O1") is OrderStatus.PICKING
    assert book.status("O2") is OrderStatus.ALLOCATED
    builder.dispatch(again.id, "r2", again.station_id, T0, book)
    assert builder.picked(again.id, T0, book, inv) == ["O1", "O2"]
    assert inv.on_hand("POD3", "SKU-3") == 7
    builder.returned(again.id, T0)
    assert builder.counts()[TripState.OPEN] == 0


def test_trips_default_to_the_nearest_station() -> None:
    layout, inv, book, builder = _setup()
    book.submit(_order("O1", ("SKU-1", 1), ("SKU-8", 1)), T0)
    trips = {t.pod_id: t for t in builder.build(T0, book, inv, layout)}
    assert trips["POD1"].station_id == "S1"  # top row pods -> top station
    assert trips["POD8"].station_id == "S2"
