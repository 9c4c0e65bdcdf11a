"""Simulated vehicles: the robots package's ``VehicleAgent`` on a ``PyBulletDrive``, as runner seats.

:class:`SimRobot` is the participant the runner drives (it forwards ``handle``/``tick``/
``next_wakeup``/``will``/``on_connect`` to the agent) and the robot view the trace reads (pose from
the drive, a short state name). It also carries the simulator's faults for one robot: a LoRR-style
delay (``hold``: the agent is not ticked until the hold ends, so it stops at its next node and then
carries on; the controller is not told) and ``kill`` (the agent stops for good).

Simulated vehicles do not publish the optional VDA 5050 ``visualization`` topic: no participant of a
simulation subscribes to it (poses for the trace come from the drives), and at 100 robots it was a
third of all messages. ``bulletyard robots`` vehicles publish it as usual.
"""

from __future__ import annotations

from bus.clock import Instant
from bus.transport import Envelope
from robots.agent import VehicleAgent
from robots.config import VehicleConfig
from robots.drive import Pose
from sim.pybullet_drive import PyBulletDrive
from sim.trace import Pose as TracePose
from sim.world import World

SIM_VEHICLE_CONFIG = VehicleConfig(visualization_interval_s=None, face_next_node=True)


class SimRobot:
    """One vehicle in the simulation (agent + PyBullet drive + fault state)."""

    def __init__(
        self, serial: str, world: World, x_m: float, y_m: float, *, start: Instant, map_id: str,
        bounds_m: tuple[float, float, float, float] | None = None,
    ) -> None:
        """``bounds_m``: the map's extent (min x, min y, max x, max y; metres); the agent refuses
        order nodes outside it with ``noRouteError`` (None: no bound)."""
        self.robot_id = serial
        self.serial = serial
        body = world.add_robot(serial, x_m, y_m, 0.0)
        pose = Pose(x_m, y_m, 0.0)
        self.drive = PyBulletDrive(world.client, body, pose, start=start, mirror=False)
        config = SIM_VEHICLE_CONFIG
        if bounds_m is not None:
            config = config.model_copy(update={"map_bounds_m": bounds_m})
        self.agent = VehicleAgent(serial, drive=self.drive, map_id=map_id, initial_pose=pose, config=config)
        self.held_until = Instant(0)
        self.killed = False

    def subscriptions(self) -> list[tuple[str, int]]:
        """The agent's topic filters (QoS 0, as VDA 5050 asks)."""
        return [(t, 0) for t in self.agent.subscriptions()]

    # -- participant ------------------------------------------------------------------------------

    def handle(self, now: Instant, msg: Envelope) -> list[Envelope]:
        """Forward to the agent (a killed vehicle hears nothing)."""
        return [] if self.killed else self.agent.handle(now, msg)

    def tick(self, now: Instant) -> list[Envelope]:
        """Forward unless held by a delay or killed."""
        if self.killed or now < self.held_until:
            return []
        return self.agent.tick(now)

    def next_wakeup(self) -> Instant | None:
        """The agent's wakeup, postponed to the end of a hold."""
        if self.killed:
            return None
        wake = self.agent.next_wakeup()
        if wake is not None and wake < self.held_until:
            return self.held_until
        return wake

    def will(self) -> Envelope | None:
        """The agent's CONNECTIONBROKEN will."""
        return self.agent.will()

    def on_connect(self, now: Instant) -> list[Envelope]:
        """The agent's ONLINE connection, factsheet and first state."""
        return self.agent.on_connect(now)

    # -- faults -----------------------------------------------------------------------------------

    def hold(self, now: Instant, span_ns: int) -> None:
        """Delay: no tick before ``now + span_ns``."""
        self.held_until = Instant(max(self.held_until, now + span_ns))

    def kill(self) -> None:
        """Stop for good where it is."""
        self.killed = True

    # -- robot view -------------------------------------------------------------------------------

    def pose(self, now: Instant) -> TracePose:
        """Pose of the body at ``now`` (world truth from the drive)."""
        p = self.drive.pose(now)
        return (p.x_m, p.y_m, p.theta_rad)

    def path_ahead(self) -> list[tuple[float, float]]:
        """Map-frame points of the order's nodes still ahead, released or not (for drawing, and
        for the station queues: the last one is where the trip goes); metres."""
        nodes = self.agent._nodes
        return [(n.node_position.x, n.node_position.y) for n in nodes if n.node_position is not None]

    def carrying(self) -> bool:
        """True while the vehicle has a load on board (a pod lifted, not yet set down)."""
        return bool(self.agent.loads)

    def state_name(self) -> str:
        """offline, driving, busy (an action running), waiting (work ahead), idle."""
        a = self.agent
        if self.killed:
            return "offline"
        if self.drive.is_moving(a._last_now):
            return "driving"
        if a._queue:
            return "busy"
        if a._nodes:
            return "waiting"
        return "idle"
