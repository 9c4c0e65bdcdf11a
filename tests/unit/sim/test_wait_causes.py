"""Waiting split by cause: what the execution graph holds a robot for, planned or beyond the plan.

Corridor (one row, x = 0..4):  ``c a b . .``  a follows b eastwards, c follows a.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import pytest

from controller.execution.adg import ActionDependencyGraph
from controller.execution.holds import hold_of
from controller.execution.records import RobotRecord
from controller.execution.trips import Trip
from controller.execution.vda_orders import OrderStream
from sim.kpi import KpiCollector
from sim.trace import TraceFrame
from sim.wait_causes import WAIT_CAUSES, WaitCauses


class View:
    """The two things the split reads of an executor."""

    def __init__(self, adg: ActionDependencyGraph) -> None:
        self.adg = adg
        self.robots = {
            s: RobotRecord(s, OrderStream(s, 1, lambda c: (float(c[0]), float(c[1])), "m"), (0, 0))
            for s in adg.robots
        }


def corridor(a_waits: int = 0) -> View:
    """b drives on at once; a plans ``a_waits`` wait steps, then follows b; c follows a."""
    adg = ActionDependencyGraph({"c": (0, 0), "a": (1, 0), "b": (2, 0)})
    n = 3 + a_waits
    b = [(min(2 + k, 4), 0) for k in range(n)]
    a = [(1, 0)] * (a_waits + 1) + [(2, 0), (3, 0)]
    c = [(0, 0)] * (a_waits + 2) + [(1, 0), (2, 0)]
    adg.append_window({"a": a[:n], "b": b, "c": c[:n]})
    adg.release_all()
    adg.mark_reached("a", a_waits)  # planned waits on the cell it stands on are reached at once
    adg.mark_reached("c", adg.released_prefix("c"))
    return View(adg)


def test_hold_names_the_blocker_and_the_planned_stand() -> None:
    view = corridor(a_waits=2)
    a = hold_of(view.adg, view.robots, "a")
    assert (a.reason, a.blocker, a.cell, a.arrival_step, a.stand_steps) == ("blocked", "b", (1, 0), 0, 2)
    assert hold_of(view.adg, view.robots, "b").reason == "released"  # b may go, has not reported yet
    view.adg.mark_reached("b", view.adg.last_step("b"))
    assert hold_of(view.adg, view.robots, "b").reason == "no_plan"
    assert hold_of(view.adg, view.robots, "a").reason == "free"  # b left: a's release is due
    view.robots["c"].suspended = True
    assert hold_of(view.adg, view.robots, "c").reason == "out"


@pytest.mark.parametrize(("b_kind", "cause"), [
    ("moving", "held_moving"), ("turning", "held_turning"), ("action", "held_action"),
])
def test_a_wait_beyond_the_plan_goes_to_what_the_blocker_does(b_kind: str, cause: str) -> None:
    causes = WaitCauses(corridor(a_waits=0), step_s=1.0)
    kinds = {"a": "waiting", "b": b_kind, "c": "waiting"}
    causes.split(0.0, kinds, {}, {})[0]
    assert causes.split(0.5, kinds, {"a": 0.5}, {})[0] == Counter({cause: 0.5})
    assert causes.split(1.0, kinds, {"c": 0.5}, {})[0] == Counter({"planned": 0.5})  # c's plan waits a step
    # beyond it: c waits for a, a for b, and the chain ends at b
    assert causes.split(1.5, kinds, {"c": 0.5}, {})[0] == Counter({cause: 0.5})


def test_waits_the_plan_has_are_planned_until_their_steps_have_passed() -> None:
    causes = WaitCauses(corridor(a_waits=2), step_s=1.0)
    kinds = {"a": "waiting", "b": "moving", "c": "waiting"}
    causes.split(0.0, kinds, {}, {})[0]
    assert causes.split(2.0, kinds, {"a": 2.0}, {})[0] == Counter({"planned": 2.0})
    assert causes.split(2.25, kinds, {"a": 0.25}, {})[0] == Counter({"held_moving": 0.25})


def test_a_blocker_that_looks_idle_but_is_held_itself_is_followed() -> None:
    causes = WaitCauses(corridor(a_waits=0), step_s=1.0)
    kinds = {"a": "idle", "b": "action", "c": "waiting"}  # a's vehicle not yet told its next nodes
    causes.split(0.0, kinds, {}, {})[0]
    assert causes.split(2.0, kinds, {"c": 1.0}, {})[0] == Counter({"held_action": 1.0})
    causes.execution.adg.mark_reached("b", 2)  # b gone: a is free, nobody holds c beyond a
    assert causes.split(3.0, kinds, {"c": 1.0}, {})[0] == Counter({"held_standing": 1.0})


def test_an_idle_looking_robot_with_a_trip_is_standing_with_work() -> None:
    causes = WaitCauses(corridor(a_waits=0), step_s=1.0)
    kinds = {"a": "idle", "b": "action", "c": "idle"}
    causes.execution.robots["a"].trip = Trip("t1", ())
    causes.split(0.0, kinds, {}, {})
    held, idle = causes.split(2.0, kinds, {}, {"a": 1.0, "c": 1.0})  # c has no trip: really idle
    assert (held, idle) == (Counter(), Counter({"held_action": 1.0}))


class FixedProbe:
    causes = WAIT_CAUSES

    def split(self, t_s: float, kinds: Mapping[str, str], waiting: Mapping[str, float],
              idle: Mapping[str, float]) -> tuple[Counter[str], Counter[str]]:
        return Counter({"held_turning": sum(waiting.values())}), Counter({"no_plan": sum(idle.values())})

    def has_work(self, robot: str) -> bool:
        return robot != "agv-0002"


def test_summary_splits_the_waiting_share_only_with_a_probe() -> None:
    frames = [(0.0, "waiting"), (1.0, "waiting"), (2.0, "busy"), (4.0, "waiting"), (6.0, "idle")]
    shares = []
    for probe in (None, FixedProbe()):
        kpi = KpiCollector(grid_shape=(2, 2), wait_probe=probe)
        for t, state in frames:
            kpi.observe(TraceFrame(t, {"agv-0001": (0.5, -0.5, 0.0)}, {"agv-0001": state}))
        shares.append(kpi.summary(sim_time_s=6.0, wall_time_s=1.0))
    assert "waiting_by_cause" not in shares[0]
    split = shares[1]["waiting_by_cause"]
    assert list(split) == list(WAIT_CAUSES)
    assert split["held_turning"] == shares[1]["busy_time_share"]["waiting"] == 0.75
    assert sum(split.values()) == 0.75
    # 3 s waiting of 4 s busy, and 2 s idle the probe says the robot had work: 5 of 6 s standing
    assert shares[1]["idle_with_work_s"] == 2.0
    assert shares[1]["idle_with_work_by_cause"]["no_plan"] == 2.0
    assert shares[1]["standing_with_work_share"] == round(5 / 6, 4)


def test_a_robot_standing_idle_with_a_trip_counts_as_a_deadlock_and_an_idle_one_does_not() -> None:
    """A stall can look idle (the vehicle reached its released nodes); with the controller's
    word that it still has work, standing for ``deadlock_after_s`` is one deadlock."""
    kpi = KpiCollector(grid_shape=(2, 2), wait_probe=FixedProbe(), deadlock_after_s=10.0)
    poses = {"agv-0001": (0.5, -0.5, 0.0), "agv-0002": (1.5, -0.5, 0.0)}  # agv-0002 has no trip
    for t in range(0, 31, 5):
        kpi.observe(TraceFrame(float(t), poses, {"agv-0001": "idle", "agv-0002": "idle"}))
    assert kpi.deadlocks == 1
    assert not kpi.congestion.any()  # the heat map stays the driving or waiting robots'
    without_probe = KpiCollector(grid_shape=(2, 2), deadlock_after_s=10.0)
    for t in range(0, 31, 5):
        without_probe.observe(TraceFrame(float(t), poses, {"agv-0001": "idle", "agv-0002": "idle"}))
    assert without_probe.deadlocks == 0
