"""Why robots wait: the waiting share of busy time split by cause, from what the controller knows.

A vehicle "waits" when it stands with nodes ahead that are not released yet (``sim/kpi.py``). At
every trace frame each waiting robot's time goes to one cause, read from the controller's
execution graph (:func:`controller.execution.holds.hold_of`) and the other robots' busy kinds in
the same frame:

- ``planned``: the next step enters a cell another robot has not left, and the robot has stood on
  its cell no longer than the plan has it stand there (its planned waits and turns, one step
  ``step_s`` each): congestion the planner resolved by waiting;
- ``held_action`` / ``held_turning`` / ``held_moving`` / ``held_standing``: held longer than the plan
  says, i.e. some robot runs later than the plan. The chain of blockers (A waits for B, B waits
  for C, ...) is followed to its end, a robot not held itself, and the cause is what that robot does:
  an action (pick, drop, station time: the plan gives actions no time), a turn in place, a drive
  (following one cell behind, or slower than a step per cell), or standing (idle, or waiting for a
  window or a release) without being held by the graph;
- ``no_plan``: the plan ends where the robot stands (waiting for the next planning window);
- ``release``: the next step is released or may be, and the vehicle has not started it yet (an
  order update in flight, the next release check);
- ``other``: a station hold, a suspended or resynchronising robot.

The same causes split the time of robots whose vehicle reports idle while the controller has a
trip for them (released nodes all reached, no horizon told yet): that time is outside busy time.

The times are approximations at the trace's resolution: arrival on a cell is the first frame that
shows the controller's reached step on it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Protocol

from controller.execution.adg import ActionDependencyGraph
from controller.execution.holds import Hold, hold_of
from controller.execution.records import RobotRecord

WAIT_CAUSES = (
    "planned", "held_action", "held_turning", "held_moving", "held_standing", "no_plan", "release", "other",
)
_ROOT = {"action": "held_action", "turning": "held_turning", "moving": "held_moving"}
_HOLD = {"no_plan": "no_plan", "released": "release", "free": "release", "station": "other", "out": "other"}


class ExecutionView(Protocol):
    """What the split reads of the controller's executor (never changes it)."""

    @property
    def adg(self) -> ActionDependencyGraph:
        """The action dependency graph."""
        ...

    @property
    def robots(self) -> Mapping[str, RobotRecord]:
        """The robots under control."""
        ...


class WaitCauses:
    """Splits waiting robot-time by cause (see the module docstring).

    Args:
        execution: the controller's executor.
        step_s: the nominal duration of one planned step, seconds.
    """

    def __init__(self, execution: ExecutionView, step_s: float) -> None:
        self.execution = execution
        self.step_s = step_s
        self.causes = WAIT_CAUSES
        self._arrived: dict[str, tuple[tuple[object, int], float]] = {}  # robot -> ((cell, step), t_s)

    def hold(self, robot: str) -> Hold:
        """The controller's reason for ``robot``'s standing now."""
        return hold_of(self.execution.adg, self.execution.robots, robot)

    def split(self, t_s: float, kinds: Mapping[str, str], waiting: Mapping[str, float],
              idle: Mapping[str, float]) -> tuple[Counter[str], Counter[str]]:
        """Seconds per cause over the interval ending at ``t_s``, of the waiting robots and of the
        idle ones the controller has a trip for.

        Args:
            t_s: the frame's time, seconds since the start.
            kinds: every robot's busy kind over the interval (``moving``, ``turning``, ``waiting``,
                ``action``) or anything else for a robot that is not busy.
            waiting: the waiting robots and the seconds each waited in the interval.
            idle: the idle robots and their seconds in the interval.
        """
        for robot in kinds:  # every robot's arrival, each frame: a cheap key, not a full hold
            key = self._visit_key(robot)
            seen = self._arrived.get(robot)
            if seen is None or seen[0] != key:
                self._arrived[robot] = (key, t_s)
        holds: dict[str, Hold] = {}  # of the standing robots and their blockers, as asked
        out: Counter[str] = Counter()
        for robot, dt in waiting.items():
            out[self._cause(robot, t_s, holds, kinds)] += dt
        idle_work: Counter[str] = Counter()
        for robot, dt in idle.items():
            if self.has_work(robot):
                idle_work[self._cause(robot, t_s, holds, kinds)] += dt
        return out, idle_work

    def has_work(self, robot: str) -> bool:
        """The controller holds a trip for ``robot``: an idle-looking robot that is not idle."""
        r = self.execution.robots.get(robot)
        return r is not None and r.trip is not None

    def _visit_key(self, robot: str) -> tuple[object, int]:
        """``(cell, arrival step)`` of the robot's reached visit, as :func:`hold_of` gives them
        (``(None, 0)`` for a robot out of the graph's hands), without the rest of the hold: at
        500 robots the full hold of every robot every frame was 7 % of the run."""
        adg, r = self.execution.adg, self.execution.robots.get(robot)
        if r is None or robot not in adg or r.suspended or r.resync_action is not None:
            return (None, 0)
        visit = adg.visit_at(robot, adg.reached(robot))
        return (visit.cell, visit.first_step)

    def _held(self, robot: str, holds: dict[str, Hold]) -> Hold:
        h = holds.get(robot)
        if h is None:
            h = holds[robot] = self.hold(robot)
        return h

    def _cause(self, robot: str, t_s: float, holds: dict[str, Hold], kinds: Mapping[str, str]) -> str:
        h = self._held(robot, holds)
        if h.reason != "blocked":
            return _HOLD[h.reason]
        stood_s = t_s - self._arrived[robot][1]
        if h.stand_steps is not None and stood_s <= h.stand_steps * self.step_s + 1e-9:
            return "planned"
        seen = {robot}
        blocker = h.blocker
        while blocker is not None and blocker not in seen:
            seen.add(blocker)
            kind = kinds.get(blocker, "idle")
            if kind in _ROOT:
                return _ROOT[kind]
            nxt = self._held(blocker, holds)
            if nxt.reason != "blocked":
                return "held_standing"
            blocker = nxt.blocker  # held itself (a vehicle not yet told its next nodes looks idle)
        return "held_standing"
