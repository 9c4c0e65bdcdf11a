"""Both assigners: constraints (busy, unavailable, battery), one robot per trip, and what the
OR-Tools model optimises that the greedy baseline does not (batching, station balancing, travel).

The floor (tests/unit/orders/helpers.py)::

    S.........      S1 at (0, 0), S2 at (0, 3); pods P at x = 2, 3, 6, 7; charger C at (9, 2)
    ..PP..PP..
    ..PP..PP.C
    S.........
"""

from __future__ import annotations

import numpy as np
import pytest

from bus.clock import SIM_EPOCH, Instant, seconds
from controller.assignment import (
    AssignmentKind,
    BatteryPolicy,
    FlowAssigner,
    FlowConfig,
    GreedyAssigner,
    RobotView,
    StationView,
    TravelTimes,
)
from controller.tasks.trips import Trip, TripKind, TripLine, TripState
from tests.unit.orders.helpers import small_layout

T0 = SIM_EPOCH
LAYOUT = small_layout()
PLACES = {p.id: p.cell for p in LAYOUT.of_kind("pick_station")}
CHARGERS = tuple((p.id, p.cell) for p in LAYOUT.of_kind("charger"))


def _trip(tid: str, pod: tuple[int, int], lines: int = 1, station: str = "S1", age_s: float = 0.0) -> Trip:
    born = Instant(T0 - seconds(age_s))
    return Trip(tid, TripKind.POD, f"POD-{tid}", pod, station,
                tuple(TripLine(f"O-{tid}-{i}", 0, "SKU", 1) for i in range(lines)),
                TripState.OPEN, born, born, 0, pod)


def _assigners(battery: BatteryPolicy | None = None):
    return [GreedyAssigner(PLACES, battery), FlowAssigner(PLACES, list(PLACES), battery=battery)]


@pytest.fixture(scope="module")
def dist() -> TravelTimes:
    return TravelTimes(LAYOUT.grid)


@pytest.mark.parametrize("which", [0, 1], ids=["greedy", "flow"])
def test_busy_and_unavailable_robots_keep_out_and_nothing_is_assigned_twice(which, dist) -> None:
    robots = [RobotView("r1", (1, 0)), RobotView("r2", (1, 3), busy_trip_id="T9"),
              RobotView("r3", (5, 0), available=False), RobotView("r4", (8, 3))]
    trips = [_trip("T1", (2, 1)), _trip("T2", (7, 2)), _trip("T3", (6, 1))]
    plan = _assigners()[which].assign(T0, robots, trips, dist)
    assert sorted(a.robot_id for a in plan) == ["r1", "r4"]
    assert len({a.trip_id for a in plan}) == 2
    assert all(a.kind is AssignmentKind.TRIP for a in plan)


@pytest.mark.parametrize("which", [0, 1], ids=["greedy", "flow"])
def test_low_battery_goes_to_charge_and_no_trip_beyond_the_battery(which, dist) -> None:
    battery = BatteryPolicy(charge_below_pct=20, reserve_pct=10, pct_per_cell=1.2, chargers=CHARGERS)
    robots = [RobotView("low", (8, 0), battery_pct=15), RobotView("weak", (9, 0), battery_pct=25),
              RobotView("full", (9, 3), battery_pct=100)]
    # 8 cells to the pod, 6 via S1 and back: 14 x 1.2 % leaves "weak" under 10 %
    trips = [_trip("T1", (2, 1))]
    plan = _assigners(battery)[which].assign(T0, robots, trips, dist)
    by_robot = {a.robot_id: a for a in plan}
    assert by_robot["low"].kind is AssignmentKind.CHARGE
    assert by_robot["low"].station_id == "C1"
    assert "weak" not in by_robot
    assert by_robot["full"].trip_id == "T1"


def test_greedy_serves_the_oldest_trip_first_with_the_nearest_robot(dist) -> None:
    robots = [RobotView("near", (8, 1)), RobotView("far", (0, 1))]
    trips = [_trip("NEW", (7, 1)), _trip("OLD", (6, 2), age_s=100)]
    plan = GreedyAssigner(PLACES).assign(T0, robots[:1], trips, dist)
    assert [(a.robot_id, a.trip_id) for a in plan] == [("near", "OLD")]


def test_flow_prefers_the_pod_visit_that_serves_more_lines(dist) -> None:
    robots = [RobotView("r1", (5, 0))]
    trips = [_trip("ONE", (3, 1), lines=1, age_s=50), _trip("FIVE", (6, 1), lines=5)]
    (a,) = FlowAssigner(PLACES, list(PLACES)).assign(T0, robots, trips, dist)
    assert a.trip_id == "FIVE"
    (g,) = GreedyAssigner(PLACES).assign(T0, robots, trips, dist)
    assert g.trip_id == "ONE"  # first come, first served


def test_flow_spreads_pods_over_stations_when_one_queue_is_long(dist) -> None:
    robots = [RobotView(f"r{i}", (5, 0)) for i in range(4)]
    trips = [_trip(f"T{i}", cell) for i, cell in enumerate([(2, 1), (3, 1), (6, 1), (7, 1)])]
    stations = [StationView("S1", PLACES["S1"], Instant(T0 + seconds(600))), StationView("S2", PLACES["S2"])]
    plan = FlowAssigner(PLACES, list(PLACES)).assign(T0, robots, trips, dist, stations)
    assert len(plan) == 4
    assert {a.station_id for a in plan} == {"S2"}  # S1 has ten minutes of work queued
    free = FlowAssigner(PLACES, list(PLACES)).assign(T0, robots, trips, dist)
    assert {a.station_id for a in free} == {"S1", "S2"}  # both idle: feed both, though S1 is nearer
    greedy = GreedyAssigner(PLACES).assign(T0, robots, trips, dist)
    assert {a.station_id for a in greedy} == {"S1"}  # row 1 pods are nearest S1


def test_flow_travels_less_than_greedy_and_is_deterministic(dist) -> None:
    rng = np.random.default_rng(5)
    free = LAYOUT.grid.free_cells
    storage = LAYOUT.cells_of("storage")
    robots = [RobotView(f"r{i}", free[int(rng.integers(len(free)))]) for i in range(6)]
    trips = [_trip(f"T{i}", storage[i], age_s=float(rng.integers(0, 100))) for i in range(8)]
    flow = FlowAssigner(PLACES, list(PLACES))
    plan = flow.assign(T0, robots, trips, dist)
    again = FlowAssigner(PLACES, list(PLACES)).assign(T0, list(reversed(robots)), list(reversed(trips)), dist)
    assert sorted(plan, key=lambda a: a.robot_id) == sorted(again, key=lambda a: a.robot_id)
    greedy = GreedyAssigner(PLACES).assign(T0, robots, trips, dist)
    assert len(plan) == len(greedy) == 6
    assert sum(a.cost_s for a in plan) <= sum(a.cost_s for a in greedy)


def test_parcel_trips_keep_their_chute(dist) -> None:
    places = {**PLACES, "CH1": (9, 0)}
    trip = Trip("R1", TripKind.PARCEL, None, (5, 3), "CH1", (), TripState.OPEN, T0, T0, parcel_id="P1")
    (a,) = FlowAssigner(places, list(PLACES)).assign(T0, [RobotView("r1", (0, 1))], [trip], dist)
    assert (a.trip_id, a.station_id) == ("R1", "CH1")
    assert a.cost_s == pytest.approx(dist.cells((0, 1), (5, 3)) + dist.cells((5, 3), (9, 0)))


def test_flow_hold_keeps_robots_back_when_every_station_queue_is_long(dist) -> None:
    robots = [RobotView("r1", (5, 0))]
    trips = [_trip("T1", (7, 2))]
    busy = [StationView(s, c, Instant(T0 + seconds(900))) for s, c in PLACES.items()]
    held = FlowAssigner(PLACES, list(PLACES), FlowConfig(hold_s=120.0)).assign(T0, robots, trips, dist, busy)
    assert held == []  # 15 minutes of queue everywhere: the pod would only wait; let it gather lines
    quiet = [StationView(s, c) for s, c in PLACES.items()]
    sent = FlowAssigner(PLACES, list(PLACES), FlowConfig(hold_s=120.0)).assign(T0, robots, trips, dist, quiet)
    assert [a.trip_id for a in sent] == ["T1"]
    default = FlowAssigner(PLACES, list(PLACES)).assign(T0, robots, trips, dist, busy)
    assert [a.trip_id for a in default] == ["T1"]  # without hold every idle robot is sent
