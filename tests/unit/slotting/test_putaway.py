"""Put-away: a pod goes to the free storage place nearest its station, never onto an occupied one.

Floor (S pick station, P storage; P1..P8 numbered row by row)::

    S.........
    ..PP..PP..
    ..PP..PP..
    S.........
"""

from __future__ import annotations

import pytest

from controller.orders.inventory import Inventory, Pod
from controller.orders.model import Order, OrderLine
from controller.slotting.putaway import StoragePlaces
from controller.tasks.operations import Operations, OpsConfig
from tests.unit.orders.helpers import small_layout

ROWS = ["S.........", "..PP..PP..", "..PP..PP..", "S........."]
LAYOUT = small_layout(ROWS)
PLACES = {p.id: p.cell for p in LAYOUT.of_kind("storage")}
STATION = next(p.cell for p in LAYOUT.of_kind("pick_station"))  # (0, 0)


def _places(pods_at: dict[str, str]) -> StoragePlaces:
    return StoragePlaces(LAYOUT.grid, PLACES, pods_at, [STATION])


def test_nearest_free_place_to_the_station_and_the_old_one_freed_at_the_lift() -> None:
    places = _places({"far": "P4", "near": "P1"})  # P1 (2, 1) is the nearest place to S1
    assert places.claim_for("far", STATION, "nearest") == "P2"  # P1 is taken: the next nearest
    assert places.holder["P4"] == "far"  # still stands there until lifted
    assert places.cell_of("far") == PLACES["P4"]
    places.lifted("far")
    assert "P4" not in places.holder
    assert places.cell_of("far") == PLACES["P2"]


def test_a_claim_undone_before_the_lift_leaves_the_pod_where_it_is() -> None:
    places = _places({"a": "P8"})
    places.claim_for("a", STATION, "nearest")
    places.unclaim("a")
    assert places.place_of["a"] == "P8"
    assert places.holder == {"P8": "a"}


def test_home_rule_keeps_the_place_and_blocked_places_are_skipped() -> None:
    places = _places({"a": "P8"})
    assert places.claim_for("a", STATION, "home") == "P8"
    blocked = frozenset({PLACES["P1"]})
    assert places.claim_for("a", STATION, "nearest", blocked) == "P2"


def test_two_pods_on_one_place_are_refused() -> None:
    with pytest.raises(ValueError, match="one place"):
        _places({"a": "P1", "b": "P1"})


def test_pods_never_stored_on_an_occupied_place_over_many_trips() -> None:
    """Six pods on eight places, many visits interleaved: every claimed place was free."""
    cells = [PLACES[p] for p in ("P3", "P4", "P5", "P6", "P7", "P8")]
    pods = [Pod(f"POD{i}", c) for i, c in enumerate(cells)]
    inv = Inventory(pods, {p.id: {"A": 100, f"S{i}": 100} for i, p in enumerate(pods)})
    ops = Operations(LAYOUT, inv, OpsConfig(station_open_orders=4, robots_per_station=3))
    for k in range(40):
        ops.accept(Order(f"o{k}", (OrderLine("A", 1), OrderLine(f"S{k % 6}", 1))), 0)
    robots = [("r1", (0, 1)), ("r2", (9, 0)), ("r3", (5, 3))]
    for cycle in range(60):
        before = dict(ops.places.holder)
        started, _, _ = ops.plan(cycle, robots, frozenset(), lambda tid: False)
        for _, trip in started:
            pod = dict(trip.stops[2].parameters)["podId"]
            place = dict(trip.stops[2].parameters)["placeId"]
            assert before.get(place) in (None, pod), f"{place} held by {before.get(place)}"
        for tid in sorted(ops.visits):  # every visit moves on one stop per cycle
            v = ops.visits[tid]
            if not v.lifted:
                ops.lifted(tid)
            elif not v.picked:
                ops.picked(tid)
            else:
                ops.set_down(tid)
        assert len(ops.places.holder) == len(pods) + len(ops.places.leaving)
    assert ops.counters["station_visits"] > 10
    near = {p for p, pod in ops.places.holder.items() if pod}
    assert "P1" in near  # the popular pods drifted next to the stations
