"""Planning windows for execution: the port the controller plans through, and a PIBT stepper.

Why: the controller needs, every replanning, collision-free paths of equal length from the
configuration where the committed plan ends (see ``adg.py``). The mapf helper's
``LifelongPlanner`` (PIBT with persistent priorities, routing around blocked cells) plans one
step at a time; :class:`LifelongWindowPlanner` stacks steps into a window and adds the one rule
execution needs on top: rotation cycles (robots following each other round a loop in one step)
are refused by the action dependency graph, so a step with a cycle is recomputed with the
cycle's cells avoided for that step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

import numpy as np

from controller.planning.lifelong import LifelongPlanner
from warehouse_maps.grid import Cell, Grid

S = TypeVar("S", bound=Sequence[int])
"""A planner state: a cell ``(x, y)`` or ``(x, y, heading)``."""


class WindowPlanner(Protocol):
    """Plans one window of ``horizon`` steps for every robot."""

    def plan_window(
        self,
        positions: Sequence[Cell],
        goals: Sequence[Cell],
        horizon: int,
        *,
        blocked: frozenset[Cell] = ...,
        avoid: frozenset[Cell] = ...,
    ) -> list[list[Cell]]:
        """Paths of ``horizon + 1`` cells from ``positions``, free of vertex, swap and rotation
        conflicts, never entering ``blocked`` (long-lived: routes go around) or ``avoid`` (for
        this window only: routes are not recomputed); worst case everyone waits."""
        ...

    def note_heading(self, cell: Cell, theta: float) -> None:
        """A vehicle joined on ``cell`` facing ``theta`` (radians, counter-clockwise from the map's
        +x). Only a planner that plans headings uses it."""
        ...


def rotation_cycles(now: np.ndarray, nxt: np.ndarray) -> list[list[int]]:
    """Groups of agents that move round a closed loop (length >= 2) from ``now`` to ``nxt``."""
    at = {int(v): i for i, v in enumerate(now)}
    cycles: list[list[int]] = []
    seen: set[int] = set()
    for start in range(len(now)):
        if start in seen or nxt[start] == now[start]:
            continue
        chain = [start]
        i = start
        while True:
            j = at.get(int(nxt[i]))
            if j is None or nxt[j] == now[j] or j in seen:
                break
            if j == start:
                cycles.append(chain)
                break
            if j in chain:
                break
            chain.append(j)
            i = j
        seen.update(chain)
    return cycles


class WindowPlannerBase:
    """What every window planner does first, then :meth:`plan_paths` (each model its own)."""

    def plan_window(
        self,
        positions: Sequence[Cell],
        goals: Sequence[Cell],
        horizon: int,
        *,
        blocked: frozenset[Cell] = frozenset(),
        avoid: frozenset[Cell] = frozenset(),
    ) -> list[list[Cell]]:
        """See :class:`WindowPlanner`. Cells a robot stands on are neither walls nor avoided; a robot
        whose goal is a wall or avoided waits where it is."""
        walls, avoided, targets = window_inputs(positions, goals, blocked, avoid)
        return self.plan_paths(positions, targets, horizon, walls, avoided)

    def plan_paths(self, positions: Sequence[Cell], targets: Sequence[Cell], horizon: int,
                   walls: frozenset[Cell], avoid: frozenset[Cell]) -> list[list[Cell]]:
        """The window's paths toward ``targets`` (see :meth:`plan_window`)."""
        raise NotImplementedError

    def note_heading(self, cell: Cell, theta: float) -> None:
        """See :class:`WindowPlanner`; the grid model plans no headings."""


class LifelongWindowPlanner(WindowPlannerBase):
    """Windows from the mapf helper's :class:`LifelongPlanner`, one ``step`` at a time.

    Each step is checked for rotation cycles; when one appears, the step is recomputed with the
    cycle's cells avoided for that step (the robots in it wait or move elsewhere), which the
    execution graph can then order. Priorities persist across windows (PIBT's fairness).

    Args:
        grid: the floor.
        seed: seed of the planner's tie-breaking (same seed, same plans).
    """

    def __init__(self, grid: Grid, *, seed: int = 0) -> None:
        self.grid = grid
        self.lifelong = LifelongPlanner(grid, seed=seed)
        self.cycles_broken = 0

    def plan_paths(self, positions: Sequence[Cell], targets: Sequence[Cell], horizon: int,
                   walls: frozenset[Cell], avoid: frozenset[Cell]) -> list[list[Cell]]:
        """Grid model: one lifelong planner step per window step (see :meth:`plan_window`)."""
        out = [[as_cell(c)] for c in positions]
        config = [as_cell(c) for c in positions]
        for _ in range(horizon):
            config = self._step(config, targets, walls, avoid)
            for i, c in enumerate(config):
                out[i].append(c)
        return out

    def _step(self, config: list[Cell], targets: Sequence[Cell], walls: frozenset[Cell],
              avoid: frozenset[Cell]) -> list[Cell]:
        """One grid-model step free of rotation cycles (:func:`step_breaking_cycles`; everybody
        waits when the tries run out)."""
        def plan(extra: frozenset[Cell]) -> list[Cell]:
            step = self.lifelong.step(config, targets, blocked=walls, avoid=avoid | extra)
            return [as_cell(c) for c in step]

        _planned, held, broken = step_breaking_cycles(self.grid, config, plan, all_wait=True)
        self.cycles_broken += broken
        return held


def step_breaking_cycles(
    grid: Grid, states: Sequence[S], plan: Callable[[frozenset[Cell]], list[S]], *, all_wait: bool = False
) -> tuple[list[S], list[S], int]:
    """One planner step free of rotation cycles (the execution graph refuses them).

    ``plan(extra)`` plans the step with the ``extra`` cells avoided. A step with cycles is planned
    again with their cells avoided; if cycles are left after as many tries as robots, the robots
    on them wait (and whoever drives into their cells) and the others move. Why not everyone: the
    next step would start from the same states, and the same cycle kept the whole fleet waiting
    for good (rotation model, fc, 100 robots: half of all steps, no order done after 200 s).

    ``all_wait``: the grid model's fallback instead, everybody waits after the last try. Holding
    only the cycles' robots changed fc at 500 robots (where the fallback does run) for the worse:
    26 planner calls per step instead of 10, 6.0x against 8.5x real time over 120 s and 780
    against 810 lines/h over 240 s (seed 1); in the rotation model it is what ends the stall.

    Returns the last planned step, the step to execute (robots held) and the cycles broken.
    """
    cells = [as_cell(s) for s in states]
    nxt = plan(frozenset())
    extra: set[Cell] = set()
    broken = 0
    for attempt in range(len(states) + 1):
        if all_wait and attempt == len(states):
            return nxt, list(states), broken
        cycles = rotation_cycles(cell_indices(grid, cells), cell_indices(grid, [as_cell(s) for s in nxt]))
        if not cycles:
            return nxt, nxt, broken
        broken += len(cycles)
        if attempt == len(states):
            break
        for cycle in cycles:
            extra.update(cells[i] for i in cycle)
        nxt = plan(frozenset(extra))
    on_cycle = {i for cycle in cycles for i in cycle}
    return nxt, hold_in_place(states, nxt, [i in on_cycle for i in range(len(states))]), broken


def hold_in_place(now: Sequence[S], nxt: Sequence[S], held: Sequence[bool]) -> list[S]:
    """``nxt`` with the ``held`` robots (turning, or on a rotation cycle) kept where they are, and
    anyone driving into the cell of a robot that stays kept too (repeated until nobody else has
    to): waiting is always safe, and the planner's step had no conflicts among the robots that
    still move."""
    out = list(nxt)
    new = {i for i, h in enumerate(held) if h}
    while new:
        for i in new:
            out[i] = now[i]
        stood = {(now[i][0], now[i][1]) for i in new}
        new = {
            i for i, s in enumerate(out) if (s[0], s[1]) in stood and (s[0], s[1]) != (now[i][0], now[i][1])
        }
    return out


def window_inputs(
    positions: Sequence[Cell], goals: Sequence[Cell], blocked: frozenset[Cell], avoid: frozenset[Cell]
) -> tuple[frozenset[Cell], frozenset[Cell], list[Cell]]:
    """Walls, avoided cells and targets of a window: cells a robot stands on are neither walls nor
    avoided, and a robot whose goal is a wall or avoided waits where it is."""
    here = set(positions)
    walls = frozenset(c for c in blocked if c not in here)
    avoid = frozenset(c for c in avoid if c not in here and c not in walls)
    targets = [p if g in walls or g in avoid else g for p, g in zip(positions, goals)]
    return walls, avoid, targets


def as_cell(state: Sequence[int]) -> Cell:
    """The ``(x, y)`` of a planner state or of any two-number sequence (a cell given as a list)."""
    return (state[0], state[1])


def cell_indices(grid: Grid, cells: Sequence[Cell]) -> np.ndarray:
    """Flat indices ``y * width + x`` of ``cells`` (int64)."""
    xy = np.asarray(cells, dtype=np.int64).reshape(-1, 2)
    return xy[:, 1] * grid.width + xy[:, 0]
