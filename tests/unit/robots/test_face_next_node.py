"""A vehicle waiting for its next node's release turns toward it in place (``face_next_node``), so
the move starts straight away when the release comes; without the option it waits unturned."""

from __future__ import annotations

import math

import pytest

from bus.clock import to_seconds
from robots.config import VehicleConfig
from robots.drive import Pose
from robots.script_orders import line_order
from tests.unit.robots.harness import MAP, SERIAL, Harness

# start on n0_0 facing east; the route goes south (y grows downwards in node names)
ROUTE = [("n0_0", 0.5, -0.5), ("n0_1", 0.5, -1.5), ("n0_2", 0.5, -2.5)]


def waiting(face: bool) -> Harness:
    """A vehicle on n0_0 with only its own node released, left standing for 5 s."""
    h = Harness(pose=Pose(0.5, -0.5, 0.0), config=VehicleConfig(face_next_node=face))
    h.send("order", line_order(serial_number=SERIAL, order_id="o", waypoints=ROUTE, map_id=MAP, now=h.now,
                               base_count=1))
    h.advance(5.0)
    return h


@pytest.mark.parametrize("face", [True, False])
def test_a_waiting_vehicle_stays_on_its_node_and_faces_the_horizon_only_when_asked(face: bool) -> None:
    h = waiting(face)
    pose = h.drive.pose(h.now)
    assert (round(pose.x_m, 3), round(pose.y_m, 3)) == (0.5, -0.5)  # never onto the unreleased node
    assert not h.state().driving
    assert h.state().last_node_id == "n0_0"
    expected = -math.pi / 2 if face else 0.0
    assert abs(pose.theta_rad - expected) < 0.02


def test_the_release_of_a_faced_node_starts_the_move_without_a_turn() -> None:
    took = {}
    for face in (True, False):
        h = waiting(face)
        start = h.now
        h.send("order", line_order(serial_number=SERIAL, order_id="o", waypoints=ROUTE[:2], map_id=MAP,
                                   now=h.now, update_id=1))
        assert h.run_until(lambda h=h: h.state().last_node_id == "n0_1" and not h.state().driving, 20)
        took[face] = to_seconds(h.now - start)
    assert took[True] < took[False] - 0.5  # the quarter turn was made while waiting
