"""The operations' rules on a drawn floor: a pod serving two open lines is preferred, a line joins a
pod already on its way (the station stop lasts longer), orders are released to a bounded number
of station slots, and the greedy rule sends each pod back to its own place.

Floor (S pick station, P storage; P1..P8 row by row)::

    S.........
    ..PP..PP..
    ..PP..PP..
    S.........
"""

from __future__ import annotations

from controller.orders.inventory import Inventory, Pod
from controller.orders.model import Order, OrderLine
from controller.tasks.operations import Operations, OpsConfig
from tests.unit.orders.helpers import small_layout

LAYOUT = small_layout(["S.........", "..PP..PP..", "..PP..PP..", "S........."])
PLACES = {p.id: p.cell for p in LAYOUT.of_kind("storage")}


def _ops(stock: dict[str, dict[str, int]], **cfg) -> Operations:
    pods = [Pod(pod, PLACES[place]) for pod, place in (("near", "P1"), ("both", "P8"), ("far", "P4"))]
    return Operations(LAYOUT, Inventory(pods, stock), OpsConfig(**cfg))


def _order(oid: str, *skus: str) -> Order:
    return Order(oid, tuple(OrderLine(s, 1) for s in skus))


def _param(trip, stop: int, key: str):
    return dict(trip.stops[stop].parameters)[key]


def test_the_pod_serving_most_open_lines_wins_over_the_nearest() -> None:
    ops = _ops({"near": {"A": 5}, "both": {"A": 5, "B": 5}, "far": {"B": 5}}, station_open_orders=1)
    ops.accept(_order("o1", "A", "B"), 0)
    (robot, trip), = ops.plan(0, [("r1", (0, 1))], frozenset(), lambda tid: False)[0]
    assert _param(trip, 0, "podId") == "both"
    assert _param(trip, 1, "lines") == "o1:0,o1:1"
    assert _param(trip, 1, "duration") == 10.0  # two lines x 5 s


def test_a_line_joins_a_pod_on_its_way_while_the_station_is_not_planned() -> None:
    ops = _ops({"near": {"A": 5}, "both": {"A": 5, "B": 5}, "far": {"C": 5}})
    ops.accept(_order("o1", "B"), 0)
    (_, trip), = ops.plan(0, [("r1", (0, 1))], frozenset(), lambda tid: False)[0]
    assert _param(trip, 0, "podId") == "both"
    ops.accept(_order("o2", "A"), 1)
    # the robot's plan already reached the station: the line waits for another pod
    assert ops.plan(1, [], frozenset(), lambda tid: False)[1] == []
    _, amended, touched = ops.plan(2, [], frozenset(), lambda tid: True)
    (new,) = amended
    assert new.trip_id == trip.trip_id
    assert _param(new, 1, "lines") == "o1:0,o2:0"
    assert _param(new, 1, "duration") == 10.0
    assert touched == {"o2"}
    assert ops.inventory.free("both", "A") == 4


def test_stations_hold_a_bounded_number_of_open_orders() -> None:
    ops = _ops({"near": {"A": 50}, "both": {"A": 50}, "far": {"A": 50}}, station_open_orders=2)
    for k in range(7):
        ops.accept(_order(f"o{k}", "A"), 0)
    ops.plan(0, [], frozenset(), lambda tid: False)
    assert [len(ops.open_at(s)) for s in sorted(ops.stations)] == [2, 2]
    assert list(ops.backlog) == ["o4", "o5", "o6"]


def test_greedy_sends_the_pod_home_and_pileon_near_the_station() -> None:
    for rule, expect_home in (("greedy", True), ("pileon", False)):
        ops = _ops({"near": {"A": 5}, "both": {"B": 5}, "far": {"C": 5}}, rule=rule)
        ops.accept(_order("o1", "C"), 0)
        (_, trip), = ops.plan(0, [("r1", (9, 0))], frozenset(), lambda tid: False)[0]
        assert _param(trip, 0, "podId") == "far"
        home = _param(trip, 2, "placeId") == "P4"
        assert home is expect_home, rule
