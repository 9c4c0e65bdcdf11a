"""The independent safety check: minimum separation and collisions, computed from the trace alone.

It trusts nothing the controller or the vehicles say about themselves: it reads robot poses from
``trace.jsonl`` and measures. A robot's footprint is a disc of ``footprint_radius_m`` (goods-to-
person robots are round and turn in place, so a disc is their swept shape); two robots collide when
their discs overlap, i.e. their centres are closer than twice the radius (minus a small tolerance
for rounding in the trace). One collision is counted per episode: a pair that overlaps over several
consecutive frames counts once, and again only after it has separated.

The trace is sampled (one frame per trace tick), so two fast robots could cross between frames; the
runner keeps the trace tick short enough for the speeds used (at 1.5 m/s and 0.25 s ticks a robot
moves 0.375 m per frame, less than the 0.8 m disc). PyBullet's own contact query between the robot
bodies is a second, independent check done live by the runner (:meth:`sim.world.World.robot_contacts`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from sim.trace import TraceFrame

DEFAULT_FOOTPRINT_RADIUS_M = 0.4
OVERLAP_TOLERANCE_M = 0.002


@dataclass(frozen=True, slots=True)
class Collision:
    """The first frame of one overlap episode between two robots."""

    t_s: float
    robot_a: str
    robot_b: str
    distance_m: float


@dataclass(slots=True)
class SafetyReport:
    """What the check found over a run.

    Attributes:
        min_distance_m: smallest centre-to-centre distance between any two robots (inf with fewer than two).
        min_pair: the two robots at that distance, and ``min_t_s`` when it happened.
        collisions: overlap episodes, in time order (the first 1,000 kept; ``collision_count`` counts all).
        frames: frames checked.
    """

    min_distance_m: float = math.inf
    min_pair: tuple[str, str] | None = None
    min_t_s: float | None = None
    collision_count: int = 0
    collisions: list[Collision] = field(default_factory=list)
    frames: int = 0

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form for ``summary.json``."""
        return {
            "min_distance_m": None if math.isinf(self.min_distance_m) else round(self.min_distance_m, 4),
            "min_distance_pair": list(self.min_pair) if self.min_pair else None,
            "min_distance_t_s": self.min_t_s,
            "collisions": self.collision_count,
            "first_collisions": [
                {"t_s": c.t_s, "robots": [c.robot_a, c.robot_b], "distance_m": round(c.distance_m, 4)}
                for c in self.collisions[:20]
            ],
            "frames_checked": self.frames,
        }


class SafetyChecker:
    """Streaming check: feed frames in time order with :meth:`observe`, read :attr:`report`."""

    MAX_KEPT = 1000

    def __init__(self, footprint_radius_m: float = DEFAULT_FOOTPRINT_RADIUS_M) -> None:
        if footprint_radius_m <= 0:
            raise ValueError("footprint_radius_m must be positive")
        self.footprint_radius_m = footprint_radius_m
        self._limit_m = 2 * footprint_radius_m - OVERLAP_TOLERANCE_M
        self._overlapping: set[tuple[str, str]] = set()
        self.report = SafetyReport()

    def observe(self, frame: TraceFrame) -> None:
        """Check one frame."""
        self.report.frames += 1
        ids = sorted(frame.robots)
        if len(ids) < 2:
            self._overlapping.clear()
            return
        xy = np.array([frame.robots[i][:2] for i in ids], dtype=np.float64)
        tree = cKDTree(xy)
        dist, idx = tree.query(xy, k=2)
        nearest = int(np.argmin(dist[:, 1]))
        d_min = float(dist[nearest, 1])
        if d_min < self.report.min_distance_m:
            a, b = sorted((ids[nearest], ids[int(idx[nearest, 1])]))
            self.report.min_distance_m = d_min
            self.report.min_pair = (a, b)
            self.report.min_t_s = frame.t_s
        now: set[tuple[str, str]] = set()
        if d_min < self._limit_m:
            for i, j in sorted(tree.query_pairs(self._limit_m)):
                pair = (ids[i], ids[j])
                now.add(pair)
                if pair not in self._overlapping:
                    self.report.collision_count += 1
                    if len(self.report.collisions) < self.MAX_KEPT:
                        d = float(np.hypot(*(xy[i] - xy[j])))
                        self.report.collisions.append(Collision(frame.t_s, pair[0], pair[1], d))
        self._overlapping = now


def check_frames(
    frames: Iterable[TraceFrame], footprint_radius_m: float = DEFAULT_FOOTPRINT_RADIUS_M
) -> SafetyReport:
    """Run the check over a sequence of frames (for example :func:`sim.trace.read_trace`)."""
    checker = SafetyChecker(footprint_radius_m)
    for frame in frames:
        checker.observe(frame)
    return checker.report
