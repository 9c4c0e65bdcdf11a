"""Instant actions, connection and will, factsheet, state heartbeat, visualization rate, battery."""

from __future__ import annotations

import json

from bus.clock import parse_timestamp, seconds, to_seconds
from bus.vda5050 import parse_connection, parse_factsheet
from robots.battery import BatteryConfig
from robots.config import VehicleConfig
from robots.drive import Pose
from robots.kinematic import KinematicDrive
from robots.script_orders import action, instant_actions, line_order
from tests.unit.robots.harness import MAP, SERIAL, Harness
from tests.unit.robots.vda_schemas import assert_valid


def node(x: int, y: int = 0) -> tuple[str, float, float]:
    return (f"n{x}_{y}", x + 0.5, -(y + 0.5))


def instant(h: Harness, *actions, header_id: int = 0):
    return h.send("instantActions", instant_actions(serial_number=SERIAL, now=h.now, header_id=header_id,
                                                    actions=list(actions)))


def test_connection_online_on_connect_offline_on_close_and_will_broken() -> None:
    h = Harness()
    first = h.published[0]
    assert first.topic == f"uagv/v2/bulletyard/{SERIAL}/connection"
    assert (first.qos, first.retain) == (1, True)
    assert parse_connection(first.payload).connection_state == "ONLINE"
    facts = [e for e in h.published if e.topic.endswith("/factsheet")]
    assert len(facts) == 1
    assert facts[0].retain
    will = h.agent.will()
    assert (will.qos, will.retain) == (1, True)
    assert parse_connection(will.payload).connection_state == "CONNECTIONBROKEN"
    assert_valid("connection", will.payload)
    (off,) = h.agent.on_close(h.now)
    assert parse_connection(off.payload).connection_state == "OFFLINE"
    assert_valid("connection", off.payload)


def test_factsheet_has_footprint_speeds_and_actions_and_answers_a_request() -> None:
    cfg = VehicleConfig(length_m=1.2, width_m=0.9)
    h = Harness(config=cfg)
    out = instant(h, action("factsheetRequest", "fs-1"))
    fact = parse_factsheet(next(e for e in out if e.topic.endswith("/factsheet")).payload)
    assert fact.physical_parameters.length == 1.2
    assert fact.physical_parameters.width == 0.9
    assert fact.physical_parameters.speed_max == cfg.profile.speed_mps
    supported = {a.action_type: a.action_scopes for a in fact.protocol_features.agv_actions}
    for kind in ("pick", "drop", "lift", "lower", "charge", "wait"):
        assert supported[kind] == ["NODE"]
    for kind in ("startPause", "stopPause", "cancelOrder", "stateRequest", "factsheetRequest"):
        assert supported[kind] == ["INSTANT"]
    corners = fact.agv_geometry.envelopes2d[0].polygon_points
    assert {(c.x, c.y) for c in corners} == {(0.6, 0.45), (-0.6, 0.45), (-0.6, -0.45), (0.6, -0.45)}
    assert h.action_status("fs-1") == "FINISHED"


def test_state_at_least_every_interval_and_on_state_request() -> None:
    h = Harness(config=VehicleConfig(state_interval_s=30.0, visualization_interval_s=None))
    start = len([e for e in h.published if e.topic.endswith("/state")])
    h.advance(95)
    states = [json.loads(e.payload) for e in h.published if e.topic.endswith("/state")]
    assert len(states) - start == 3  # at 30, 60, 90 s with nothing happening
    out = instant(h, action("stateRequest", "sr-1"))
    assert any(e.topic.endswith("/state") for e in out)


def test_visualization_at_the_configured_rate() -> None:
    h = Harness(config=VehicleConfig(visualization_interval_s=0.25))
    n0 = sum(e.topic.endswith("/visualization") for e in h.published)
    h.advance(10)
    n = sum(e.topic.endswith("/visualization") for e in h.published) - n0
    assert 39 <= n <= 41


def test_cancel_without_an_order_fails_with_no_order_to_cancel() -> None:
    h = Harness()
    instant(h, action("cancelOrder", "c-1"))
    s = h.state()
    assert h.action_status("c-1") == "FAILED"
    assert [(e.error_type, e.error_level) for e in s.errors] == [("noOrderToCancel", "WARNING")]
    assert s.errors[0].error_references[0].reference_value == "c-1"


def test_unsupported_instant_action_fails_with_a_warning() -> None:
    h = Harness()
    instant(h, action("selfDestruct", "x-1"))
    assert h.action_status("x-1") == "FAILED"
    assert [e.error_type for e in h.state().errors] == ["instantActionError"]


def test_pause_during_an_action_shows_paused_and_keeps_remaining_time() -> None:
    h = Harness()
    order = line_order(serial_number=SERIAL, order_id="w", waypoints=[node(0)], map_id=MAP, now=h.now,
                       actions={"n0_0": [action("wait", "w-1", duration=4.0)]})
    h.send("order", order)
    assert h.run_until(lambda: h.action_status("w-1") == "RUNNING", 2)
    h.advance(1.0)
    instant(h, action("startPause", "p-1"))
    assert h.action_status("w-1") == "PAUSED"  # the erratum value; the harness validated it
    h.advance(60)
    assert h.action_status("w-1") == "PAUSED"
    instant(h, action("stopPause", "p-2"), header_id=1)
    resumed = h.now
    assert h.run_until(lambda: h.action_status("w-1") == "FINISHED", 10)
    assert 2.9 <= to_seconds(h.now - resumed) <= 3.1


def test_action_statuses_go_waiting_initializing_running_finished() -> None:
    h = Harness(config=VehicleConfig(action_init_s=0.5, state_interval_s=30))
    order = line_order(serial_number=SERIAL, order_id="seq", waypoints=[node(0), node(1)], map_id=MAP,
                       now=h.now, actions={"n1_0": [action("lift", "l-1")]})
    h.send("order", order)
    h.run_until(lambda: h.action_status("l-1") == "FINISHED", 20)
    seen = []
    for e in h.published:
        if e.topic.endswith("/state"):
            for a in json.loads(e.payload)["actionStates"]:
                if a["actionId"] == "l-1" and (not seen or seen[-1] != a["actionStatus"]):
                    seen.append(a["actionStatus"])
    assert seen == ["WAITING", "INITIALIZING", "RUNNING", "FINISHED"]


def test_charge_runs_at_a_charger_until_the_target_and_low_battery_warns() -> None:
    pose = Pose(0.5, -0.5, 0.0)
    battery = BatteryConfig(initial_percent=21.0, drain_percent_per_m=1.0, charge_percent_per_s=10.0)
    drive = KinematicDrive(pose, start=Harness().now, battery=battery)
    cfg = VehicleConfig(charger_positions_m=((2.5, -0.5),))
    h = Harness(pose=pose, config=cfg, drive=drive)
    route = [node(0), node(1), node(2)]
    h.send("order", line_order(serial_number=SERIAL, order_id="c", waypoints=route, map_id=MAP, now=h.now,
                               actions={"n1_0": [action("charge", "ch-bad")],
                                        "n2_0": [action("charge", "ch-1", targetCharge=90.0)]}))
    assert h.run_until(lambda: h.action_status("ch-bad") == "FAILED", 10)
    assert "notAtCharger" in [e.error_type for e in h.state().errors]
    assert "batteryLow" in [e.error_type for e in h.state().errors]
    assert h.run_until(lambda: h.state().battery_state.charging, 10)
    assert h.action_status("ch-1") == "RUNNING"
    assert h.run_until(lambda: h.action_status("ch-1") == "FINISHED", 30)
    s = h.state()
    assert s.battery_state.battery_charge >= 90.0
    assert not s.battery_state.charging
    assert "batteryLow" not in [e.error_type for e in s.errors]


def test_state_timestamps_are_iso_utc_with_milliseconds() -> None:
    h = Harness()
    h.advance(0.1234)
    env = h.agent.tick(h.now + seconds(0.5))
    stamps = [json.loads(e.payload)["timestamp"] for e in env]
    assert all(s.endswith("Z") and len(s.split(".")[1]) == 4 for s in stamps)


def test_state_is_sent_when_braking_ends_not_only_at_the_heartbeat() -> None:
    h = Harness(config=VehicleConfig(state_interval_s=30.0, visualization_interval_s=None))
    h.send("order", line_order(serial_number=SERIAL, order_id="b", waypoints=[node(0), node(5)], map_id=MAP,
                               now=h.now))
    assert h.run_until(lambda: h.drive.velocity(h.now)[0] > 1.0, 5)
    instant(h, action("startPause", "p-1"))
    paused_at = h.now
    h.advance(5)
    states = [(e, json.loads(e.payload)) for e in h.published if e.topic.endswith("/state")]
    stopped = [s for _, s in states if not s["driving"] and s["paused"]]
    assert stopped, "no state reported the vehicle at rest after the pause"
    assert to_seconds(parse_timestamp(stopped[0]["timestamp"]) - paused_at) < 2.0
