"""The pure kinematic drive: trapezoidal profile, turns, braking, seeded faults, battery."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bus.clock import SIM_EPOCH, Instant, seconds
from robots.battery import BatteryConfig
from robots.drive import DriveProfile, Pose
from robots.kinematic import FaultConfig, KinematicDrive

T0 = SIM_EPOCH
PROFILE = DriveProfile(speed_mps=1.5, accel_mps2=1.0, decel_mps2=1.0, turn_rate_rps=math.pi / 2)


def at(t_s: float):
    return T0 + seconds(t_s)


def test_trapezoid_accelerates_cruises_and_stops_on_the_target() -> None:
    d = KinematicDrive(Pose(0, 0, 0), start=T0, profile=PROFILE)
    assert d.start_move(T0, 3.0, 0.0, 1.5).ok
    # 1.5 s up to 1.5 m/s (1.125 m), 0.5 s cruise (0.75 m), 1.5 s down (1.125 m): 3.5 s
    assert d.motion_end() == at(3.5)
    assert d.pose(at(1.0)).x_m == pytest.approx(0.5)
    assert d.velocity(at(1.0))[0] == pytest.approx(1.0)
    assert d.velocity(at(1.75))[0] == pytest.approx(1.5)
    assert d.pose(at(2.0)).x_m == pytest.approx(1.875)
    assert d.is_moving(at(3.4))
    assert not d.is_moving(at(3.5))
    assert d.pose(at(9.0)) == Pose(3.0, 0.0, 0.0)
    assert d.odometer_m(at(9.0)) == pytest.approx(3.0)


def test_short_move_is_a_triangle_and_respects_the_speed_limit() -> None:
    d = KinematicDrive(Pose(0, 0, 0), start=T0, profile=PROFILE)
    d.start_move(T0, 0.0, -1.0, 1.5)  # 1 m south: peak speed 1 m/s, 2 s
    assert d.motion_end() == at(2.0)
    assert max(d.velocity(at(t / 10))[0] for t in range(20)) <= 1.0 + 1e-9
    assert d.pose(at(2.0)).y_m == pytest.approx(-1.0)
    slow = KinematicDrive(Pose(0, 0, 0), start=T0, profile=PROFILE)
    slow.start_move(T0, 10.0, 0.0, 0.5)
    assert max(slow.velocity(at(t)).__getitem__(0) for t in range(20)) == pytest.approx(0.5)


def test_turn_in_place_takes_the_short_way() -> None:
    d = KinematicDrive(Pose(1, 1, math.radians(170)), start=T0, profile=PROFILE)
    d.start_turn(T0, math.radians(-170))  # 20 degrees through +-180
    end = d.motion_end()
    assert (end - T0) / 1e9 == pytest.approx(math.radians(20) / (math.pi / 2), abs=1e-6)
    assert abs(d.pose(end).theta_rad - math.radians(-170)) < 1e-9
    assert (d.pose(end).x_m, d.pose(end).y_m) == (1, 1)
    assert d.velocity(T0 + (end - T0) // 2)[1] > 0


def test_stop_brakes_along_the_line() -> None:
    d = KinematicDrive(Pose(0, 0, 0), start=T0, profile=PROFILE)
    d.start_move(T0, 10.0, 0.0, 1.5)
    d.stop(at(1.0))  # at 0.5 m doing 1 m/s: 0.5 m more to rest
    assert d.pose(at(5.0)).x_m == pytest.approx(1.0)
    assert not d.is_moving(at(2.0))
    d.start_move(at(5.0), 2.0, 0.0, 1.5)  # resumes from rest
    assert d.pose(at(20.0)).x_m == pytest.approx(2.0)


def test_seeded_faults_repeat_for_a_seed_and_differ_for_another() -> None:
    faults = FaultConfig(delay_probability=0.5, delay_max_s=2.0, breakdown_probability=0.3)

    def run(seed: int) -> list[tuple[float, float]]:
        d = KinematicDrive(Pose(0, 0, 0), start=T0, profile=PROFILE, faults=faults,
                           rng=np.random.default_rng(seed))
        out, now = [], T0
        for k in range(20):
            if d.fault():
                break
            d.start_move(now, float(k + 1), 0.0, 1.5)
            now = d.motion_end()
            d.advance_to(now)
            out.append((round(d.pose(now).x_m, 6), (now - T0) / 1e9))
        return out

    assert run(7) == run(7)
    assert run(7) != run(8)
    with pytest.raises(ValueError, match="rng"):
        KinematicDrive(Pose(0, 0, 0), start=T0, faults=faults)


def test_breakdown_stops_the_body_and_refuses_further_motion() -> None:
    d = KinematicDrive(Pose(0, 0, 0), start=T0, profile=PROFILE)
    d.start_move(T0, 5.0, 0.0, 1.5)
    d.break_down(at(1.0))
    d.advance_to(at(3.0))
    assert d.fault()
    assert d.pose(at(3.0)).x_m == pytest.approx(0.5)
    assert not d.start_move(at(3.0), 0.0, 0.0, 1.0).ok


def test_battery_drains_by_distance_and_time_and_charges() -> None:
    cfg = BatteryConfig(initial_percent=50, drain_percent_per_m=1.0, drain_percent_per_s=0.1,
                        charge_percent_per_s=2.0)
    d = KinematicDrive(Pose(0, 0, 0), start=T0, profile=PROFILE, battery=cfg)
    d.start_move(T0, 3.0, 0.0, 1.5)
    d.advance_to(at(10.0))
    assert d.battery(at(10.0)).charge_percent == pytest.approx(50 - 3.0 - 1.0)
    assert d.set_charging(at(10.0), True).ok
    assert d.charge_eta(at(10.0), 100) == pytest.approx(at(10.0 + 54 / 2.0), abs=2)
    assert d.battery(at(20.0)).charge_percent == pytest.approx(66.0)
    assert d.battery(at(100.0)).charge_percent == 100.0


@settings(max_examples=200, deadline=None)
@given(
    length=st.floats(0.2, 12.0),
    ahead=st.floats(0.0, 12.0),
    heading_error=st.floats(-0.05, 0.05),
    speed=st.floats(0.3, 2.0),
    first_leg=st.floats(0.0, 3.0),
)
def test_passes_at_is_the_first_instant_the_point_is_no_longer_ahead(
    length: float, ahead: float, heading_error: float, speed: float, first_leg: float
) -> None:
    """The closed-form pass instant agrees with the pose: at it the point is within the tolerance,
    2 microseconds earlier it is not (moves that start at speed included, through ``first_leg``)."""
    tol = 0.05
    t0 = T0
    drive = KinematicDrive(Pose(0.0, 0.0, heading_error), start=t0)
    start = t0
    if first_leg > 0:  # a first move, replaced part way: the second starts at speed
        drive.start_move(t0, first_leg + length, 0.0, speed)
        start = Instant(t0 + seconds(first_leg / speed / 2))
        drive.start_move(start, drive.pose(start).x_m + length, 0.0, speed)
    else:
        drive.start_move(t0, length, 0.0, speed)
    here = drive.pose(start)
    px, py = here.x_m + ahead, here.y_m

    def ahead_of(at: Instant) -> float:
        pose = drive.pose(at)
        return (px - pose.x_m) * math.cos(pose.theta_rad) + (py - pose.y_m) * math.sin(pose.theta_rad)

    at = drive.passes_at(px, py, tol)
    end = drive.motion_end()
    assert end is not None
    if ahead_of(end) > tol:
        assert at is None  # the move ends short of the point
        return
    assert at is not None
    assert start <= at <= end
    assert ahead_of(at) <= tol
    if at - 2_000 > start:
        assert ahead_of(Instant(at - 2_000)) > tol


def test_passes_at_is_none_at_rest_and_in_a_turn() -> None:
    drive = KinematicDrive(Pose(0.0, 0.0, 0.0), start=T0)
    assert drive.passes_at(1.0, 0.0, 0.05) is None
    drive.start_turn(T0, 1.0)
    assert drive.passes_at(1.0, 0.0, 0.05) is None
