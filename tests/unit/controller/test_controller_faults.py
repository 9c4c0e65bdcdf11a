"""Controller under faults: message loss, a vehicle going offline or FATAL mid-trip, rejected
orders, stale headers, positions off the plan, late vehicles, and bad WMS orders."""

from __future__ import annotations

import json

import numpy as np

from bus.clock import seconds
from bus.faults import FaultRule
from bus.inproc import InProcBroker
from tests.unit.controller.test_controller_orders import final_status, make, order, submit


def complete(loop, statuses, ids) -> bool:
    loop.wms.dispatch()
    return all(final_status(statuses, i) == "complete" for i in ids)


def test_resend_until_acknowledged_under_30_percent_loss() -> None:
    rules = [FaultRule(f"uagv/v2/+/+/{k}", loss_p=0.3) for k in ("order", "instantActions", "state")]
    broker = InProcBroker(np.random.default_rng(7), rules)
    loop, statuses = make(2, broker=broker)
    ids = [f"o{i}" for i in range(4)]
    for i, sku in enumerate(["S1", "S2", "S3", "S2"]):
        submit(loop, order(ids[i], sku))
    assert loop.run_until(lambda: complete(loop, statuses, ids), 900), loop.controller.order_counts()
    assert loop.controller.executor.outbox.resend.resent > 0
    assert broker.counters.lost > 0
    assert loop.collisions == 0
    assert [s["orderId"] for s in statuses if s["status"] == "complete"].count("o3") == 1


def test_vehicle_offline_mid_trip_returns_trip_and_comes_back() -> None:
    loop, statuses = make(2)
    submit(loop, order("o1", "S3"))
    ctl = loop.controller
    assert loop.run_until(lambda: bool(ctl.dispatch.trip_robot), 30)
    serial = next(iter(ctl.dispatch.trip_robot.values()))
    # on its way to the pod, its connection drops (the broker publishes its will)
    loop.step()
    loop.vt[serial].close(clean=False)
    other = next(s for s in loop.vehicles if s != serial)
    # its lines went on a new trip
    assert loop.run_until(lambda: other in ctl.dispatch.trip_robot.values(), 30)
    assert ctl.supervisor.is_lost(serial)
    assert ctl.counters["lost_connectionbroken"] == 1
    assert loop.run_until(lambda: complete(loop, statuses, ["o1"]), 300)
    assert [s["status"] for s in statuses].count("complete") == 1
    # the vehicle reconnects where it stood: it is resynchronised with a new order
    v = loop.vehicles[serial]
    t = loop.broker.client(serial)
    t.connect(will=v.will())
    t.subscribe(f"uagv/v2/bulletyard/{serial}/order")
    t.subscribe(f"uagv/v2/bulletyard/{serial}/instantActions")
    loop.vt[serial] = t
    for e in v.on_connect(loop.now):
        t.publish(e.topic, e.payload, e.qos, e.retain)
    assert loop.run_until(lambda: ctl.counters["resynced"] == 1, 30)
    assert not ctl.supervisor.is_lost(serial)
    assert ctl.executor.robots[serial].stream.order_number == 2
    submit(loop, order("o2", "S1"))
    submit(loop, order("o3", "S2"))
    assert loop.run_until(lambda: complete(loop, statuses, ["o2", "o3"]), 400)
    assert loop.collisions == 0


def test_fatal_error_loses_the_vehicle_and_others_finish() -> None:
    loop, statuses = make(2)
    submit(loop, order("o1", "S3"))
    ctl = loop.controller
    assert loop.run_until(lambda: bool(ctl.dispatch.trip_robot), 30)
    serial = next(iter(ctl.dispatch.trip_robot.values()))
    loop.vehicles[serial].fatal = True
    loop.vehicles[serial]._dirty = True
    assert loop.run_until(lambda: ctl.supervisor.is_lost(serial), 30)
    assert ctl.counters["lost_fatal"] == 1
    assert loop.run_until(lambda: complete(loop, statuses, ["o1"]), 300)
    assert loop.collisions == 0


def test_rejected_order_is_resynchronised() -> None:
    loop, statuses = make(1)
    ctl = loop.controller
    submit(loop, order("o1", "S2"))
    loop.run_until(lambda: bool(ctl.dispatch.trip_robot), 30)
    v = loop.vehicles["agv-0001"]
    v.reject_next = True
    assert loop.run_until(lambda: ctl.counters["vehicle_rejections"] == 1, 10)
    assert loop.run_until(lambda: complete(loop, statuses, ["o1"]), 300)
    assert ctl.executor.robots["agv-0001"].stream.order_number == 2


def test_stale_state_header_is_dropped() -> None:
    loop, _ = make(1)
    loop.run_until(lambda: "agv-0001" in loop.controller.executor.robots, 5)
    v = loop.vehicles["agv-0001"]
    stale = json.loads(v.state(loop.now).payload)
    stale["headerId"] = 0
    before = loop.controller.counters["state_stale"]
    loop.controller.handle(loop.now, type(v.state(loop.now))(v.topic("state"), json.dumps(stale).encode()))
    assert loop.controller.counters["state_stale"] == before + 1


def test_position_off_plan_is_handled() -> None:
    loop, statuses = make(2)
    ctl = loop.controller
    loop.run_until(lambda: len(ctl.executor.robots) == 2, 5)
    v = loop.vehicles["agv-0001"]
    v.position_m = (4.5, -0.5)  # teleported to (4, 0)
    v._dirty = True
    assert loop.run_until(lambda: ctl.supervisor.is_lost("agv-0001"), 5)
    assert ctl.counters["off_plan"] == 1
    assert (4, 0) in ctl.executor.blocked_cells()
    submit(loop, order("o1", "S1"))
    assert loop.run_until(lambda: complete(loop, statuses, ["o1"]), 300)


def test_late_vehicles_wait_but_never_collide() -> None:
    loop, statuses = make(3)
    rng = np.random.default_rng(3)
    ids = [f"o{i}" for i in range(6)]
    for i in range(6):
        submit(loop, order(ids[i], ["S1", "S2", "S3"][i % 3]))

    def done() -> bool:
        for v in loop.vehicles.values():
            if rng.random() < 0.05:
                v.delay_until = loop.now + seconds(float(rng.uniform(1, 15)))
        return complete(loop, statuses, ids)

    assert loop.run_until(done, 1500), loop.controller.order_counts()
    assert loop.collisions == 0


def test_bad_orders_are_refused_with_a_reason() -> None:
    loop, statuses = make(1)
    submit(loop, b"{not json")
    header = {"headerId": 0, "timestamp": "2026-11-11T00:00:00.000Z", "version": "1.0.0"}
    submit(loop, json.dumps({"orderId": "m1", "lines": []}).encode())
    submit(loop, json.dumps({**header, "orderId": "m2", "lines": [{"sku": "S1", "quantity": 0}]}).encode())
    submit(loop, order("ok", "S1"))
    submit(loop, order("ok", "S2"))
    submit(loop, order("bad-sku", "NOPE"))
    loop.step()
    loop.wms.dispatch()
    refused = {s["orderId"]: s["reason"] for s in statuses if s["status"] == "refused"}
    assert refused[""].startswith("malformed: message: Invalid JSON")
    assert refused["m1"].startswith("malformed: headerId: Field required; timestamp: Field required; lines:")
    assert refused["m2"] == "malformed: lines.0.quantity: Input should be greater than or equal to 1"
    assert refused["ok"].startswith("duplicate")
    assert refused["bad-sku"] == "impossible: lines[0].sku 'NOPE' is not stocked"
    assert [s["status"] for s in statuses if s["orderId"] == "ok"][:2] == ["received", "refused"]
    # the duplicate changed nothing
    assert loop.controller.ledger.orders["ok"].status in ("received", "allocated")


def test_garbage_vehicle_messages_never_crash() -> None:
    loop, _ = make(1)
    ctl = loop.controller
    env = type(loop.vehicles["agv-0001"].state(loop.now))
    for topic, payload in [
        ("uagv/v2/bulletyard/agv-0009/state", b"\xff\xfe"),
        ("uagv/v2/bulletyard/agv-0009/state", b"[]"),
        ("uagv/v2/bulletyard/agv-0009/state", json.dumps({"headerId": 1}).encode()),
        ("uagv/v2/bulletyard/agv-0009/connection", json.dumps({"connectionState": "SLEEPY"}).encode()),
        ("uagv/v2/bulletyard/bad topic/state", b"{}"),
        ("uagv/v2/bulletyard/agv-0009/state", b"x" * (2 << 20)),
    ]:
        assert ctl.handle(loop.now, env(topic, payload)) == []
    assert ctl.counters["rejected"] == 6


def test_regress_idle_robot_is_not_lost_when_work_is_released_after_a_long_wait() -> None:
    """A robot parked longer than the no-progress timeout used to be declared lost the moment
    work was released to it (its progress clock dated from its last move)."""
    loop, statuses = make(2)
    ctl = loop.controller
    idle_s = ctl.config.fleet.no_progress_timeout_s * 2
    assert not loop.run_until(lambda: False, idle_s)  # nothing to do for twice the timeout
    submit(loop, order("o1", "S3"))
    assert loop.run_until(lambda: complete(loop, statuses, ["o1"]), 600)
    assert not any(k.startswith("lost_") for k in ctl.counters), dict(ctl.counters)
