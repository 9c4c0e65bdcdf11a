"""``PyBulletDrive``: the kinematic drive moving a body in a PyBullet world.

Motion comes from a wrapped :class:`robots.kinematic.KinematicDrive` (the same trapezoidal profile
and turn rate, the same seeded faults); this adapter only mirrors the pose onto a PyBullet body
with ``resetBasePositionAndOrientation`` whenever the agent advances it (``bulletyard robots``; the
simulator turns this off and places every body once per trace frame). The world is never
stepped (kinematic, not physics), so hundreds of robots stay cheap; ``contacts()`` asks Bullet for
the body's contact points after the runner's ``performCollisionDetection``, and a contact with
another robot is reported as a protective-field violation in ``state.safetyState``.

:class:`RobotWorld` is the small scene ``bulletyard robots --drive pybullet`` needs when no full
simulator world is around: a floor and robot bodies whose shapes are created once and shared.
"""

from __future__ import annotations

import math

import numpy as np
import pybullet as p

from bus.clock import Instant
from robots.battery import BatteryConfig
from robots.drive import BatteryReading, DriveProfile, Pose, Verdict
from robots.kinematic import FaultConfig, KinematicDrive

BODY_HEIGHT_M = 0.3


class PyBulletDrive:
    """A :class:`~robots.drive.Drive` whose body lives in PyBullet.

    Args:
        client_id: the PyBullet physics client.
        body_id: the robot's body (created by :class:`RobotWorld` or the simulator's world).
        start_pose: where the body starts.
        start: the instant the drive is created.
        profile, battery, faults, rng: as for :class:`~robots.kinematic.KinematicDrive`.
        mirror: move the body whenever the motion is advanced. The simulator passes False: it
            places every body from the trace frame before it asks Bullet for contacts or draws, so
            moving bodies between frames was a third of the drive's cost for nothing.
    """

    def __init__(self, client_id: int, body_id: int, start_pose: Pose, *, start: Instant,
                 profile: DriveProfile | None = None, battery: BatteryConfig | None = None,
                 faults: FaultConfig | None = None, rng: np.random.Generator | None = None,
                 mirror: bool = True) -> None:
        self.client_id = client_id
        self.mirror = mirror
        self.body_id = body_id
        self._kin = KinematicDrive(start_pose, start=start, profile=profile, battery=battery, faults=faults,
                                   rng=rng)
        self._shown: Pose | None = None
        self._sync(start)

    def _sync(self, now: Instant) -> None:
        if not self.mirror:
            return
        pose = self._kin.pose(now)
        if pose != self._shown:
            orn = p.getQuaternionFromEuler((0.0, 0.0, pose.theta_rad))
            p.resetBasePositionAndOrientation(self.body_id, (pose.x_m, pose.y_m, BODY_HEIGHT_M / 2), orn,
                                              physicsClientId=self.client_id)
            self._shown = pose

    # --- the Drive port ---------------------------------------------------------------------
    def advance_to(self, now: Instant) -> None:
        """Advance the motion and move the body."""
        self._kin.advance_to(now)
        self._sync(now)

    def pose(self, now: Instant) -> Pose:
        """Pose at ``now`` (from the profile; the body shows it after :meth:`advance_to`)."""
        return self._kin.pose(now)

    def velocity(self, now: Instant) -> tuple[float, float]:
        """Forward speed (m/s) and turn rate (rad/s)."""
        return self._kin.velocity(now)

    def is_moving(self, now: Instant) -> bool:
        """True while moving or turning."""
        return self._kin.is_moving(now)

    def start_move(self, now: Instant, x_m: float, y_m: float, speed_mps: float) -> Verdict:
        """Straight move to a point."""
        verdict = self._kin.start_move(now, x_m, y_m, speed_mps)
        self._sync(now)
        return verdict

    def start_turn(self, now: Instant, theta_rad: float) -> Verdict:
        """Turn in place."""
        verdict = self._kin.start_turn(now, theta_rad)
        self._sync(now)
        return verdict

    def stop(self, now: Instant) -> None:
        """Brake to rest."""
        self._kin.stop(now)
        self._sync(now)

    def motion_end(self) -> Instant | None:
        """When the current motion ends."""
        return self._kin.motion_end()

    def passes_at(self, x_m: float, y_m: float, within_m: float) -> Instant | None:
        """When the running move passes a point (closed form, from the profile)."""
        return self._kin.passes_at(x_m, y_m, within_m)

    def fault(self) -> str | None:
        """A breakdown, if any."""
        return self._kin.fault()

    def break_down(self, at: Instant) -> None:
        """Force a breakdown (fault injection)."""
        self._kin.break_down(at)

    def odometer_m(self, now: Instant) -> float:
        """Distance driven, metres."""
        return self._kin.odometer_m(now)

    def battery(self, now: Instant) -> BatteryReading:
        """Battery reading."""
        return self._kin.battery(now)

    def set_charging(self, now: Instant, charging: bool) -> Verdict:
        """Start or stop charging."""
        return self._kin.set_charging(now, charging)

    def charge_eta(self, now: Instant, target_percent: float) -> Instant | None:
        """When charging reaches the target."""
        return self._kin.charge_eta(now, target_percent)

    # --- sim-only extras ----------------------------------------------------------------------
    def contacts(self) -> list[int]:
        """Bodies this robot touches (call after ``performCollisionDetection``), sorted, no repeats."""
        points = p.getContactPoints(bodyA=self.body_id, physicsClientId=self.client_id)
        return sorted({int(pt[2]) for pt in points if pt[2] != self.body_id})


class RobotWorld:
    """A floor and disc-shaped robot bodies with shapes shared by every robot.

    Args:
        gui: open PyBullet's window (``p.GUI``) instead of headless ``p.DIRECT``.
        footprint_radius_m: robot disc radius.
    """

    def __init__(self, *, gui: bool = False, footprint_radius_m: float = 0.4) -> None:
        self.client = p.connect(p.GUI if gui else p.DIRECT)
        p.setGravity(0, 0, 0, physicsClientId=self.client)
        self._collision = p.createCollisionShape(p.GEOM_CYLINDER, radius=footprint_radius_m,
                                                 height=BODY_HEIGHT_M, physicsClientId=self.client)
        self._visual = p.createVisualShape(p.GEOM_CYLINDER, radius=footprint_radius_m, length=BODY_HEIGHT_M,
                                           rgbaColor=(0.1, 0.55, 0.95, 1.0), physicsClientId=self.client)
        self.bodies: list[int] = []

    def add_floor(self, width_m: float, height_m: float) -> int:
        """A thin grey floor covering ``[0, width] x [-height, 0]`` (map frame, metres)."""
        half = (width_m / 2, height_m / 2, 0.01)
        vis = p.createVisualShape(p.GEOM_BOX, halfExtents=half, rgbaColor=(0.85, 0.85, 0.85, 1.0),
                                  physicsClientId=self.client)
        return p.createMultiBody(baseMass=0, baseVisualShapeIndex=vis, physicsClientId=self.client,
                                 basePosition=(width_m / 2, -height_m / 2, -0.01))

    def add_robot(self, pose: Pose) -> int:
        """A robot body at ``pose`` (mass 1 so the broadphase pairs robots; the world is never stepped)."""
        body = p.createMultiBody(baseMass=1.0, baseCollisionShapeIndex=self._collision,
                                 baseVisualShapeIndex=self._visual,
                                 basePosition=(pose.x_m, pose.y_m, BODY_HEIGHT_M / 2),
                                 baseOrientation=p.getQuaternionFromEuler((0, 0, pose.theta_rad)),
                                 physicsClientId=self.client)
        self.bodies.append(body)
        return body

    def detect_collisions(self) -> None:
        """Update contact points for the current poses (no dynamics step)."""
        p.performCollisionDetection(physicsClientId=self.client)

    def close(self) -> None:
        """Disconnect the client."""
        p.disconnect(physicsClientId=self.client)


def heading_quaternion(theta_rad: float) -> tuple[float, float, float, float]:
    """Quaternion of a yaw (helper for tests)."""
    return (0.0, 0.0, math.sin(theta_rad / 2), math.cos(theta_rad / 2))
