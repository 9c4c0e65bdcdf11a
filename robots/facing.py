"""A vehicle waiting for its next node's release turns toward it in place (``face_next_node``).

Why: a robot waiting for the next cell (the robot ahead still stands on it) otherwise turns only
once the release comes, which adds a turn (up to 2 s for half a turn at pi/2 rad/s) to every
hand-over of a busy cell such as an induct. A turn in place keeps the robot on its node; an update
that sends it elsewhere costs no more than the turn it would make then anyway.

A node whose order gives ``nodePosition.theta`` (the controller's rotation planner fixes the
heading there, docs/planning.md) is turned to first (:func:`turn_to`): VDA 5050 has the vehicle
assume theta on the node; facing the next node then costs nothing more.
"""

from __future__ import annotations

from bus.clock import Instant
from robots.config import VehicleConfig
from robots.drive import Drive, wrap_angle


def turn_toward(drive: Drive, now: Instant, target_m: tuple[float, float], config: VehicleConfig) -> bool:
    """Start a turn in place toward ``target_m`` (x, y metres) when the vehicle is further off its
    heading than ``heading_tolerance_rad``; True when a turn started."""
    pose = drive.pose(now)
    x, y = target_m
    if pose.distance_to(x, y) <= config.arrival_tolerance_m:
        return False
    heading = pose.heading_to(x, y)
    if abs(wrap_angle(heading - pose.theta_rad)) <= config.heading_tolerance_rad:
        return False
    return drive.start_turn(now, heading).ok


def turn_to(drive: Drive, now: Instant, theta_rad: float, config: VehicleConfig) -> bool:
    """Start a turn in place to ``theta_rad`` (a node's theta, radians in the map frame) when the
    vehicle is further off than ``heading_tolerance_rad``; True when a turn started."""
    if abs(wrap_angle(theta_rad - drive.pose(now).theta_rad)) <= config.heading_tolerance_rad:
        return False
    return drive.start_turn(now, theta_rad).ok


def turn_waiting(drive: Drive, now: Instant, config: VehicleConfig, theta: float | None,
                 next_m: tuple[float, float] | None, idle: bool) -> bool:
    """What a vehicle standing on its node with nothing released ahead turns to: the plan's heading
    ``theta`` (rad) first, else (``face_next_node``, no action queued: ``idle``) the next node at
    ``next_m``; True when a turn started."""
    if theta is not None and turn_to(drive, now, theta, config):
        return True
    return bool(config.face_next_node and next_m and idle and turn_toward(drive, now, next_m, config))
