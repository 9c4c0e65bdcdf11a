"""Orders that can never be served end ``failed`` with a reason after ``blocked_trip_timeout_s``:
one whose pod's cell a dead robot blocks, one whose pod a dead robot carries, and one whose only
pick station a dead robot stands on. Orders that can be served still complete."""

from __future__ import annotations

from tests.unit.controller.fake_vehicle import FakeVehicle
from tests.unit.controller.test_controller_faults import complete
from tests.unit.controller.test_controller_orders import final_status, make, order, small_layout, submit


def reason_of(statuses: list[dict], order_id: str) -> str:
    return next(s["reason"] for s in statuses if s["orderId"] == order_id and s["status"] == "failed")


def status_is(loop, statuses: list[dict], order_id: str, status: str) -> bool:
    loop.wms.dispatch()
    return final_status(statuses, order_id) == status


def test_order_for_a_pod_under_a_dead_robot_fails_with_a_reason() -> None:
    loop, statuses = make(2, blocked_trip_timeout_s=60.0)
    ctl = loop.controller
    dead = FakeVehicle("agv-0003", small_layout().cell_centre_m((4, 0)))  # stands on S3's cell
    loop.add_vehicle(dead)
    assert loop.run_until(lambda: "agv-0003" in ctl.executor.robots, 30)
    dead.fatal = True
    dead._dirty = True
    assert loop.run_until(lambda: ctl.supervisor.is_lost("agv-0003"), 30)
    submit(loop, order("o1", "S3"))
    submit(loop, order("o2", "S1"))
    assert loop.run_until(lambda: complete(loop, statuses, ["o2"]), 300)
    assert final_status(statuses, "o1") == "received"  # waits while the timeout runs
    assert loop.run_until(lambda: status_is(loop, statuses, "o1", "failed"), 120)
    why = reason_of(statuses, "o1")
    assert "agv-0003" in why, why
    assert "(4, 0)" in why, why
    assert ctl.counters["orders_failed"] == 1
    assert not ctl.ops.orders  # the failed order left the operations
    assert not ctl.ops.visits
    assert loop.collisions == 0


def test_order_whose_pod_a_dead_robot_carries_fails_with_a_reason() -> None:
    loop, statuses = make(2, blocked_trip_timeout_s=60.0)
    ctl = loop.controller
    submit(loop, order("o1", "S3"))
    assert loop.run_until(lambda: status_is(loop, statuses, "o1", "picking"), 120)
    (trip_id, serial), = ctl.dispatch.trip_robot.items()
    loop.vehicles[serial].fatal = True
    loop.vehicles[serial]._dirty = True
    assert loop.run_until(lambda: ctl.supervisor.is_lost(serial), 30)
    assert loop.run_until(lambda: status_is(loop, statuses, "o1", "failed"), 120)
    why = reason_of(statuses, "o1")
    assert serial in why, why
    assert trip_id in why, why
    assert [s["status"] for s in statuses if s["orderId"] == "o1"].count("failed") == 1
    # the robot died on the only pick station's cell: a later order cannot be picked either,
    # and fails naming that cell and the robot
    submit(loop, order("o2", "S1"))
    assert loop.run_until(lambda: status_is(loop, statuses, "o2", "failed"), 180)
    why = reason_of(statuses, "o2")
    assert serial in why, why
    assert "(5, 2)" in why, why
