"""``KinematicDrive``: a pure drive whose pose is a closed-form function of time.

Moves follow a trapezoidal speed profile (accelerate, cruise, decelerate to rest at the target);
turns in place run at a constant rate, like a differential drive. Nothing is stepped: the pose at
any instant is computed from the current motion segment, so hundreds of drives cost nothing
between the instants someone asks about. Optional seeded faults: each move may start late
(a delay) or break down part way (the body stops dead and :meth:`fault` says why), drawn from a
``numpy.random.Generator`` so a run repeats for a seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from bus.clock import NS_PER_S, Instant
from robots.battery import Battery, BatteryConfig
from robots.drive import ACCEPTED, BatteryReading, DriveProfile, Pose, Verdict, wrap_angle


class FaultConfig(BaseModel):
    """Seeded imperfections of a simulated drive (all off by default)."""

    model_config = ConfigDict(frozen=True)

    delay_probability: float = Field(0.0, ge=0, le=1, description="chance a move starts late")
    delay_max_s: float = Field(0.0, ge=0, description="longest start delay, seconds (uniform)")
    breakdown_probability: float = Field(0.0, ge=0, le=1, description="chance a move breaks down")


@dataclass(frozen=True, slots=True)
class _Move:
    """One straight move: trapezoid from ``v0`` up to ``vp``, cruise, down to rest."""

    t0: Instant
    start: Pose
    ux: float
    uy: float
    length_m: float
    v0: float
    vp: float
    accel: float
    decel: float
    t1_s: float
    t2_s: float
    t3_s: float
    end: Instant = field(init=False)  # when the move is over (asked many times per move)

    def __post_init__(self) -> None:
        duration_ns = math.ceil((self.t1_s + self.t2_s + self.t3_s) * NS_PER_S)
        object.__setattr__(self, "end", Instant(self.t0 + duration_ns))

    def along(self, now: Instant) -> tuple[float, float]:
        """Distance travelled (m) and speed (m/s) at ``now``."""
        t = max(0.0, (now - self.t0) / NS_PER_S)
        if t < self.t1_s:
            return self.v0 * t + 0.5 * self.accel * t * t, self.v0 + self.accel * t
        s1 = (self.v0 + self.vp) / 2 * self.t1_s
        t -= self.t1_s
        if t < self.t2_s:
            return s1 + self.vp * t, self.vp
        s2 = s1 + self.vp * self.t2_s
        t -= self.t2_s
        if t < self.t3_s:
            return min(self.length_m, s2 + self.vp * t - 0.5 * self.decel * t * t), self.vp - self.decel * t
        return self.length_m, 0.0

    def pose(self, now: Instant) -> Pose:
        s, _ = self.along(now)
        return Pose(self.start.x_m + self.ux * s, self.start.y_m + self.uy * s, self.start.theta_rad)

    def time_to(self, s_m: float) -> float | None:
        """Seconds after ``t0`` at which ``s_m`` metres are covered (inverse of :meth:`along`);
        None beyond the move's length."""
        if s_m <= 0:
            return 0.0
        if s_m > self.length_m:
            return None
        s1 = (self.v0 + self.vp) / 2 * self.t1_s
        if s_m <= s1:  # accelerating: v0 t + a t^2 / 2 = s
            if self.accel <= 0:
                return s_m / self.v0
            return (math.sqrt(self.v0 * self.v0 + 2 * self.accel * s_m) - self.v0) / self.accel
        s2 = s1 + self.vp * self.t2_s
        if s_m <= s2:
            return self.t1_s + (s_m - s1) / self.vp
        disc = max(0.0, self.vp * self.vp - 2 * self.decel * (s_m - s2))
        return min(self.t1_s + self.t2_s + (self.vp - math.sqrt(disc)) / self.decel,
                   self.t1_s + self.t2_s + self.t3_s)


def plan_move(t0: Instant, start: Pose, dx: float, dy: float, v0: float, vmax: float,
              accel: float, decel: float) -> _Move:
    """A trapezoidal move over ``(dx, dy)`` metres starting at speed ``v0`` (m/s)."""
    length = math.hypot(dx, dy)
    if length > 0:
        ux, uy = dx / length, dy / length
    else:
        ux, uy = math.cos(start.theta_rad), math.sin(start.theta_rad)
    vmax = max(vmax, v0)
    vp = min(vmax, math.sqrt(max(0.0, (2 * accel * decel * length + decel * v0 * v0) / (accel + decel))))
    t1 = max(0.0, (vp - v0) / accel)
    s1 = (v0 + vp) / 2 * t1
    t3 = vp / decel if vp > 0 else 0.0
    s3 = vp * vp / (2 * decel)
    t2 = max(0.0, (length - s1 - s3) / vp) if vp > 0 else 0.0
    return _Move(t0, start, ux, uy, length, v0, vp, accel, decel, t1, t2, t3)


@dataclass(frozen=True, slots=True)
class _Turn:
    """A turn in place by ``delta_rad`` at ``rate_rps``."""

    t0: Instant
    start: Pose
    delta_rad: float
    rate_rps: float
    end: Instant = field(init=False)  # when the turn is over

    def __post_init__(self) -> None:
        duration_ns = math.ceil(abs(self.delta_rad) / self.rate_rps * NS_PER_S)
        object.__setattr__(self, "end", Instant(self.t0 + duration_ns))

    def pose(self, now: Instant) -> Pose:
        t = max(0.0, (now - self.t0) / NS_PER_S)
        turned = min(abs(self.delta_rad), self.rate_rps * t)
        return Pose(self.start.x_m, self.start.y_m,
                    wrap_angle(self.start.theta_rad + math.copysign(turned, self.delta_rad)))


class KinematicDrive:
    """A drive computed in closed form from time (see the module docstring).

    Args:
        start_pose: where the body stands at ``start``.
        start: the instant the drive is created (battery integration starts here).
        profile: speed, acceleration, deceleration and turn-rate limits.
        battery: battery parameters.
        faults: seeded delays and breakdowns (``rng`` required when any is on).
        rng: the per-vehicle random stream.
    """

    def __init__(self, start_pose: Pose, *, start: Instant, profile: DriveProfile | None = None,
                 battery: BatteryConfig | None = None, faults: FaultConfig | None = None,
                 rng: np.random.Generator | None = None) -> None:
        self.profile = profile or DriveProfile()
        self.faults = faults or FaultConfig()
        if (self.faults.delay_probability or self.faults.breakdown_probability) and rng is None:
            raise ValueError("KinematicDrive: fault injection needs an rng")
        self._rng = rng
        self._rest = start_pose
        self._asked: tuple[_Move | _Turn | None, int, Pose] = (None, 0, start_pose)  # see pose()
        self._segment: _Move | _Turn | None = None
        self._odometer_base_m = 0.0
        self._breakdown_at: Instant | None = None
        self._fault: str | None = None
        self._battery = Battery(battery or BatteryConfig(), start)

    # --- motion -----------------------------------------------------------------------------
    def _settle(self, now: Instant) -> None:
        """Fold a finished (or broken-down) segment into the resting pose."""
        seg = self._segment
        if seg is None:
            return
        if self._breakdown_at is not None and now >= self._breakdown_at:
            at = self._breakdown_at
            self._rest = seg.pose(at)
            if isinstance(seg, _Move):
                self._odometer_base_m += seg.along(at)[0]
            self._segment = None
            self._breakdown_at = None
            self._fault = "drive breakdown: motor controller stopped the vehicle"
        elif now >= seg.end:
            self._rest = seg.pose(seg.end)
            if isinstance(seg, _Move):
                self._odometer_base_m += seg.length_m
            self._segment = None

    def advance_to(self, now: Instant) -> None:
        """Settle finished motion and integrate the battery up to ``now``."""
        self._settle(now)
        self._battery.update(now, self.odometer_m(now))

    def _effective(self, now: Instant) -> Instant:
        if self._breakdown_at is not None and now > self._breakdown_at:
            return self._breakdown_at
        return now

    def pose(self, now: Instant) -> Pose:
        """Pose at ``now`` (a broken-down body stays where it stopped).

        The last answer is kept: an agent asks several times per control cycle at one instant.
        """
        seg = self._segment
        if seg is None:
            return self._rest
        t = self._effective(now)
        if seg is self._asked[0] and t == self._asked[1]:
            return self._asked[2]
        pose = seg.pose(t)
        self._asked = (seg, t, pose)
        return pose

    def velocity(self, now: Instant) -> tuple[float, float]:
        """Forward speed (m/s) and turn rate (rad/s)."""
        seg = self._segment
        if seg is None or now < seg.t0 or now >= seg.end or (
                self._breakdown_at is not None and now >= self._breakdown_at):
            return 0.0, 0.0
        if isinstance(seg, _Move):
            return seg.along(now)[1], 0.0
        return 0.0, math.copysign(seg.rate_rps, seg.delta_rad)

    def is_moving(self, now: Instant) -> bool:
        """True while a motion segment is still running at ``now``."""
        seg = self._segment
        if seg is None:
            return False
        if self._breakdown_at is not None and now >= self._breakdown_at:
            return False
        return now < seg.end

    def odometer_m(self, now: Instant) -> float:
        """Total distance driven, metres."""
        seg = self._segment
        if isinstance(seg, _Move):
            return self._odometer_base_m + seg.along(self._effective(now))[0]
        return self._odometer_base_m

    def _draw_faults(self, now: Instant, duration_ns: int) -> tuple[Instant, Instant | None]:
        """Start instant after any seeded delay, and a breakdown instant if one is drawn."""
        f = self.faults
        start = now
        breakdown = None
        if self._rng is not None:
            if f.delay_probability and self._rng.random() < f.delay_probability:
                start = Instant(now + int(self._rng.uniform(0, f.delay_max_s) * NS_PER_S))
            if f.breakdown_probability and self._rng.random() < f.breakdown_probability:
                breakdown = Instant(start + int(self._rng.uniform(0.1, 0.9) * duration_ns))
        return start, breakdown

    def start_move(self, now: Instant, x_m: float, y_m: float, speed_mps: float) -> Verdict:
        """Drive straight to ``(x_m, y_m)`` (the heading is kept; turn first)."""
        self.advance_to(now)
        if self._fault:
            return Verdict(False, self._fault)
        here = self.pose(now)
        _, v0 = self._segment.along(now) if isinstance(self._segment, _Move) else (0.0, 0.0)
        self._commit(now)
        p = self.profile
        probe = plan_move(now, here, x_m - here.x_m, y_m - here.y_m, v0, min(speed_mps, p.speed_mps),
                          p.accel_mps2, p.decel_mps2)
        t0, breakdown = self._draw_faults(now, probe.end - now)
        self._segment = probe if t0 == now else plan_move(
            t0, here, x_m - here.x_m, y_m - here.y_m, 0.0, min(speed_mps, p.speed_mps),
            p.accel_mps2, p.decel_mps2)
        self._breakdown_at = breakdown
        return ACCEPTED

    def start_turn(self, now: Instant, theta_rad: float) -> Verdict:
        """Turn in place to ``theta_rad`` the shortest way."""
        self.advance_to(now)
        if self._fault:
            return Verdict(False, self._fault)
        here = self.pose(now)
        self._commit(now)
        delta = wrap_angle(theta_rad - here.theta_rad)
        turn = _Turn(now, here, delta, self.profile.turn_rate_rps)
        t0, breakdown = self._draw_faults(now, turn.end - now)
        self._segment = turn if t0 == now else _Turn(t0, here, delta, self.profile.turn_rate_rps)
        self._breakdown_at = breakdown
        return ACCEPTED

    def _commit(self, now: Instant) -> None:
        """End the current segment at ``now`` (its travelled distance goes to the odometer)."""
        seg = self._segment
        if seg is None:
            return
        self._odometer_base_m = self.odometer_m(now)
        self._rest = seg.pose(now)
        self._segment = None
        self._breakdown_at = None

    def stop(self, now: Instant) -> None:
        """Brake: a move decelerates to rest along its line; a turn stops at once."""
        self.advance_to(now)
        seg = self._segment
        if isinstance(seg, _Move) and now >= seg.t0:
            _, v = seg.along(now)
            here = seg.pose(now)
            self._commit(now)
            if v > 1e-9:
                dist = v * v / (2 * self.profile.decel_mps2)
                self._segment = plan_move(now, here, seg.ux * dist, seg.uy * dist, v, v,
                                          self.profile.accel_mps2, self.profile.decel_mps2)
        else:
            self._commit(now)

    def passes_at(self, x_m: float, y_m: float, within_m: float) -> Instant | None:
        """When the running move brings ``(x_m, y_m)`` within ``within_m`` ahead (closed form).

        The body moves along ``(ux, uy)`` while facing its start heading, so the distance ahead
        falls linearly with the distance covered. The instant is rounded up to the nanosecond and
        checked against :meth:`pose`, so at the instant returned the point is never still ahead.
        """
        seg = self._segment
        if not isinstance(seg, _Move):
            return None
        c, s = math.cos(seg.start.theta_rad), math.sin(seg.start.theta_rad)
        rate = seg.ux * c + seg.uy * s  # metres ahead lost per metre covered
        if rate <= 1e-9:
            return None
        ahead0 = (x_m - seg.start.x_m) * c + (y_m - seg.start.y_m) * s
        t = seg.time_to((ahead0 - within_m) / rate)
        if t is None:
            return None
        at = Instant(seg.t0 + math.ceil(t * NS_PER_S))
        for _ in range(8):  # floating point: step past the crossing by whole microseconds
            pose = seg.pose(at)
            if (x_m - pose.x_m) * c + (y_m - pose.y_m) * s <= within_m:
                break
            at = Instant(at + 1_000)
        else:
            return None
        if self._breakdown_at is not None and at > self._breakdown_at:
            return None
        return at

    def motion_end(self) -> Instant | None:
        """When the current segment ends, or breaks down (None at rest)."""
        seg = self._segment
        if seg is None:
            return None
        return seg.end if self._breakdown_at is None else min(seg.end, self._breakdown_at)

    def fault(self) -> str | None:
        """Why the body stopped for good, or None."""
        return self._fault

    def break_down(self, at: Instant) -> None:
        """Force a breakdown at ``at`` (tests and fault injection)."""
        if self._segment is None:
            self._fault = "drive breakdown: motor controller stopped the vehicle"
        else:
            self._breakdown_at = at

    # --- battery ----------------------------------------------------------------------------
    def battery(self, now: Instant) -> BatteryReading:
        """Battery reading at ``now``."""
        self._battery.update(now, self.odometer_m(now))
        return self._battery.reading()

    def set_charging(self, now: Instant, charging: bool) -> Verdict:
        """Start or stop charging (only at rest)."""
        self.advance_to(now)
        if charging and self.is_moving(now):
            return Verdict(False, "cannot charge while moving")
        self._battery.charging = charging
        return ACCEPTED

    def charge_eta(self, now: Instant, target_percent: float) -> Instant | None:
        """When the battery reaches ``target_percent`` while charging."""
        self._battery.update(now, self.odometer_m(now))
        return self._battery.eta(target_percent)
