"""One vehicle through a whole working life: the issue's "done when" scenario.

Map (1 m cells, node ``n{x}_{y}`` at the cell centre, y rows go south)::

    n0_0 -- n1_0 -- n2_0 -- n3_0 -- n4_0
                                      |
                                    n4_1

Every message the vehicle publishes is validated against the official schema by the harness.
"""

from __future__ import annotations

from bus.clock import seconds
from bus.vda5050 import Order
from robots.drive import Pose
from robots.script_orders import action, instant_actions, line_order
from tests.unit.robots.harness import MAP, SERIAL, Harness


def node(x: int, y: int) -> tuple[str, float, float]:
    return (f"n{x}_{y}", x + 0.5, -(y + 0.5))


ROW = [node(x, 0) for x in range(5)]


def order(h: Harness, order_id: str, waypoints, **kw) -> Order:
    return line_order(serial_number=SERIAL, order_id=order_id, waypoints=waypoints, map_id=MAP,
                      now=h.now, **kw)


def test_vehicle_life_order_update_pause_cancel_reject_duplicate_breakdown() -> None:
    h = Harness(pose=Pose(0.5, -0.5, 0.0))
    # 1. an order with base n0..n2 (pick at n2) and horizon n3, n4
    pick = action("pick", "pick-1", loadId="L1")
    h.send("order", order(h, "o1", ROW, base_count=3, actions={"n2_0": [pick]}))
    assert h.state().order_id == "o1"
    assert h.state().last_node_id == "n0_0"
    assert h.run_until(lambda: h.action_status("pick-1") == "FINISHED", 30)
    s = h.state()
    assert (s.last_node_id, s.last_node_sequence_id) == ("n2_0", 4)
    assert [(n.node_id, n.released) for n in s.node_states] == [("n3_0", False), ("n4_0", False)]
    assert [e.released for e in s.edge_states] == [False, False]
    h.advance(20)  # the horizon is never driven
    pose = h.drive.pose(h.now)
    assert abs(pose.x_m - 2.5) < 1e-6
    assert not h.state().driving
    assert h.state().loads
    assert h.state().loads[0].load_id == "L1"

    # 2. an update stitched at the decision point n2 releases n3, n4 and adds n4_1 (drop there)
    update = order(h, "o1", ROW[2:] + [node(4, 1)], update_id=1, first_sequence_id=4,
                   actions={"n4_1": [action("drop", "drop-1")]})
    h.send("order", update)
    s = h.state()
    assert s.order_update_id == 1
    assert not s.errors
    assert [n.node_id for n in s.node_states] == ["n3_0", "n4_0", "n4_1"]

    # 3. pause mid-edge between n2 and n3, resume
    assert h.run_until(lambda: h.drive.pose(h.now).x_m > 2.9, 10)
    assert h.state().driving
    h.send("instantActions", instant_actions(serial_number=SERIAL, now=h.now, header_id=0,
                                             actions=[action("startPause", "pause-1")]))
    h.advance(5)
    held = h.drive.pose(h.now)
    assert 2.9 < held.x_m < 3.5
    assert h.state().paused
    assert not h.state().driving
    assert h.state().last_node_id == "n2_0"
    h.advance(5)
    assert h.drive.pose(h.now) == held

    # 4. a duplicate of the current order (resend of update 1) is ignored
    before = h.state()
    h.send("order", update)
    after = h.state()
    assert after.errors == []
    assert after.node_states == before.node_states

    h.send("instantActions", instant_actions(serial_number=SERIAL, now=h.now, header_id=1,
                                             actions=[action("stopPause", "resume-1")]))
    assert not h.state().paused
    assert h.run_until(lambda: h.action_status("drop-1") == "FINISHED", 30)
    s = h.state()
    assert (s.last_node_id, s.last_node_sequence_id) == ("n4_1", 10)
    assert s.node_states == []
    assert abs(h.drive.pose(h.now).y_m + 1.5) < 1e-6
    assert s.loads == []

    # 5. a bad update (lower orderUpdateId) is rejected and nothing changes
    h.send("order", order(h, "o1", ROW[2:], update_id=0, first_sequence_id=4))
    s = h.state()
    assert [e.error_type for e in s.errors] == ["orderUpdateError"]
    assert s.order_update_id == 1
    assert s.last_node_id == "n4_1"

    # 6. a new order, cancelled mid-edge: the vehicle stops, waiting actions fail, order id kept
    back = [node(4, 1), node(4, 0), node(3, 0), node(2, 0)]
    h.send("order", order(h, "o2", back, actions={"n2_0": [action("pick", "pick-2")]}))
    assert h.state().errors == []  # accepting an order clears the rejection warning
    assert h.run_until(lambda: h.drive.pose(h.now).x_m < 4.0, 20)
    h.send("instantActions", instant_actions(serial_number=SERIAL, now=h.now, header_id=2,
                                             actions=[action("cancelOrder", "cancel-1")]))
    assert h.action_status("cancel-1") == "RUNNING"
    assert h.action_status("pick-2") == "FAILED"
    assert h.run_until(lambda: h.action_status("cancel-1") == "FINISHED", 10)
    s = h.state()
    assert s.node_states == []
    assert s.edge_states == []
    assert s.order_id == "o2"
    assert not s.driving
    stopped = h.drive.pose(h.now)
    assert 3.0 < stopped.x_m < 4.0

    # 7. a new order from where it stands; the drive breaks down on the way: FATAL error
    here = ("here", stopped.x_m, stopped.y_m)
    h.send("order", order(h, "o3", [here, node(2, 0), node(1, 0)]))
    assert h.state().errors == []
    assert h.run_until(lambda: h.state().driving, 5)
    h.drive.break_down(h.now + seconds(0.5))
    h.advance(3)
    s = h.state()
    assert [(e.error_type, e.error_level) for e in s.errors] == [("driveFault", "FATAL")]
    assert not s.driving
    frozen = h.drive.pose(h.now)
    h.advance(10)
    assert h.drive.pose(h.now) == frozen
    assert s.last_node_id == "here"
    assert [n.node_id for n in s.node_states] == ["n2_0", "n1_0"]
    assert 2.5 < frozen.x_m < stopped.x_m  # it broke down part way along the first edge
    # all published messages were schema-checked by the harness; there were plenty of them
    kinds = {e.topic.rsplit("/", 1)[-1] for e in h.published}
    assert {"state", "connection", "factsheet", "visualization"} <= kinds
