"""The controller core's matching through the assignment port (controller/assignment/core_adapter.py).

Flow and greedy must be interchangeable behind the adapter, and where they differ the flow plan
must be the better one by the cost the flow model minimises (travel plus station queue minus trip
value; with one station and equal trips only the travel differs).
"""

from __future__ import annotations

from bus.clock import SIM_EPOCH, seconds
from controller.assignment.api import RobotView
from controller.assignment.core_adapter import CoreAssignment, restation, station_of
from controller.config import AssignmentConfig
from controller.execution.trips import Stop, Trip
from warehouse_maps.grid import Grid
from warehouse_maps.layout import Layout, Place, PlaceKind

# one corridor (row 1) under a row of pods, a station at the east end
ROWS = ["...........", "...........", "..........."]


def corridor() -> Layout:
    places = (
        Place("A", PlaceKind.STORAGE, (5, 0)),
        Place("B", PlaceKind.STORAGE, (3, 0)),
        Place("P1", PlaceKind.PICK_STATION, (10, 2)),
        Place("P2", PlaceKind.PICK_STATION, (0, 2)),
    )
    return Layout("corridor", Grid.from_rows(ROWS), places, 1.0, ())


def pod_trip(trip_id: str, cell, station="P1", station_cell=(10, 2)) -> Trip:
    return Trip(
        trip_id,
        (
            Stop(cell, "pick", (("podId", trip_id),)),
            Stop(station_cell, "wait", (("stationId", station), ("orderId", trip_id), ("lines", "0"))),
            Stop(cell, "drop", (("podId", trip_id),)),
        ),
        order_ids=(trip_id,),
    )


def plan(solver: str, robots, trips, now=SIM_EPOCH):
    core = CoreAssignment(corridor(), AssignmentConfig(solver=solver, station_candidates=1))
    return core, dict((t.trip_id, r) for r, t in core.match(now, robots, trips))


def travel(core: CoreAssignment, robots, pairs) -> int:
    at = {r.id: r.cell for r in robots}
    trips = {t: c for t, c in (("A", (5, 0)), ("B", (3, 0)))}
    return sum(core.travel.cells(at[r], trips[t]) for t, r in pairs.items())


def test_flow_beats_greedy_on_the_travel_it_minimises() -> None:
    # A (older) is 2 cells from r1 and 6 from r2; B is 2 from r1 and 8 from r2: greedy gives A the
    # nearest robot (r1) and leaves B to r2 (2 + 8 = 10 cells); the joint optimum is A->r2, B->r1
    # (6 + 2 = 8). Tails (pod -> station -> pod) and values do not depend on the robot.
    robots = [RobotView("r1", (4, 1)), RobotView("r2", (10, 1))]
    core_g = CoreAssignment(corridor(), AssignmentConfig(solver="greedy", station_candidates=1))
    a, b = pod_trip("A", (5, 0)), pod_trip("B", (3, 0))
    core_g.task_view(a, SIM_EPOCH)  # A waits longer than B: greedy serves it first
    greedy = {t.trip_id: r for r, t in core_g.match(SIM_EPOCH + seconds(10), robots, [a, b])}
    core_f = CoreAssignment(corridor(), AssignmentConfig(solver="flow", station_candidates=1))
    core_f.task_view(a, SIM_EPOCH)
    flow = {t.trip_id: r for r, t in core_f.match(SIM_EPOCH + seconds(10), robots, [a, b])}
    assert greedy == {"A": "r1", "B": "r2"}
    assert flow == {"A": "r2", "B": "r1"}
    assert travel(core_f, robots, flow) == 8 < travel(core_g, robots, greedy) == 10


def test_same_inputs_same_plan_and_trip_ages() -> None:
    robots = [RobotView(f"r{i}", (i, 1)) for i in range(4)]
    trips = [pod_trip("A", (5, 0)), pod_trip("B", (3, 0))]
    _, one = plan("flow", robots, trips)
    _, two = plan("flow", robots, trips)
    assert one == two
    assert set(one) == {"A", "B"}
    core = CoreAssignment(corridor(), AssignmentConfig())
    matched = core.match(SIM_EPOCH, robots, trips)
    # in flight, a trip keeps its age (a lost robot's trip goes back to the pool as the oldest)
    core.match(SIM_EPOCH + seconds(5), robots, [], [(t, 0) for _, t in matched])
    assert core.task_view(trips[0], SIM_EPOCH + seconds(9)).oldest == SIM_EPOCH
    core.match(SIM_EPOCH + seconds(10), robots, [], [])  # done: forgotten
    assert core.task_view(trips[0], SIM_EPOCH + seconds(11)).oldest == SIM_EPOCH + seconds(11)


def test_flow_may_move_a_trip_to_a_less_loaded_station() -> None:
    # the trip's default station P1 has five pods queued; P2 is idle: the flow model re-targets it
    core = CoreAssignment(corridor(), AssignmentConfig(solver="flow", station_candidates=2))
    queued = [(pod_trip(f"q{i}", (8, 0)), 0) for i in range(12)]
    [(robot, trip)] = core.match(SIM_EPOCH, [RobotView("r1", (4, 1))], [pod_trip("A", (5, 0))], queued)
    assert robot == "r1"
    assert station_of(trip) == (1, "P2")
    assert trip.stops[1].cell == (0, 2)
    assert trip.stops[0].cell == (5, 0)
    assert restation(trip, "P2", (0, 2)) is trip


def test_unavailable_and_unreachable_robots_get_nothing() -> None:
    robots = [RobotView("r1", (4, 1), available=False), RobotView("r2", (6, 1), battery_pct=1.0)]
    for solver in ("flow", "greedy"):
        _, got = plan(solver, robots, [pod_trip("A", (5, 0))])
        assert got == {}, solver
