"""Every malformed or inconsistent order is rejected with the right error type, and the work goes on.

Setting: the vehicle is driving order ``o1``, update 1 (n0_0 -> n1_0 -> n2_0 from update 0,
extended to n3_0 by update 1) and is part way along the first edge when the bad order arrives.
After the rejection it must still finish ``o1`` at n3_0.
"""

from __future__ import annotations

import json

import pytest

from bus.vda5050 import NodePosition, Order, to_payload
from robots.drive import Pose
from robots.script_orders import action, line_order
from tests.unit.robots.harness import MAP, SERIAL, Harness


def node(x: int, y: int = 0) -> tuple[str, float, float]:
    return (f"n{x}_{y}", x + 0.5, -(y + 0.5))


ROUTE = [node(x) for x in range(4)]


def started() -> Harness:
    h = Harness(pose=Pose(0.5, -0.5, 0.0))
    first = line_order(serial_number=SERIAL, order_id="o1", waypoints=ROUTE[:3], map_id=MAP, now=h.now)
    h.send("order", first)
    h.send("order", update(h, update_id=1, first_seq=4, waypoints=ROUTE[2:]))
    assert h.state().order_update_id == 1
    assert h.run_until(lambda: h.drive.pose(h.now).x_m > 0.8, 5)
    return h


def mutate(order: Order, **changes) -> bytes:
    data = json.loads(to_payload(order))
    for path, value in changes.items():
        target = data
        *head, last = path.split("__")
        for key in head:
            target = target[int(key)] if key.isdigit() else target[key]
        target[int(last) if last.isdigit() else last] = value
    return json.dumps(data).encode()


def other(h: Harness, order_id: str = "o2", **kw) -> Order:
    return line_order(serial_number=SERIAL, order_id=order_id, waypoints=[node(1), node(2)], map_id=MAP,
                      now=h.now, **kw)


def update(h: Harness, update_id: int = 1, first_seq: int = 6, waypoints=None) -> Order:
    return line_order(serial_number=SERIAL, order_id="o1", waypoints=waypoints or [node(3), node(4)],
                      map_id=MAP, now=h.now, update_id=update_id, first_sequence_id=first_seq)


def horizon_then_base(h: Harness) -> bytes:
    order = line_order(serial_number=SERIAL, order_id="o2", map_id=MAP, now=h.now,
                       waypoints=[node(1), node(2), node(3)])
    nodes = [n.model_copy(update={"released": i != 1}) for i, n in enumerate(order.nodes)]
    return to_payload(order.model_copy(update={"nodes": nodes}))


def unknown_node(h: Harness) -> bytes:
    return to_payload(line_order(serial_number=SERIAL, order_id="o2", map_id=MAP, now=h.now,
                                 waypoints=[node(1), ("mystery", 9, 9)], positions=False))


def missing_nodes(h: Harness) -> bytes:
    return mutate(other(h), nodes=None).replace(b'"nodes":null,', b"")


CASES = {
    "not json": (lambda h: b"{nope", "validationError"),
    "missing field": (missing_nodes, "validationError"),
    "wrong type": (lambda h: mutate(other(h), orderUpdateId="one"), "validationError"),
    "no nodes": (lambda h: mutate(other(h), nodes=[], edges=[]), "validationError"),
    "non-contiguous sequence ids": (lambda h: mutate(other(h), nodes__1__sequenceId=4), "validationError"),
    "edge not joining its nodes": (lambda h: mutate(other(h), edges__0__endNodeId="n9_9"), "validationError"),
    "edge count": (lambda h: mutate(other(h), edges=[]), "validationError"),
    "released after horizon": (horizon_then_base, "validationError"),
    "unknown node": (unknown_node, "validationError"),
    "another serial number": (lambda h: mutate(other(h), serialNumber="agv-0099"), "validationError"),
    "unsupported action": (lambda h: to_payload(other(h, actions={"n2_0": [action("fly", "f1")]})),
                           "orderError"),
    "another map": (lambda h: mutate(other(h), nodes__1__nodePosition__mapId="elsewhere"), "orderError"),
    "lower orderUpdateId": (lambda h: to_payload(update(h, update_id=0, first_seq=0, waypoints=ROUTE)),
                            "orderUpdateError"),
    "update not at the decision point": (
        lambda h: to_payload(update(h, 2, first_seq=2, waypoints=[node(1), node(5)])), "orderUpdateError"),
    "new order while busy": (lambda h: to_payload(other(h)), "orderUpdateError"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_order_is_rejected_and_the_vehicle_keeps_its_work(name: str) -> None:
    h = started()
    make, expected = CASES[name]
    before = h.state()
    h.send("order", make(h))
    s = h.state()
    assert [e.error_type for e in s.errors] == [expected], s.errors
    assert all(e.error_level == "WARNING" for e in s.errors)
    assert (s.order_id, s.order_update_id) == ("o1", 1)
    assert s.node_states == before.node_states
    assert h.run_until(lambda: h.state().last_node_id == "n3_0" and not h.state().driving, 30)
    assert abs(h.drive.pose(h.now).x_m - 3.5) < 1e-6
    # the warning stays until an order is accepted
    assert [e.error_type for e in h.state().errors] == [expected]


def test_first_node_far_away_is_an_order_error() -> None:
    h = Harness(pose=Pose(0.5, -0.5, 0.0))
    h.send("order", line_order(serial_number=SERIAL, order_id="far", waypoints=[node(5), node(6)], map_id=MAP,
                               now=h.now))
    s = h.state()
    assert [e.error_type for e in s.errors] == ["orderError"]
    assert s.order_id == ""
    refs = {(r.reference_key, r.reference_value) for r in s.errors[0].error_references}
    assert ("nodeId", "n5_0") in refs


def test_deviation_range_of_the_first_node_is_honoured() -> None:
    h = Harness(pose=Pose(0.5, -0.5, 0.0))
    order = line_order(serial_number=SERIAL, order_id="near", waypoints=[node(1), node(2)], map_id=MAP,
                       now=h.now)
    first = order.nodes[0]
    wide = first.model_copy(update={"node_position": NodePosition(x=1.5, y=-0.5, map_id=MAP,
                                                                  allowed_deviation_xy=1.5)})
    h.send("order", order.model_copy(update={"nodes": [wide, order.nodes[1]]}))
    assert h.state().errors == []
    assert h.run_until(lambda: h.state().last_node_id == "n2_0", 10)


def test_node_known_from_an_earlier_order_needs_no_position() -> None:
    h = Harness(pose=Pose(0.5, -0.5, 0.0))
    h.send("order", line_order(serial_number=SERIAL, order_id="a", waypoints=[node(0), node(1)], map_id=MAP,
                               now=h.now))
    assert h.run_until(lambda: h.state().last_node_id == "n1_0" and not h.state().driving, 10)
    h.send("order", line_order(serial_number=SERIAL, order_id="b", waypoints=[node(1), node(0)], map_id=MAP,
                               now=h.now, positions=False))
    assert h.state().errors == []
    assert h.run_until(lambda: h.state().last_node_id == "n0_0" and not h.state().driving, 10)
