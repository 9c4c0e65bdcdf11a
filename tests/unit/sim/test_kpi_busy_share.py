"""Where busy robot-time goes: moving, turning in place, waiting on the execution graph, actions."""

from __future__ import annotations

import math

import pytest

from sim.kpi import KpiCollector
from sim.trace import TraceFrame


def test_busy_time_splits_into_moving_turning_waiting_and_action() -> None:
    kpi = KpiCollector(grid_shape=(4, 4))
    frames = [
        (0.0, (0.5, -0.5, 0.0), "waiting"),
        (1.0, (1.5, -0.5, 0.0), "driving"),  # drove a cell: moving
        (2.0, (1.5, -0.5, -math.pi / 2), "driving"),  # heading changed in place: turning
        (4.0, (1.5, -0.5, -math.pi / 2), "waiting"),  # two seconds waiting for a release
        (5.0, (1.5, -0.5, -math.pi / 2), "busy"),  # an action
        (9.0, (1.5, -0.5, -math.pi / 2), "idle"),  # not busy: not counted
    ]
    for t, pose, state in frames:
        kpi.observe(TraceFrame(t, {"agv-0001": pose}, {"agv-0001": state}))
    shares = kpi.summary(sim_time_s=9.0, wall_time_s=1.0)["busy_time_share"]
    assert shares["busy_robot_s"] == pytest.approx(5.0)
    assert (shares["moving"], shares["turning"], shares["waiting"], shares["action"]) == (0.2, 0.2, 0.4, 0.2)
