"""Hostile orders and instant actions (issue 25): the vehicle refuses them and keeps its work.

Setting as in ``test_agent_bad_input``: the vehicle drives order ``o1`` (n0_0 -> n3_0 on a 10 m x
10 m map) when the hostile message arrives. JSON nested 10,000 levels deep once ended the whole
``bulletyard robots`` process (``RecursionError`` while reading the refused order's id); an order
with nodes 100 km away was accepted by an idle vehicle.
"""

from __future__ import annotations

import json

import pytest

from bus.vda5050 import to_payload
from robots.config import VehicleConfig
from robots.drive import Pose
from robots.script_orders import instant_actions, line_order
from tests.unit.robots.harness import MAP, SERIAL, Harness

CONFIG = VehicleConfig(map_bounds_m=(0.0, -10.0, 10.0, 0.0))


def node(x: float, y: float = 0) -> tuple[str, float, float]:
    return (f"n{x:g}_{y:g}", x + 0.5, -(y + 0.5))


def started() -> Harness:
    h = Harness(pose=Pose(0.5, -0.5, 0.0), config=CONFIG)
    h.send("order", line_order(serial_number=SERIAL, order_id="o1", waypoints=[node(x) for x in range(4)],
                               map_id=MAP, now=h.now))
    assert h.run_until(lambda: h.drive.pose(h.now).x_m > 0.8, 5)
    return h


def other_order(h: Harness) -> dict:
    return json.loads(to_payload(line_order(serial_number=SERIAL, order_id="o2", waypoints=[node(3), node(4)],
                                            map_id=MAP, now=h.now)))


def deep(levels: int) -> bytes:
    return b'{"orderId": "o2", "x": ' + b"[" * levels + b"]" * levels + b"}"


def with_key_twice(h: Harness) -> bytes:
    text = json.dumps(other_order(h))
    return text.replace('"orderId": "o2"', '"orderId": "o2", "orderId": "o3"').encode()


HOSTILE = {
    "nested 10,000 levels (50 KB)": (lambda h: b"[" * 25_000 + b"]" * 25_000, "too_deep"),
    "nested under an orderId": (lambda h: deep(10_000), "too_deep"),
    "a key twice": (with_key_twice, "duplicate_key"),
    "orderId with U+0000": (lambda h: json.dumps(other_order(h) | {"orderId": "o\u00002"}).encode(),
                            "control_character"),
    "NaN": (lambda h: json.dumps(other_order(h) | {"orderUpdateId": float("nan")}).encode(), "not_json"),
    "1e400": (lambda h: json.dumps(other_order(h)).replace('"orderUpdateId": 0', '"orderUpdateId": 1e400')
              .encode(), "non_finite"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_order_is_a_validation_error_and_the_work_goes_on(name: str) -> None:
    h = started()
    make, rule = HOSTILE[name]
    before = h.state()
    h.send("order", make(h))
    s = h.state()
    assert [e.error_type for e in s.errors] == ["validationError"], s.errors
    assert rule in s.errors[0].error_description
    assert (s.order_id, s.node_states) == ("o1", before.node_states)
    assert h.run_until(lambda: h.state().last_node_id == "n3_0" and not h.state().driving, 30)


def test_hostile_instant_actions_are_a_validation_error() -> None:
    h = started()
    h.send("instantActions", b"[" * 25_000 + b"]" * 25_000)
    assert [e.error_type for e in h.state().errors] == ["validationError"]
    h.send("instantActions", instant_actions(serial_number=SERIAL, now=h.now, header_id=1, actions=[]))
    assert h.state().errors == []
    assert h.run_until(lambda: h.state().last_node_id == "n3_0" and not h.state().driving, 30)


def test_an_order_100_km_away_is_a_no_route_error_and_the_current_order_goes_on() -> None:
    h = started()
    far = line_order(serial_number=SERIAL, order_id="o1", waypoints=[node(3), node(100_000), node(100_001)],
                     map_id=MAP, now=h.now, update_id=1, first_sequence_id=6)
    h.send("order", far)
    s = h.state()
    assert [e.error_type for e in s.errors] == ["noRouteError"]
    refs = {(r.reference_key, r.reference_value) for r in s.errors[0].error_references}
    assert {("orderId", "o1"), ("nodeId", "n100000_0")} <= refs
    assert "outside map" in s.errors[0].error_description
    assert (s.order_id, s.order_update_id) == ("o1", 0)
    assert h.run_until(lambda: h.state().last_node_id == "n3_0" and not h.state().driving, 30)
    assert abs(h.drive.pose(h.now).x_m - 3.5) < 1e-6


def test_an_idle_vehicle_refuses_a_new_order_reaching_off_the_map() -> None:
    h = Harness(pose=Pose(0.5, -0.5, 0.0), config=CONFIG)
    h.send("order", line_order(serial_number=SERIAL, order_id="away", waypoints=[node(0), node(0, 100_000)],
                               map_id=MAP, now=h.now))
    s = h.state()
    assert [e.error_type for e in s.errors] == ["noRouteError"]
    assert s.order_id == ""
    assert not s.driving
