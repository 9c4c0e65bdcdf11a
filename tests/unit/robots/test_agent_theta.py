"""The vehicle turns to a node's ``theta`` while it waits there, before the next node is released."""

from __future__ import annotations

import json
import math

from bus.clock import iso_timestamp
from controller.execution.vda_orders import OrderStream, with_header
from robots.drive import Pose
from tests.unit.robots.harness import MAP, SERIAL, Harness


def centre(cell: tuple[int, int]) -> tuple[float, float]:
    return cell[0] + 0.5, -(cell[1] + 0.5)


def _order(h: Harness, headings: bool) -> bytes:
    # the plan: turn on (0, 0) (a wait there), then drive south to (0, 1); only (0, 0) is released
    body = OrderStream(SERIAL, 1, centre, MAP, headings=headings).extend([(0, 0), (0, 0), (0, 1)], 1, {})
    msg = with_header(body, header_id=1, timestamp=iso_timestamp(h.now), manufacturer="bulletyard",
                      serial_number=SERIAL)
    return json.dumps(msg).encode()


def test_the_vehicle_turns_to_theta_while_the_next_node_is_held() -> None:
    h = Harness(pose=Pose(0.5, -0.5, 0.0))
    h.send("order", _order(h, headings=True))
    h.advance(2.0)  # a quarter turn at the default pi/2 rad/s takes 1 s
    pose = h.drive.pose(h.now)
    assert math.isclose(pose.theta_rad, -math.pi / 2, abs_tol=1e-6)
    assert (pose.x_m, pose.y_m) == (0.5, -0.5)  # turned in place, did not drive into the horizon


def test_without_theta_the_vehicle_waits_facing_where_it_did() -> None:
    h = Harness(pose=Pose(0.5, -0.5, 0.0))
    h.send("order", _order(h, headings=False))
    h.advance(2.0)
    assert h.drive.pose(h.now).theta_rad == 0.0
