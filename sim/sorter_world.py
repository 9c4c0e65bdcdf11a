"""PyBullet bodies for a loop sorter: carriers on the loop, parcels that appear and drop, chutes by colour.

The loop is laid out as a circle whose circumference is the loop length (position ``s`` metres
along the loop is angle ``s / R``). Carriers are kinematic, visual-only bodies moved to
``model.carrier_position_m(c, now)`` at every :meth:`SorterWorld.sync`; the model stays the truth
and the world only shows it. A parcel is a body taken from a pool when it is inducted, rides on
its carrier (massless, moved with it), and when it leaves the line it gets a mass and a push
sideways and falls into its chute under gravity; a short while later it goes back to the pool.

Collision and visual shapes are created once in the constructor and shared by every body
(creating a shape per parcel leaks memory in PyBullet), and parcel bodies are reused, so the
number of bodies stays bounded however long the run is: :meth:`SorterWorld.body_count`.
Chutes are coloured by state with ``changeVisualShape``: open green, full orange, closed red.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pybullet as p

from bus.clock import Duration, Instant, seconds, to_seconds
from sorter.events import REJECT_CHUTE, ChuteStatus
from sorter.loop import LoopSorter

COLOURS = {
    ChuteStatus.OPEN: (0.2, 0.7, 0.3, 1.0),
    ChuteStatus.FULL: (1.0, 0.6, 0.1, 1.0),
    ChuteStatus.CLOSED: (0.8, 0.1, 0.1, 1.0),
}
CARRIER_Z_M = 0.8
PARKED = (0.0, 0.0, -50.0)


@dataclass(slots=True)
class _Falling:
    body: int
    until: Instant


class SorterWorld:
    """The visual/physical twin of a :class:`sorter.loop.LoopSorter`.

    Args:
        model: the sorter whose state is shown.
        client: a PyBullet physics client id (``p.connect(p.DIRECT)`` in tests, ``p.GUI`` to watch).
        fall_time: how long a dropped parcel stays visible before it returns to the pool.
    """

    def __init__(self, model: LoopSorter, client: int, fall_time: Duration | None = None,
                 physics_step: Duration | None = None) -> None:
        self.model = model
        self.client = client
        self.fall_time = fall_time if fall_time is not None else seconds(1.5)
        self.physics_step = physics_step if physics_step is not None else seconds(0.1)
        self._physics_at = model.now
        self._chute_version = -1
        cfg = model.config
        self.radius_m = cfg.loop_length_m / (2 * math.pi)
        self._poses: dict[str, tuple[float, float, float]] = {}
        c = client
        p.resetSimulation(physicsClientId=c)
        p.setGravity(0, 0, -9.81, physicsClientId=c)
        p.setPhysicsEngineParameter(fixedTimeStep=to_seconds(self.physics_step), numSubSteps=1,
                                    physicsClientId=c)
        # shapes: created once, shared by every body
        half = model.pitch_m * 0.45
        self._carrier_vis = p.createVisualShape(p.GEOM_BOX, halfExtents=[half, 0.4, 0.05],
                                                rgbaColor=[0.5, 0.5, 0.55, 1], physicsClientId=c)
        self._parcel_col = p.createCollisionShape(p.GEOM_BOX, halfExtents=[0.2, 0.15, 0.1], physicsClientId=c)
        self._parcel_vis = p.createVisualShape(p.GEOM_BOX, halfExtents=[0.2, 0.15, 0.1],
                                               rgbaColor=[0.75, 0.55, 0.35, 1], physicsClientId=c)
        self._chute_vis = p.createVisualShape(p.GEOM_BOX, halfExtents=[0.35, 0.5, 0.3],
                                              rgbaColor=list(COLOURS[ChuteStatus.OPEN]), physicsClientId=c)
        floor = p.createCollisionShape(p.GEOM_PLANE, physicsClientId=c)
        self.floor = p.createMultiBody(0, floor, physicsClientId=c)
        self.carriers = [p.createMultiBody(0, -1, self._carrier_vis, [0, 0, CARRIER_Z_M], physicsClientId=c)
                         for _ in range(model.carrier_count)]
        self.chute_bodies: dict[str, int] = {}
        self._chute_colour: dict[str, ChuteStatus] = {}
        for chute_id in model.chutes.destination_ids() + [REJECT_CHUTE]:
            chute = model.chutes.get(chute_id)
            x, y, yaw = self.chute_pose(chute_id, chute.position_m)
            self.chute_bodies[chute_id] = p.createMultiBody(
                0, -1, self._chute_vis, [x, y, 0.3], p.getQuaternionFromEuler([0, 0, yaw]), physicsClientId=c)
            self._chute_colour[chute_id] = ChuteStatus.OPEN
        self.pool: list[int] = []
        """Parcel bodies not in use (parked under the floor), reused before any new body is made."""
        self.on_loop: dict[str, int] = {}
        self.falling: dict[str, _Falling] = {}
        self.bodies_created = 0
        self._quat = [p.getQuaternionFromEuler([0, 0, 0])]
        self.sync(model.now)

    # --- layout ---------------------------------------------------------------------------
    def loop_xy(self, s_m: float | np.ndarray) -> tuple:
        """Centre of the loop at ``s_m`` metres along it."""
        theta = np.asarray(s_m) / self.radius_m
        return self.radius_m * np.cos(theta), self.radius_m * np.sin(theta)

    def chute_pose(self, chute_id: str, s_m: float) -> tuple[float, float, float]:
        """Where a chute's mouth is: ``(x, y, yaw)``, outside or inside the loop by its side."""
        cached = self._poses.get(chute_id)
        if cached is not None:
            return cached
        index = self.model.chutes.destination_ids().index(chute_id) if chute_id != REJECT_CHUTE else 0
        side = 1.0 if (index % self.model.config.chutes.sides == 0 or chute_id == REJECT_CHUTE) else -1.0
        theta = s_m / self.radius_m
        r = self.radius_m + side * 1.2
        pose = self._poses[chute_id] = (r * math.cos(theta), r * math.sin(theta), theta)
        return pose

    # --- pool -----------------------------------------------------------------------------
    def _take(self) -> int:
        if self.pool:
            return self.pool.pop()
        self.bodies_created += 1
        body = p.createMultiBody(0, self._parcel_col, self._parcel_vis, PARKED, physicsClientId=self.client)
        self._ride(body)
        return body

    def _ride(self, body: int) -> None:
        """A riding or parked parcel is massless and collides with nothing (it costs no physics)."""
        p.setCollisionFilterGroupMask(body, -1, 0, 0, physicsClientId=self.client)

    def _drop(self, body: int) -> None:
        p.changeDynamics(body, -1, mass=1.0, physicsClientId=self.client)
        p.setCollisionFilterGroupMask(body, -1, 1, 1, physicsClientId=self.client)

    def _give_back(self, body: int) -> None:
        p.changeDynamics(body, -1, mass=0, physicsClientId=self.client)
        self._ride(body)
        p.resetBasePositionAndOrientation(body, PARKED, self._quat[0], physicsClientId=self.client)
        self.pool.append(body)

    def body_count(self) -> int:
        """Bodies in the PyBullet world now (bounded: carriers + chutes + floor + parcel pool)."""
        return p.getNumBodies(physicsClientId=self.client)

    # --- sync -----------------------------------------------------------------------------
    def sync(self, now: Instant) -> None:
        """Show the model at ``now``: carriers, parcels riding, parcels dropping, chute colours."""
        c = self.client
        m = self.model
        elapsed_s = to_seconds(now - m.start)
        s = (elapsed_s * m.config.speed_mps - np.arange(m.carrier_count) * m.pitch_m) % m.config.loop_length_m
        xs, ys = self.loop_xy(s)
        quat = self._quat[0]
        reset = p.resetBasePositionAndOrientation
        for body, x, y in zip(self.carriers, xs.tolist(), ys.tolist()):
            reset(body, (x, y, CARRIER_Z_M), quat, physicsClientId=c)
        # parcels that left the line drop into their chute
        for item_id in [i for i in self.on_loop if i not in m.parcels]:
            body = self.on_loop.pop(item_id)
            chute = m.chutes.get(m.finished.get(item_id, REJECT_CHUTE))
            x, y, _ = self.chute_pose(chute.chute_id, chute.position_m)
            self._drop(body)
            reset(body, (x, y, CARRIER_Z_M + 0.3), quat, physicsClientId=c)
            self.falling[item_id] = _Falling(body, Instant(now + self.fall_time))
        for item_id in [i for i, f in self.falling.items() if f.until <= now]:
            self._give_back(self.falling.pop(item_id).body)
        # parcels riding on their carriers
        for item_id, parcel in m.parcels.items():
            body = self.on_loop.get(item_id)
            if body is None:
                body = self.on_loop[item_id] = self._take()
            lead = parcel.carriers[0]
            reset(body, (xs[lead], ys[lead], CARRIER_Z_M + 0.16), quat, physicsClientId=c)
        # chute colours, only when some chute changed state
        if m.chutes.version != self._chute_version:
            self._chute_version = m.chutes.version
            for chute_id, body in self.chute_bodies.items():
                status = m.chutes.get(chute_id).status
                if status is not self._chute_colour[chute_id]:
                    self._chute_colour[chute_id] = status
                    p.changeVisualShape(body, -1, rgbaColor=list(COLOURS[status]), physicsClientId=c)
        # physics (only falling parcels are dynamic) in fixed steps up to now
        steps = (now - self._physics_at) // self.physics_step
        self._physics_at = Instant(self._physics_at + steps * self.physics_step)
        if self.falling:
            for _ in range(min(steps, 10)):
                p.stepSimulation(physicsClientId=c)


def connect(gui: bool = False) -> int:
    """A PyBullet client: ``DIRECT`` (headless, tests and benches) or ``GUI`` (to watch)."""
    return p.connect(p.GUI if gui else p.DIRECT)


def disconnect(client: int) -> None:
    """Close a client made by :func:`connect`."""
    p.disconnect(physicsClientId=client)
