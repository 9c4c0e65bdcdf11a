"""Planning windows over (cell, heading): the controller's rotation model (``motion_model: rotation``).

Why: real AGVs turn in place. The grid window planner plans cells only, so a vehicle's 90 degree
turn took time the plan never counted and the execution graph absorbed it with waits (the robots
behind it stood). Here a window is planned with the rotation model of the lifelong planner
(:class:`~controller.planning.lifelong.LifelongPlanner` with ``rotations=True``: forward, turn
left, turn right, wait), and a turn lasts as many steps as the vehicle needs for it
(``ceil(turn_s / step_s)``). The window still comes out as cells: a turn is a planned step on the
same cell, i.e. a wait on the cell for the action dependency graph, which therefore orders the
robots exactly as before (safety unchanged) while the plan's timing now matches the vehicles'.

Headings are the planner's own state: the heading each robot ends a window with is remembered
by the cell it ends on (the next window starts there). A vehicle that joins seeds it with the
heading its state reports (``agvPosition.theta``, nearest quarter turn): a vendor's vehicle may
start facing any way. A cell never seen (no theta reported, or a plan cut back after a lost
robot) starts facing east, the heading our simulated vehicles start with.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from controller.config import ExecutionConfig
from controller.execution.window_planner import (
    LifelongWindowPlanner,
    WindowPlanner,
    WindowPlannerBase,
    as_cell,
    hold_in_place,
    step_breaking_cycles,
)
from controller.planning.lifelong import LifelongPlanner
from warehouse_maps.grid import Cell, Grid

State = tuple[int, int, int]
"""``(x, y, heading)``: heading 0 = east (+x), 1 = south (+y), 2 = west, 3 = north."""

EAST = 0
SEEN_CAP = 65_536  # headings remembered per cell (fallback after a cut plan); cleared when full


def turn_steps(turn_s: float | None, step_s: float) -> int:
    """Planned steps one 90 degree turn takes: ``ceil(turn_s / step_s)``, at least 1 (None: 1).

    A turn slightly longer than a step (rounding, 1.02 s against 1 s) still counts as one step:
    the graph absorbs a few per cent, while a second step would idle the vehicle for most of one.
    """
    if turn_s is None:
        return 1
    return max(1, math.ceil(turn_s / step_s - 0.05))



def heading_of_theta(theta: float) -> int:
    """The grid heading nearest a map-frame angle: 0 east, 1 south, 2 west, 3 north.

    The map frame has y north while grid rows go south (``Layout.cell_centre_m``), so a
    counter-clockwise angle is a heading counted the other way: -pi/2 (facing south) is 1.
    """
    return round(-theta / (math.pi / 2)) % 4

class HeadingWindowPlanner(WindowPlannerBase):
    """Windows of the rotation model; turns are waits on the cell (see the module docstring).

    Args:
        grid: the floor.
        step_s: nominal duration of one planned step, seconds.
        turn_s: the fleet's 90 degree turn time in seconds, asked at every window (vehicles
            join and send factsheets while the controller runs); None: one step.
        seed: seed of the planner's tie-breaking (same seed, same plans).
        max_nodes: operations checked per planning step (None: no limit).
    """

    def __init__(
        self,
        grid: Grid,
        *,
        step_s: float = 1.0,
        turn_s: Callable[[], float | None] = lambda: None,
        seed: int = 0,
        max_nodes: int | None = None,
    ) -> None:
        self.grid = grid
        self.step_s = step_s
        self.turn_s = turn_s
        self.lifelong = LifelongPlanner(grid, rotations=True, seed=seed, max_nodes=max_nodes)
        self.cycles_broken = 0
        self.turns_planned = 0
        self.last_states: list[list[State]] = []  # the last window, per robot, with headings
        self._end: dict[Cell, tuple[int, int]] = {}  # window end cell -> (heading, turn steps left)
        self._seen: dict[Cell, int] = {}  # any planned cell -> heading last planned there

    def note_heading(self, cell: Cell, theta: float) -> None:
        """A vehicle joined on ``cell`` facing ``theta``: its first window starts with that heading."""
        self._end.pop(cell, None)
        self._seen[cell] = heading_of_theta(theta)

    def heading_at(self, cell: Cell) -> int:
        """The heading a robot whose plan ends on ``cell`` has there (east if unknown)."""
        end = self._end.get(cell)
        if end is not None:
            return end[0]
        return self._seen.get(cell, EAST)

    def plan_paths(self, positions: Sequence[Cell], targets: Sequence[Cell], horizon: int,
                   walls: frozenset[Cell], avoid: frozenset[Cell]) -> list[list[Cell]]:
        """Rotation model (see :meth:`plan_window`): a turn is a step on its cell."""
        per_turn = turn_steps(self.turn_s(), self.step_s)
        states: list[State] = []
        hold: list[int] = []
        for c in positions:
            heading, left = self._end.get(as_cell(c), (self._seen.get(as_cell(c), EAST), 0))
            states.append((int(c[0]), int(c[1]), heading))
            hold.append(left)
        trail = [[s] for s in states]
        for _ in range(horizon):
            planned = nxt = self._step(states, targets, walls, avoid)
            nxt = hold_in_place(states, nxt, [h > 0 for h in hold])
            self.lifelong.overridden([i for i, (a, b) in enumerate(zip(planned, nxt)) if a != b])
            for i, (a, b) in enumerate(zip(states, nxt)):
                if hold[i] > 0:
                    hold[i] -= 1
                elif a[2] != b[2]:
                    hold[i] = per_turn - 1
                    self.turns_planned += 1
                trail[i].append(b)
            states = nxt
        self._remember(trail, hold)
        self.last_states = trail
        return [[(s[0], s[1]) for s in path] for path in trail]

    def _step(self, states: list[State], targets: Sequence[Cell], walls: frozenset[Cell],
              avoid: frozenset[Cell]) -> list[State]:
        """One rotation-model step free of rotation cycles (:func:`step_breaking_cycles`); robots held
        on a cycle do not continue their operation next step."""
        def plan(extra: frozenset[Cell]) -> list[State]:
            return _states(self.lifelong.step(states, targets, blocked=walls, avoid=avoid | extra))

        planned, held, broken = step_breaking_cycles(self.grid, states, plan)
        self.cycles_broken += broken
        self.lifelong.overridden([i for i, (a, b) in enumerate(zip(planned, held)) if a != b])
        return held

    def _remember(self, trail: list[list[State]], hold: list[int]) -> None:
        if len(self._seen) > SEEN_CAP:
            self._seen.clear()
        for path in trail:
            for x, y, h in path:
                self._seen[(x, y)] = h
        self._end = {(p[-1][0], p[-1][1]): (p[-1][2], left) for p, left in zip(trail, hold)}


def _states(raw: Sequence[Sequence[int]]) -> list[State]:
    return [(int(s[0]), int(s[1]), int(s[2])) for s in raw]


def make_window_planner(
    ex: ExecutionConfig, grid: Grid, *, seed: int, fleet_turn_s: Callable[[], float | None] = lambda: None
) -> WindowPlanner:
    """The window planner ``execution.motion_model`` selects; for the rotation model the turn time
    is ``execution.turn_s`` when set, else ``fleet_turn_s()`` (the slowest known vehicle's)."""
    if ex.motion_model == "grid":
        return LifelongWindowPlanner(grid, seed=seed)
    fixed = ex.turn_s
    return HeadingWindowPlanner(
        grid, step_s=ex.step_s, turn_s=(lambda: fixed) if fixed is not None else fleet_turn_s, seed=seed
    )
