"""Geometry of driving through nodes: where a node lies from the vehicle, and how many released
nodes lie straight ahead (driven as one move).

Why: stopping dead on every node makes a 1 m cell cost 2 s (accelerate, brake) at a 1.5 m/s
cruise speed. Released nodes straight ahead are driven as one move that ends at rest on the last
of them; the agent (:mod:`robots.agent`) traverses the nodes on the way as the body passes them.
Pure functions of poses and positions (m, rad).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from bus.vda5050 import Node
from robots.drive import Pose


def ahead_m(pose: Pose, xy: tuple[float, float]) -> tuple[float, float]:
    """Distance of the point ``xy`` ahead of ``pose`` along its heading, and its sideways offset (m)."""
    x, y = xy
    c, s = math.cos(pose.theta_rad), math.sin(pose.theta_rad)
    dx, dy = x - pose.x_m, y - pose.y_m
    return dx * c + dy * s, abs(-dx * s + dy * c)


def straight_run(pose: Pose, nodes: Sequence[Node], positions: Mapping[str, tuple[float, float]],
                 tolerance_m: float) -> int:
    """How many leading ``nodes`` lie released and straight ahead of ``pose`` (one move; >= 1).

    The run ends at the first node with actions (the vehicle stops there to run them).
    """
    count, last_ahead = 0, -math.inf
    for node in nodes:
        if not node.released:
            break
        ahead, side = ahead_m(pose, positions[node.node_id])
        if side > tolerance_m or ahead <= last_ahead + tolerance_m or (count and ahead <= tolerance_m):
            break
        count, last_ahead = count + 1, ahead
        if node.actions:
            break
    return max(1, count)
