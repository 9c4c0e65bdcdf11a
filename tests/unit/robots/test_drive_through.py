"""Released nodes straight ahead are driven as one move: no stop on each node, never past the base."""

from __future__ import annotations

from bus.clock import to_seconds
from robots.drive import Pose
from robots.script_orders import action, instant_actions, line_order
from tests.unit.robots.harness import MAP, SERIAL, Harness


def node(x: int, y: int = 0) -> tuple[str, float, float]:
    return (f"n{x}_{y}", x + 0.5, -(y + 0.5))


LINE = [node(x) for x in range(6)]  # 5 cells east, 1 m each


def _passes(h: Harness, limit_s: float) -> tuple[list[tuple[str, float, float]], float]:
    """Run until the vehicle stands still with nothing left; returns (node, time s, speed m/s) per
    newly reported lastNodeId and the time the run took."""
    seen: list[tuple[str, float, float]] = []
    start = h.now

    def done() -> bool:
        s = h.state()
        if not seen or seen[-1][0] != s.last_node_id:
            seen.append((s.last_node_id, to_seconds(h.now - start), h.drive.velocity(h.now)[0]))
        return not s.node_states and not s.driving

    assert h.run_until(done, limit_s)
    return seen, to_seconds(h.now - start)


def test_a_straight_base_is_one_move_through_every_node() -> None:
    h = Harness(pose=Pose(0.5, -0.5, 0.0))
    h.send("order", line_order(serial_number=SERIAL, order_id="line", waypoints=LINE, map_id=MAP, now=h.now))
    seen, took = _passes(h, 30)
    # every node is traversed in order, the inner ones while moving
    assert [n for n, _, _ in seen] == [n for n, _, _ in LINE]
    assert all(speed > 0.5 for _, _, speed in seen[1:-1])
    # one trapezoid over 5 m at 1.5 m/s, 1 m/s^2: 1.5 s up, 1.83 s cruise, 1.5 s down (not 5 x 2 s)
    assert 4.8 < took < 5.0
    pose = h.drive.pose(h.now)
    assert (round(pose.x_m, 3), round(pose.y_m, 3)) == (5.5, -0.5)


def test_the_move_ends_at_rest_on_the_last_released_node() -> None:
    h = Harness(pose=Pose(0.5, -0.5, 0.0))
    h.send("order", line_order(serial_number=SERIAL, order_id="line", waypoints=LINE, map_id=MAP, now=h.now,
                               base_count=3))
    max_x = 0.0

    def still_at_base_end() -> bool:
        nonlocal max_x
        max_x = max(max_x, h.drive.pose(h.now).x_m)
        return h.state().last_node_id == "n2_0" and not h.state().driving

    assert h.run_until(still_at_base_end, 20)
    assert max_x <= 2.5 + 1e-6  # the horizon is never entered
    h.advance(2.0)
    assert h.drive.pose(h.now).x_m <= 2.5 + 1e-6


def test_a_release_while_moving_lengthens_the_move_without_stopping() -> None:
    h = Harness(pose=Pose(0.5, -0.5, 0.0))
    h.send("order", line_order(serial_number=SERIAL, order_id="line", waypoints=LINE, map_id=MAP, now=h.now,
                               base_count=3))
    assert h.run_until(lambda: h.state().last_node_id == "n1_0", 10)
    assert h.drive.velocity(h.now)[0] > 0.5
    h.send("order", line_order(serial_number=SERIAL, order_id="line", waypoints=LINE[2:], map_id=MAP,
                               now=h.now, update_id=1, first_sequence_id=4))
    seen, _ = _passes(h, 20)
    assert [n for n, _, _ in seen] == ["n1_0", "n2_0", "n3_0", "n4_0", "n5_0"]
    assert all(speed > 0.5 for _, _, speed in seen[1:-1])  # kept moving through the old base end


def test_a_node_with_an_action_ends_the_run() -> None:
    h = Harness(pose=Pose(0.5, -0.5, 0.0))
    h.send("order", line_order(serial_number=SERIAL, order_id="line", waypoints=LINE, map_id=MAP, now=h.now,
                               actions={"n2_0": [action("drop", "d-1")]}))
    assert h.run_until(lambda: h.action_status("d-1") != "WAITING", 10)
    pose = h.drive.pose(h.now)
    assert (round(pose.x_m, 3), h.drive.velocity(h.now)[0]) == (2.5, 0.0)
    assert h.run_until(lambda: h.state().last_node_id == "n5_0" and not h.state().driving, 20)
    assert h.action_status("d-1") == "FINISHED"


def test_pause_mid_run_resumes_forward() -> None:
    h = Harness(pose=Pose(0.5, -0.5, 0.0))
    h.send("order", line_order(serial_number=SERIAL, order_id="line", waypoints=LINE, map_id=MAP, now=h.now))
    h.run_until(lambda: h.drive.pose(h.now).x_m > 2.0, 10)
    h.send("instantActions", instant_actions(serial_number=SERIAL, now=h.now, header_id=1,
                                              actions=[action("startPause", "p-1")]))
    h.advance(3.0)
    paused_x = h.drive.pose(h.now).x_m
    h.send("instantActions", instant_actions(serial_number=SERIAL, now=h.now, header_id=2,
                                              actions=[action("stopPause", "p-2")]))
    seen, _ = _passes(h, 20)
    pose = h.drive.pose(h.now)
    assert (round(pose.x_m, 3), round(pose.y_m, 3)) == (5.5, -0.5)
    assert paused_x < 5.5
    assert seen[-1][0] == "n5_0"
