"""Why a robot's next planned step is not released: what the execution graph holds it for.

Why: the vehicles' "waiting" time (standing with nodes ahead not yet released) lumps together
waits the plan itself contains, waits on another robot that runs later than the plan, and
waits for the next planning window. The controller alone knows which: this query reads the
action dependency graph and a robot's record (no side effect, no time) so that a simulation can
split its waiting time by cause (``sim/wait_causes.py``) and a supervisor could say why a robot
stands.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from controller.execution.adg import ActionDependencyGraph
from controller.execution.records import RobotRecord
from warehouse_maps.grid import Cell

HoldReason = Literal["blocked", "released", "free", "no_plan", "station", "out"]
"""``blocked``: the next step enters a cell another robot has not left yet (``Hold.blocker``);
``released``: the next step is released, the vehicle has not reported reaching it (an order
update in flight, or the vehicle starting); ``free``: the next step may be released, it is not yet
(the next release check); ``no_plan``: the plan ends at the reached step (the next window);
``station``: a station hold keeps the next nodes back; ``out``: suspended, resynchronising or not
under control."""


@dataclass(frozen=True, slots=True)
class Hold:
    """Why a robot stands, as the controller sees it.

    Attributes:
        reason: see :data:`HoldReason`.
        blocker: the robot whose visit the next step waits for (``blocked`` only).
        cell: the cell of the robot's reached step (None: ``out``).
        arrival_step: the step at which the robot's plan entered that cell.
        stand_steps: planned steps on that cell from arrival to leaving (its planned waits and,
            in the rotation model, its planned turns); None while the plan ends there.
    """

    reason: HoldReason
    blocker: str | None = None
    cell: Cell | None = None
    arrival_step: int = 0
    stand_steps: int | None = None


OUT = Hold("out")


def hold_of(adg: ActionDependencyGraph, robots: Mapping[str, RobotRecord], serial: str) -> Hold:
    """Why ``serial``'s next planned step is not under way (see :class:`Hold`); pure read."""
    r = robots.get(serial)
    if r is None or serial not in adg or r.suspended or r.resync_action is not None:
        return OUT
    reached = adg.reached(serial)
    visit = adg.visit_at(serial, reached)
    stand = None if visit.last_step is None else visit.last_step - visit.first_step

    def hold(reason: HoldReason, blocker: str | None = None) -> Hold:
        return Hold(reason, blocker, visit.cell, visit.first_step, stand)

    released = adg.released_prefix(serial)
    if r.holds and min(r.holds) <= reached:
        return hold("station")
    if released > reached:
        return hold("released")
    if released >= adg.last_step(serial):
        return hold("no_plan")
    dep = adg.blocker(serial)
    return hold("free") if dep is None else hold("blocked", dep.robot)
