"""The controller drives vehicles it did not write: other VDA 5050 versions, manufacturers and
action sets (issue: vendor interoperability).

Each test runs the controller with its built-in defaults (any manufacturer, no fleet file unless
the test is about one) against strict vendor-style vehicles (:mod:`vendor_vehicle`) in lock step
on the in-process bus, and checks what reached the vehicles: the version each speaks, only the
actions its factsheet lists, unique action and edge ids, and messages valid against the official
schema of the vehicle's version.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from bus.clock import seconds
from bus.inproc import InProcBroker
from controller.config import ControllerConfig
from controller.core import Controller
from tests.unit.controller.fake_vehicle import FakeVehicle
from tests.unit.controller.harness import LockStep, with_wms
from tests.unit.controller.test_controller_orders import final_status, order, small_layout, submit
from tests.unit.controller.vendor_vehicle import VendorVehicle
from tests.unit.robots.vda_schemas import assert_valid_for


def run(vehicles, config: ControllerConfig | None = None):
    layout = small_layout()
    ctl = Controller(config or ControllerConfig(), layout, np.random.default_rng(0))
    broker = InProcBroker()
    loop = LockStep(broker, ctl, vehicles)
    statuses = with_wms(loop, broker)
    return ctl, loop, statuses


def complete(loop, statuses, ids, max_s: float = 600.0) -> bool:
    def done() -> bool:
        loop.wms.dispatch()
        return all(final_status(statuses, oid) == "complete" for oid in ids)

    return loop.run_until(done, max_s=max_s)


def at(layout_cell) -> tuple[float, float]:
    return small_layout().cell_centre_m(layout_cell)


def check_messages(v: VendorVehicle) -> None:
    """What the vehicle got: its version, valid against that version's schema, unique edge ids per
    order, only actions it lists."""
    for kind in ("order", "instantActions"):
        for msg in v.sent_to_me(kind):
            assert msg["version"] == v.version
            assert msg["manufacturer"] == v.manufacturer
            assert_valid_for(v.version, kind, msg)
            if v.version == "2.0.0" and kind == "instantActions":  # both names of the 2.0 erratum
                assert msg["instantActions"] == msg["actions"]
                assert all(a["actionName"] == a["actionType"] for a in msg["actions"])
            if v.version == "2.0.0" and kind == "order":
                for n in msg["nodes"]:
                    p = n["nodePosition"]
                    assert p["allowedDeviationXy"] == p["allowedDeviationXY"]
    for msg in v.sent_to_me("order"):
        ids = [e["edgeId"] for e in msg["edges"]]
        assert len(ids) == len(set(ids)), f"edge ids repeat within one message: {ids}"
        for n in msg["nodes"]:
            for a in n["actions"]:
                if v.node_actions is not None:
                    assert a["actionType"] in v.node_actions, a
    by_id: dict[str, set] = {}
    for msg in v.sent_to_me("order"):
        for e in msg["edges"]:
            by_id.setdefault(f"{msg['orderId']}/{e['edgeId']}", set()).add(e["sequenceId"])
    assert all(len(seqs) == 1 for seqs in by_id.values()), "one edge id named two edges of an order"


def test_two_versions_and_two_manufacturers_in_one_run() -> None:
    acme = VendorVehicle("a-1", at((0, 2)), manufacturer="acme", version="2.0.0")
    ours = FakeVehicle("agv-0002", at((1, 2)))
    other = VendorVehicle("z-9", at((2, 2)), manufacturer="zeta", version="2.1.0",
                          node_actions=("pick", "drop", "wait"))
    ctl, loop, statuses = run([acme, ours, other])
    ids = [f"o{i}" for i in range(6)]
    for i, oid in enumerate(ids):
        submit(loop, order(oid, ["S1", "S2", "S3"][i % 3]))
    assert complete(loop, statuses, ids)
    assert set(ctl.executor.robots) == {"a-1", "agv-0002", "z-9"}
    for v in (acme, other):
        assert v.rejections == [], v.rejections
        asked = [a for m in v.sent_to_me("instantActions") for a in m["actions"]]
        assert any(a["actionType"] == "stateRequest" for a in asked), "its topics were never addressed"
        assert v.sent_to_me("order"), f"{v.serial} never got an order"
        check_messages(v)
    assert ctl.registry.vehicles["a-1"].profile.version == "2.0.0"
    assert ctl.registry.vehicles["z-9"].profile.version == "2.1.0"
    assert loop.collisions == 0
    assert ctl.robot_counts()["lost"] == 0


def test_vehicle_without_wait_is_held_at_the_station_by_the_controller() -> None:
    v = VendorVehicle("a-1", at((0, 2)), node_actions=("pick", "drop"))
    config = ControllerConfig(pick_time_s=7.0)
    ctl, loop, statuses = run([v], config)
    submit(loop, order("o1", "S3"))
    station = small_layout().cell_centre_m((5, 2))
    arrived = left = None
    for _ in range(4000):
        loop.step()
        here = v.position_m == station
        if here and arrived is None:
            arrived = loop.now
        if arrived is not None and not here and left is None:
            left = loop.now
        loop.wms.dispatch()
        if final_status(statuses, "o1") == "complete" and left is not None:  # complete once picked
            break
    assert final_status(statuses, "o1") == "complete"
    assert arrived is not None
    assert left is not None
    assert left - arrived >= seconds(7.0), "the vehicle left the station before the pick time"
    # the pod is set down after "complete"
    assert loop.run_until(lambda: not ctl.dispatch.trip_robot, max_s=120)
    types = {a["actionType"] for m in v.sent_to_me("order") for n in m["nodes"] for a in n["actions"]}
    assert types == {"pick", "drop"}
    picks = [a for m in v.sent_to_me("order") for n in m["nodes"] for a in n["actions"]]
    params = {p["key"] for a in picks for p in a["actionParameters"]}
    assert {"stationType", "loadType", "loadId"} <= params
    check_messages(v)


def test_no_order_to_cancel_counts_as_the_cancel_done() -> None:
    v = VendorVehicle("a-1", at((0, 2)))
    ctl, loop, statuses = run([v])
    loop.run_until(lambda: "a-1" in ctl.executor.robots, max_s=10)
    cancels = ctl.executor.resync.begin(loop.now, "a-1")
    loop._publish(loop.ctl_t, cancels)
    assert loop.run_until(lambda: ctl.executor.robots["a-1"].resync_action is None, max_s=30)
    assert v.cancels_answered_by_error == 1
    sent = [a for m in v.sent_to_me("instantActions") for a in m["actions"]
            if a["actionType"] == "cancelOrder"]
    assert len(sent) == 1, "the cancel was resent although the vehicle answered it"
    submit(loop, order("o1", "S1"))
    assert complete(loop, statuses, ["o1"])
    assert ctl.robot_counts()["lost"] == 0


def test_factsheet_without_pick_gets_no_pod_trip_and_says_why(caplog) -> None:
    lame = VendorVehicle("a-1", at((0, 2)), node_actions=("drop",))
    ctl, loop, statuses = run([lame], ControllerConfig())
    with caplog.at_level(logging.WARNING, logger="bulletyard.controller"):
        submit(loop, order("o1", "S1"))
        loop.run_until(lambda: False, max_s=60)
    loop.wms.dispatch()
    assert final_status(statuses, "o1") == "received"
    assert not any(a["actionType"] == "pick" for m in lame.sent_to_me("order")
                   for n in m["nodes"] for a in n["actions"])
    assert "acme/a-1 cannot run 'pick': its factsheet lists no 'pick' action" in caplog.text
    able = VendorVehicle("a-2", at((1, 2)))
    loop.add_vehicle(able)
    assert complete(loop, statuses, ["o1"])
    assert able.sent_to_me("order")


def test_a_refused_action_is_learned_and_not_sent_again_with_backoff() -> None:
    """A factsheet that lists ``wait`` although the vehicle refuses it: the first order is refused,
    the controller backs off, learns from the error text, and the station becomes a hold."""
    v = VendorVehicle("a-1", at((0, 2)), node_actions=("pick", "drop"), lying_factsheet=("wait",))
    ctl, loop, statuses = run([v])
    submit(loop, order("o1", "S3"))
    assert complete(loop, statuses, ["o1"])
    assert len(v.rejections) >= 1
    assert all("wait" in text for _, text in v.rejections)
    assert "wait" in ctl.registry.vehicles["a-1"].refused_actions
    times = [t for t, _ in v.rejections]
    assert all(b - a >= seconds(2.0) for a, b in zip(times, times[1:])), "rejected orders resent at once"
    assert ctl.robot_counts()["lost"] == 0


def test_action_ids_are_never_reused() -> None:
    v = VendorVehicle("a-1", at((0, 2)))
    w = VendorVehicle("a-2", at((1, 2)), version="2.1.0")
    ctl, loop, statuses = run([v, w])
    ids = [f"o{i}" for i in range(6)]
    for i, oid in enumerate(ids):
        submit(loop, order(oid, ["S1", "S2", "S3"][i % 3]))
    assert complete(loop, statuses, ids)
    seen: dict[str, tuple] = {}
    for veh in (v, w):
        for m in veh.sent_to_me("order"):
            for n in m["nodes"]:
                for a in n["actions"]:
                    key = (veh.serial, n["sequenceId"], m["orderId"])
                    assert seen.setdefault(a["actionId"], key) == key, f"actionId {a['actionId']} reused"


def test_fleet_file_restricts_manufacturers_and_maps_actions() -> None:
    served = VendorVehicle("a-1", at((0, 2)), node_actions=("fetch", "putDown"))
    stranger = VendorVehicle("x-1", at((1, 2)), manufacturer="xeno")
    config = ControllerConfig.model_validate({"fleet": {
        "manufacturers": ["acme"],
        "profiles": {"acme": {"actions": {
            "pick": {"action_type": "fetch", "parameters": {"height": "0.1"}},
            "drop": {"action_type": "putDown"},
        }}},
    }})
    ctl, loop, statuses = run([served, stranger], config)
    submit(loop, order("o1", "S2"))
    assert complete(loop, statuses, ["o1"])
    # the pod is set down after "complete"
    assert loop.run_until(lambda: not ctl.dispatch.trip_robot, max_s=120)
    assert "x-1" not in ctl.registry.vehicles
    assert "x-1" not in ctl.executor.robots
    assert stranger.received == [], "a vehicle of an unserved manufacturer was sent something"
    by_id = {a["actionId"]: a for m in served.sent_to_me("order") for n in m["nodes"] for a in n["actions"]}
    sent = list(by_id.values())  # an update repeats its first node, actions included
    assert [a["actionType"] for a in sent] == ["fetch", "putDown"]
    assert {"key": "height", "value": "0.1"} in sent[0]["actionParameters"]


@pytest.mark.parametrize("size", [(1.4, 0.9)])
def test_vehicle_too_big_for_a_cell_is_not_taken_under_control(size, caplog) -> None:
    v = VendorVehicle("a-1", at((0, 2)))
    original = v.on_connect

    def bigger(now):
        out = original(now)
        for i, e in enumerate(out):
            if e.topic.endswith("/factsheet"):
                body = json.loads(e.payload)
                body["physicalParameters"]["length"], body["physicalParameters"]["width"] = size
                out[i] = e._replace(payload=json.dumps(body).encode()) if hasattr(e, "_replace") else type(e)(
                    e.topic, json.dumps(body).encode(), e.qos, e.retain)
        return out

    v.on_connect = bigger
    with caplog.at_level(logging.WARNING, logger="bulletyard.controller"):
        ctl, loop, _ = run([v])
        loop.run_until(lambda: False, max_s=5)
    assert "a-1" not in ctl.executor.robots
    assert "does not fit a cell of 1.0 m" in caplog.text


def test_vendor_vehicle_charges_with_start_and_stop_charging() -> None:
    """A vehicle without 'charge' is sent startCharging at the charger, takes no order while it
    charges, and is sent stopCharging once charged; then it works again."""
    v = VendorVehicle("a-1", at((0, 2)))
    v.battery_pct = 15.0
    ctl, loop, statuses = run([v])
    assert loop.run_until(lambda: v.charging, max_s=120), "never started charging"
    assert v.position_m == small_layout().cell_centre_m((3, 2)), "charging away from the charger"
    submit(loop, order("o1", "S1"))
    loop.run_until(lambda: v.battery_pct >= 80.0, max_s=200)
    assert v.charging, "the charge ended before the charged level"
    assert complete(loop, statuses, ["o1"])
    instant = [a["actionType"] for m in v.sent_to_me("instantActions") for a in m["actions"]]
    assert instant.count("stopCharging") == 1
    sent = [(k, m) for k, m in v.received if k == "order" or any(
        a["actionType"] == "stopCharging" for a in m.get("actions", []))]
    stop_at = next(i for i, (k, _) in enumerate(sent) if k == "instantActions")
    picks = [i for i, (k, m) in enumerate(sent) if k == "order" and any(
        a["actionType"] == "pick" for n in m["nodes"] for a in n["actions"])]
    assert picks
    assert min(picks) > stop_at, "an order reached the vehicle while it was still charging"
