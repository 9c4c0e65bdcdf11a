"""The hardware adapter template (with its serial-free fake) and the PyBullet drive, under the agent."""

from __future__ import annotations

import math

import pybullet as p
import pytest

from robots.drive import Pose
from robots.hardware import FakeMotionApi, HardwareDrive
from robots.kinematic import KinematicDrive
from robots.script_orders import action, line_order
from sim.pybullet_drive import PyBulletDrive, RobotWorld
from tests.unit.robots.harness import MAP, SERIAL, Harness


def node(x: int, y: int = 0) -> tuple[str, float, float]:
    return (f"n{x}_{y}", x + 0.5, -(y + 0.5))


ROUTE = [node(0), node(1), node(2), node(2, 1)]


def drive_route(h: Harness) -> None:
    h.send("order", line_order(serial_number=SERIAL, order_id="hw", waypoints=ROUTE, map_id=MAP, now=h.now,
                               actions={"n2_1": [action("drop", "d-1")]}))
    assert h.run_until(lambda: h.action_status("d-1") == "FINISHED", 60)
    s = h.state()
    assert (s.last_node_id, s.node_states) == ("n2_1", [])


def test_agent_drives_a_robot_through_the_hardware_template() -> None:
    start = Pose(0.5, -0.5, 0.0)
    made: list[FakeMotionApi] = []

    def factory(clock):
        made.append(FakeMotionApi(start, clock))
        return HardwareDrive(made[0], poll_interval_s=0.05)

    h = Harness(pose=start, drive_factory=factory)
    api = made[0]
    drive_route(h)
    x, y, _ = api.read_pose()
    assert (round(x, 3), round(y, 3)) == (2.5, -1.5)
    # one straight move through n1 to n2 (no stop on n1), then a quarter turn south before the last leg
    kinds = [c[0] for c in api.commands]
    assert kinds == ["goto", "rotate", "goto"]
    assert api.commands[1] == ("rotate", round(-math.pi / 2, 3))


def test_a_refusing_robot_becomes_a_fatal_error() -> None:
    start = Pose(0.5, -0.5, 0.0)

    def factory(clock):
        api = FakeMotionApi(start, clock)
        api.refuse = True
        return HardwareDrive(api)

    h = Harness(pose=start, drive_factory=factory)
    h.send("order", line_order(serial_number=SERIAL, order_id="x", waypoints=ROUTE, map_id=MAP, now=h.now))
    errors = h.state().errors
    assert [(e.error_type, e.error_level) for e in errors] == [("driveFault", "FATAL")]
    assert "refused" in errors[0].error_description


@pytest.fixture
def world():
    w = RobotWorld()
    yield w
    w.close()


def test_pybullet_drive_moves_its_body_along_the_same_profile(world: RobotWorld) -> None:
    start = Pose(0.5, -0.5, 0.0)
    body = world.add_robot(start)
    t0 = Harness().now
    drive = PyBulletDrive(world.client, body, start, start=t0)
    twin = KinematicDrive(start, start=t0)
    h = Harness(pose=start, drive=drive)
    drive_route(h)
    pos, orn = p.getBasePositionAndOrientation(body, physicsClientId=world.client)
    assert pos[0] == pytest.approx(2.5)
    assert pos[1] == pytest.approx(-1.5)
    assert p.getEulerFromQuaternion(orn)[2] == pytest.approx(-math.pi / 2, abs=1e-6)
    # same profile as the pure drive
    twin.start_move(t0, 3.0, -0.5, 1.5)
    drive2 = PyBulletDrive(world.client, world.add_robot(start), start, start=t0)
    drive2.start_move(t0, 3.0, -0.5, 1.5)
    assert drive2.motion_end() == twin.motion_end()


def test_pybullet_contacts_become_a_field_violation(world: RobotWorld) -> None:
    a, b = Pose(0.5, -0.5, 0.0), Pose(2.5, -0.5, math.pi)
    t0 = Harness().now
    da = PyBulletDrive(world.client, world.add_robot(a), a, start=t0)
    db = PyBulletDrive(world.client, world.add_robot(b), b, start=t0)
    world.detect_collisions()
    assert da.contacts() == []
    h = Harness(pose=a, drive=da)
    bump = line_order(serial_number=SERIAL, order_id="bump", waypoints=[node(0), node(2)], map_id=MAP,
                      now=h.now)
    h.send("order", bump)

    def touching() -> bool:
        world.detect_collisions()
        hit = bool(da.contacts())
        h.agent.set_safety(field_violation=hit)
        return hit

    assert h.run_until(touching, 10)
    assert da.contacts() == [db.body_id]
    assert h.state().safety_state.field_violation
