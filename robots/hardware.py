"""Hardware adapter template: where a real robot's motion API plugs into the ``Drive`` port.

A real vehicle runs the same :class:`~robots.agent.VehicleAgent` as the simulator; only the drive
changes. :class:`HardwareDrive` adapts a vendor SDK, described by the narrow
:class:`RobotMotionApi` protocol (move straight to a point, turn in place, stop, and read pose,
velocity, busy flag, battery and faults), to the ``Drive`` port. It never blocks: commands are
sent and the robot is polled in :meth:`HardwareDrive.advance_to`, which the agent calls from
``tick``; while the robot is busy, :meth:`HardwareDrive.motion_end` asks for the next poll
``poll_interval_s`` later, so the runner's wait loop paces the polling.

To support a new robot, write a class with the :class:`RobotMotionApi` methods that calls the
vendor's SDK (serial, CAN, REST, ROS 2 action client, ...), pass it to ``HardwareDrive``, and
run the agent with the realtime fleet runner. :class:`FakeMotionApi` is a serial-free stand-in
used by the tests; it is also the template's worked example. See ``docs/hardware.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from bus.clock import Instant, seconds
from robots.battery import BatteryConfig
from robots.drive import ACCEPTED, BatteryReading, DriveProfile, Pose, Verdict
from robots.kinematic import KinematicDrive


class RobotMotionApi(Protocol):
    """What a robot's own controller must offer (map each method onto the vendor's calls)."""

    def send_goto(self, x_m: float, y_m: float, speed_mps: float) -> bool:
        """Start a straight move to a map point; False if the robot refuses."""
        ...

    def send_rotate(self, theta_rad: float) -> bool:
        """Start turning in place to an absolute heading; False if refused."""
        ...

    def send_stop(self) -> None:
        """Brake to a standstill."""
        ...

    def send_charging(self, on: bool) -> bool:
        """Close or open the charging contacts; False if refused."""
        ...

    def read_pose(self) -> tuple[float, float, float]:
        """x, y (m, map frame) and theta (rad)."""
        ...

    def read_velocity(self) -> tuple[float, float]:
        """Forward speed (m/s) and turn rate (rad/s)."""
        ...

    def read_busy(self) -> bool:
        """True while a move or turn is in progress."""
        ...

    def read_battery(self) -> tuple[float, bool]:
        """Charge in percent and whether it is charging."""
        ...

    def read_odometer_m(self) -> float:
        """Total distance driven, metres."""
        ...

    def read_fault(self) -> str | None:
        """A fault that stops the robot, or None."""
        ...


class HardwareDrive:
    """The ``Drive`` port over a :class:`RobotMotionApi` (see the module docstring).

    Args:
        api: the robot's motion API.
        poll_interval_s: how often to read the robot while it moves.
    """

    def __init__(self, api: RobotMotionApi, *, poll_interval_s: float = 0.1) -> None:
        self.api = api
        self.poll_interval_s = poll_interval_s
        self._busy = False
        self._last_poll: Instant | None = None
        self._pose = Pose(*api.read_pose())

    def advance_to(self, now: Instant) -> None:
        """Poll the robot: pose and busy flag."""
        self._pose = Pose(*self.api.read_pose())
        self._busy = self.api.read_busy()
        self._last_poll = now

    def pose(self, now: Instant) -> Pose:
        """The pose read at the last poll."""
        return self._pose

    def velocity(self, now: Instant) -> tuple[float, float]:
        """Speed and turn rate as the robot reports them."""
        return self.api.read_velocity()

    def is_moving(self, now: Instant) -> bool:
        """Busy flag from the last poll."""
        return self._busy

    def start_move(self, now: Instant, x_m: float, y_m: float, speed_mps: float) -> Verdict:
        """Send a go-to."""
        if not self.api.send_goto(x_m, y_m, speed_mps):
            return Verdict(False, f"robot refused goto ({x_m:.2f}, {y_m:.2f})")
        self._busy, self._last_poll = True, now
        return ACCEPTED

    def start_turn(self, now: Instant, theta_rad: float) -> Verdict:
        """Send a rotate."""
        if not self.api.send_rotate(theta_rad):
            return Verdict(False, f"robot refused rotate to {theta_rad:.3f} rad")
        self._busy, self._last_poll = True, now
        return ACCEPTED

    def stop(self, now: Instant) -> None:
        """Send a stop (the robot keeps reporting busy until it has braked)."""
        self.api.send_stop()

    def passes_at(self, x_m: float, y_m: float, within_m: float) -> Instant | None:
        """Unknown: the robot reports where it is only when polled."""
        return None

    def motion_end(self) -> Instant | None:
        """While busy: the next poll instant (the real end is unknown until the robot says so)."""
        if not self._busy or self._last_poll is None:
            return None
        return Instant(self._last_poll + seconds(self.poll_interval_s))

    def fault(self) -> str | None:
        """The robot's fault, if any."""
        return self.api.read_fault()

    def odometer_m(self, now: Instant) -> float:
        """The robot's odometer."""
        return self.api.read_odometer_m()

    def battery(self, now: Instant) -> BatteryReading:
        """Battery as the robot reports it."""
        percent, charging = self.api.read_battery()
        return BatteryReading(round(percent, 3), charging)

    def set_charging(self, now: Instant, charging: bool) -> Verdict:
        """Ask the robot to start or stop charging."""
        return ACCEPTED if self.api.send_charging(charging) else Verdict(False, "robot refused charging")

    def charge_eta(self, now: Instant, target_percent: float) -> Instant | None:
        """Unknown on hardware: poll again in a second."""
        percent, charging = self.api.read_battery()
        return Instant(now + seconds(1.0)) if charging and percent < target_percent else None


class FakeMotionApi:
    """A serial-free robot for tests: it moves like a :class:`KinematicDrive` on a clock it reads.

    Args:
        start_pose: where the robot stands.
        clock: returns the current instant (the test's simulated time).
        profile: motion limits.
        battery: battery parameters.
    """

    def __init__(self, start_pose: Pose, clock: Callable[[], Instant], *, profile: DriveProfile | None = None,
                 battery: BatteryConfig | None = None) -> None:
        self._clock = clock
        self._body = KinematicDrive(start_pose, start=clock(), profile=profile, battery=battery)
        self.commands: list[tuple] = []
        self.refuse = False

    def send_goto(self, x_m: float, y_m: float, speed_mps: float) -> bool:
        """Record the command, then start the move unless told to refuse."""
        self.commands.append(("goto", round(x_m, 3), round(y_m, 3)))
        return not self.refuse and self._body.start_move(self._clock(), x_m, y_m, speed_mps).ok

    def send_rotate(self, theta_rad: float) -> bool:
        """Record the command, then start the turn unless told to refuse."""
        self.commands.append(("rotate", round(theta_rad, 3)))
        return not self.refuse and self._body.start_turn(self._clock(), theta_rad).ok

    def send_stop(self) -> None:
        """Record the command and brake."""
        self.commands.append(("stop",))
        self._body.stop(self._clock())

    def send_charging(self, on: bool) -> bool:
        """Ask the body to start or stop charging."""
        return self._body.set_charging(self._clock(), on).ok

    def read_pose(self) -> tuple[float, float, float]:
        """The body's pose now."""
        pose = self._body.pose(self._clock())
        return pose.x_m, pose.y_m, pose.theta_rad

    def read_velocity(self) -> tuple[float, float]:
        """The body's speed and turn rate now."""
        return self._body.velocity(self._clock())

    def read_busy(self) -> bool:
        """Whether the body is still moving, after advancing it to now."""
        now = self._clock()
        self._body.advance_to(now)
        return self._body.is_moving(now)

    def read_battery(self) -> tuple[float, bool]:
        """The body's charge and charging flag now."""
        reading = self._body.battery(self._clock())
        return reading.charge_percent, reading.charging

    def read_odometer_m(self) -> float:
        """Distance the body has driven, metres."""
        return self._body.odometer_m(self._clock())

    def read_fault(self) -> str | None:
        """The body's fault, if any."""
        return self._body.fault()
