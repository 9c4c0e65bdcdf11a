"""Planning windows and progress along them: when the next window is due, whom it plans for,
where it sends each robot, and how far each robot's plan is reached.

Why together: the window's pacing depends on the fewest planned steps any robot has left, and
only progress (a robot reaching steps) lowers that number; windows, losses and resyncs make it
unknown. Keeping the cache beside both keeps the runner's ``next_wakeup`` cheap at 500 robots.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence

from bus.clock import Instant, seconds
from controller.config import ControllerConfig
from controller.execution.adg import ActionDependencyGraph, ScheduleConflict
from controller.execution.records import RobotRecord
from controller.execution.stop_queues import waiting_goals
from controller.execution.stops import TripStops
from controller.execution.window_planner import WindowPlanner
from warehouse_maps.grid import Cell, Grid

log = logging.getLogger("bulletyard.controller.execution")


class PlanWindows:
    """Plans windows for the robots and marks their progress on the graph.

    Args:
        robots, adg, stops: the executor's shared parts.
        grid: the floor's grid (a detour steps to a neighbour of the stop).
        planner: plans one window for many robots.
        config: controller configuration (``execution``: horizon, pacing, backlog cap).
        blocked_cells: the cells nobody may plan through now.
        queues: stop cells with waiting cells in line order (:mod:`controller.execution.stop_queues`).
    """

    def __init__(
        self,
        robots: dict[str, RobotRecord],
        adg: ActionDependencyGraph,
        stops: TripStops,
        grid: Grid,
        planner: WindowPlanner,
        config: ControllerConfig,
        blocked_cells: Callable[[], frozenset[Cell]],
        queues: Mapping[Cell, Sequence[Cell]] | None = None,
    ) -> None:
        self.robots = robots
        self.adg = adg
        self.stops = stops
        self.grid = grid
        self.planner = planner
        self.ex = config.execution
        self.blocked_cells = blocked_cells
        self.queues: Mapping[Cell, Sequence[Cell]] = queues or {}
        self.planned = 0  # windows appended to the graph
        self._next_window = Instant(0)
        # fewest planned steps left among the robots the next window plans for (None: unknown);
        # progress only lowers it, anything else (windows, losses, resyncs) makes it unknown
        self._fewest_remaining: int | None = None

    def changed(self) -> None:
        """Some robot's remaining plan changed other than by progress (the cache is stale)."""
        self._fewest_remaining = None

    def robots_in_next(self) -> list[str]:
        """Robots the next window plans for: usable ones less than ``max_backlog_steps`` behind.

        Why: a robot that lags (a long action, a slow turn, a held vehicle) used to stop planning
        for the whole fleet until it caught up, so every other robot ran out of plan and stood.
        Now it sits the window out: its plan ends where it ends, that cell is a wall for the
        window, and the others keep getting plan. Deadlock freedom is unchanged: every
        dependency still points to an equal or earlier (window, step), since a robot's steps
        are appended in window order and nobody enters the cell of a robot that sits out.
        """
        cap = self.ex.max_backlog_steps
        return sorted(s for s, r in self.robots.items()
                      if not r.suspended and self.adg.remaining(s) < cap and not self.stands_for_stop(s, r))

    def stands_for_stop(self, serial: str, r: RobotRecord) -> bool:
        """True while the robot stands on the cell of its last planned stop, its plan ends there and
        the vehicle has not finished that stop (its action runs), for trips of the kinds in
        ``execution.sit_out_trip_kinds``.

        Why: planning knows no durations. It planned such a robot off the stop cell at the next step
        although the load kept it there for seconds, and the next robot into the stop cell through
        the cell it would leave by: at an induct both used one access cell, so the next robot
        queued two cells back and waited for the leaving one to clear two cells. Sitting windows
        out, the robot is a wall where it stands; the nearest robot bound for the same cell is
        sent beside it (:meth:`plan`) and the others wait where they are. It plans on as soon as
        its stop is done (:meth:`stop_done`).
        """
        if r.trip is None or r.exec_stop >= r.plan_stop or not r.stop_steps:
            return False
        if r.trip.kind not in self.ex.sit_out_trip_kinds:
            return False
        return (self.adg.last_cell(serial) == r.trip.stops[r.plan_stop - 1].cell
                and self.adg.reached(serial) >= r.stop_steps[-1])

    def stop_done(self, now: Instant, kinds: Iterable[str]) -> None:
        """Stops of trips of ``kinds`` are done: if the robots sat windows out for them, plan the
        next window now, not up to ``window_interval_steps`` later."""
        if any(k in self.ex.sit_out_trip_kinds for k in kinds):
            self._fewest_remaining = None
            self._next_window = min(self._next_window, now)

    def needed(self, now: Instant) -> bool:
        """True when some robot of the next window is about to run out of plan and the last
        window is at least ``window_interval_steps`` nominal steps old (robots that only wait
        would otherwise consume windows as fast as the runner ticks)."""
        active = self.robots_in_next()
        if not active or now < self._next_window:
            return False
        return min(self.adg.remaining(s) for s in active) <= self.ex.replan_margin_steps

    def next_time(self) -> Instant | None:
        """When :meth:`needed` may next become true because of pacing (None: not pacing)."""
        fewest = self._fewest_remaining
        if fewest is None:
            cap = self.ex.max_backlog_steps
            remaining = self.adg.remaining
            usable = (n for s, r in self.robots.items()
                      if not r.suspended and (n := remaining(s)) < cap and not self.stands_for_stop(s, r))
            fewest = self._fewest_remaining = min(usable, default=None)
        if fewest is None or fewest > self.ex.replan_margin_steps:
            return None
        return self._next_window

    def goal(self, serial: str) -> Cell:
        """Where planning sends the robot now."""
        r = self.robots[serial]
        end = self.adg.last_cell(serial)
        if r.trip is None or r.plan_stop >= len(r.trip.stops):
            return r.home if r.trip is None and not r.stay else end
        target = r.trip.stops[r.plan_stop].cell
        if r.detour:
            for n in self.grid.neighbors(target):
                return n
        return target

    def plan(self, now: Instant) -> bool:
        """Plan and append one window for every usable robot; False if the planner's window was refused."""
        active = self.robots_in_next()
        if not active:
            return False
        self._next_window = Instant(now + seconds(self.ex.window_interval_steps * self.ex.step_s))
        positions = [self.adg.last_cell(s) for s in active]
        goals = [self.goal(s) for s in active]
        robots = self.robots.items()
        sitting_out = {self.adg.last_cell(s) for s, r in robots if not (r.suspended or s in active)}
        goals = waiting_goals(self.grid, positions, goals, sitting_out, self.queues)
        paths = self.planner.plan_window(
            positions,
            goals,
            self.ex.horizon_steps,
            blocked=self.blocked_cells(),
            avoid=frozenset(sitting_out),
        )
        window = dict(zip(active, paths))
        bases = {s: self.adg.last_step(s) for s in active}
        self._fewest_remaining = None
        try:
            self.adg.append_window(window)
        except ScheduleConflict as err:
            log.error("planner window refused by the execution graph: %s", err)
            return False
        self.planned += 1
        for s in active:
            self.stops.note_arrivals(s, window[s], bases[s])
        return True

    def release(self, focus: str | None) -> set[str]:
        """Release what the graph allows; returns the robots whose release may have grown.

        Args:
            focus: the robot whose state just arrived. Only its own release and the releases of
                robots waiting for it can grow, so only those are checked (and, transitively,
                robots waiting for a robot that reached a planned wait at once); ``None`` checks
                every robot, as the periodic tick does. Why: a state from one of 200 robots used
                to re-check and re-send for all 200, which made reaction time grow with the fleet.
        """
        ahead = self.ex.release_ahead_steps
        refill = self.ex.release_refill_steps
        touched: set[str] = set(self.robots) if focus is None else {focus}
        candidates: set[str] | None = None if focus is None else {focus, *self.adg.waiting_on(focus)}
        for _ in range(3):
            if candidates is None:
                grown = self.adg.release_all(ahead, refill)
            else:
                grown = self.adg.release_some(candidates, ahead, refill)
            if not grown:
                break
            touched.update(grown)
            moved: set[str] = set()
            for serial in grown:
                # planned waits on the cell the vehicle already stands on are reached at once
                if not self.robots[serial].suspended and self.robots[serial].resync_action is None:
                    before = self.adg.reached(serial)
                    self.advance(serial, before)
                    if self.adg.reached(serial) != before:
                        moved.add(serial)
            if candidates is not None:
                candidates = {w for m in moved for w in self.adg.waiting_on(m)} | moved
                if not candidates:
                    break
        return touched

    def advance(self, serial: str, step: int) -> None:
        """Mark the robot at ``step`` plus the waits that follow it, up to its release.

        A ``step`` behind the reached one (a later state that still names an earlier last node, e.g.
        one sent for an action) starts from the reached step: the steps before it may be forgotten.
        """
        cell_at = self.adg.cell_at  # not adg.cells(): that copies the robot's whole plan
        released = self.adg.released_prefix(serial)
        step = min(max(step, self.adg.reached(serial)), released)
        while step < released and cell_at(serial, step + 1) == cell_at(serial, step):
            step += 1
        if step > self.adg.reached(serial):
            self.adg.mark_reached(serial, step)
            stream = self.robots[serial].stream
            # what the stream reads stays; an idle robot's planned waits go too (capped at the last
            # step sent, its track grew by a step a second for as long as it stood idle)
            self.adg.forget_before(serial, min(step, stream.read_to))
            stream.forget_before(step)
            left = self.adg.remaining(serial)
            fewest = self._fewest_remaining
            r = self.robots[serial]
            in_window = not r.suspended and not self.stands_for_stop(serial, r)
            if fewest is not None and left < fewest and in_window:
                self._fewest_remaining = left  # below the backlog cap, so the robot is in the window

    def truncate_all(self) -> None:
        """Drop every robot's plan beyond what is released (a robot was lost: everyone replans)."""
        self.adg.truncate_to_released()
        self._fewest_remaining = None
        for s, r in self.robots.items():
            released = self.adg.released_prefix(s)
            r.actions = {k: v for k, v in r.actions.items() if k <= released}
            r.holds = {k: v for k, v in r.holds.items() if k <= released}
            # stop_steps are the steps of stops plan_stop - len(stop_steps) .. plan_stop - 1 (a
            # resync or rollover drops those already done): a truncation keeps the first of them
            first = r.plan_stop - len(r.stop_steps)
            kept = [k for k in r.stop_steps if k <= released]
            r.stop_steps = kept
            r.plan_stop = first + len(kept)
            r.detour = False
