"""The ``Drive`` port: what a vehicle agent needs from its body, and nothing more.

A drive moves straight to a point at a speed, turns in place to a heading, stops, and reports its
pose, whether it is moving, its battery and any fault. Every call takes the current ``Instant``:
a drive never reads a clock, so the simulator can run it on simulated time and a hardware
adapter can be tested with a fake. Implementations: :class:`robots.kinematic.KinematicDrive`
(pure, analytic trapezoidal profile), ``sim.pybullet_drive.PyBulletDrive`` (the same profile
moving a PyBullet body) and :class:`robots.hardware.HardwareDrive` (a template for real robots).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from bus.clock import Instant


@dataclass(frozen=True, slots=True)
class Pose:
    """A pose in the map frame: metres (x east, y north) and radians CCW from +x."""

    x_m: float
    y_m: float
    theta_rad: float

    def distance_to(self, x_m: float, y_m: float) -> float:
        """Straight-line distance to a point, metres."""
        return math.hypot(x_m - self.x_m, y_m - self.y_m)

    def heading_to(self, x_m: float, y_m: float) -> float:
        """Heading from this pose toward a point, radians in (-pi, pi]."""
        return math.atan2(y_m - self.y_m, x_m - self.x_m)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a drive accepted a command, and why not (openTCS-style explained boolean)."""

    ok: bool
    reason: str = ""


ACCEPTED = Verdict(True)


@dataclass(frozen=True, slots=True)
class BatteryReading:
    """Battery as the body reports it: charge in percent (0-100), charging flag, volts if known."""

    charge_percent: float
    charging: bool
    voltage_v: float | None = None


class DriveProfile(BaseModel):
    """Motion limits of a vehicle (also published in its factsheet)."""

    model_config = ConfigDict(frozen=True)

    speed_mps: float = Field(1.5, gt=0, description="cruise speed when the edge sets no lower limit")
    accel_mps2: float = Field(1.0, gt=0, description="acceleration")
    decel_mps2: float = Field(1.0, gt=0, description="deceleration (also used by stop)")
    turn_rate_rps: float = Field(math.pi / 2, gt=0, description="turn-in-place rate, rad/s")


def wrap_angle(theta_rad: float) -> float:
    """An angle folded into [-pi, pi) radians."""
    return (theta_rad + math.pi) % (2 * math.pi) - math.pi


class Drive(Protocol):
    """A vehicle body. All methods are cheap; none blocks or reads a clock."""

    def advance_to(self, now: Instant) -> None:
        """Bring the drive's state up to ``now`` (arrivals, faults, battery)."""
        ...

    def pose(self, now: Instant) -> Pose:
        """Where the body is at ``now``."""
        ...

    def velocity(self, now: Instant) -> tuple[float, float]:
        """Forward speed (m/s) and turn rate (rad/s) at ``now``."""
        ...

    def is_moving(self, now: Instant) -> bool:
        """True while a move, a turn or a stop is under way."""
        ...

    def start_move(self, now: Instant, x_m: float, y_m: float, speed_mps: float) -> Verdict:
        """Drive straight to a point at up to ``speed_mps`` and stop there."""
        ...

    def start_turn(self, now: Instant, theta_rad: float) -> Verdict:
        """Turn in place to an absolute heading (shortest way)."""
        ...

    def stop(self, now: Instant) -> None:
        """Brake to a standstill as quickly as the profile allows."""
        ...

    def motion_end(self) -> Instant | None:
        """When the current motion will be over, when known (for the agent's next wakeup)."""
        ...

    def passes_at(self, x_m: float, y_m: float, within_m: float) -> Instant | None:
        """When the running straight move brings ``(x_m, y_m)`` to no more than ``within_m`` ahead
        of the body along its heading; None when no move runs, it never gets there, or the drive
        cannot tell (the agent then looks at :meth:`pose` instead)."""
        ...

    def fault(self) -> str | None:
        """A description of a breakdown that stops the body, or None."""
        ...

    def odometer_m(self, now: Instant) -> float:
        """Total distance driven since creation, metres."""
        ...

    def battery(self, now: Instant) -> BatteryReading:
        """The battery at ``now``."""
        ...

    def set_charging(self, now: Instant, charging: bool) -> Verdict:
        """Start or stop charging (the agent checks it stands on a charger first)."""
        ...

    def charge_eta(self, now: Instant, target_percent: float) -> Instant | None:
        """When charging reaches ``target_percent``, if charging and known."""
        ...
