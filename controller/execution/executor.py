"""The executor: plans windows, keeps the action dependency graph, talks VDA 5050 to vehicles.

Why one object: planning windows, the graph's releases, the per-vehicle order streams and the
resend tracker must agree on one step numbering per robot. The controller core feeds it vehicle
states and trips; it returns envelopes to publish and execution events (stop done or failed,
order rejected, position off plan). It coordinates four parts that share its robot records
(:mod:`controller.execution.records`):

* :class:`~controller.execution.windows.PlanWindows`: windows, release and progress;
* :class:`~controller.execution.stops.TripStops`: stops' actions on planned steps, station holds;
* :class:`~controller.execution.resync.Resync`: cancels and fresh orders;
* :class:`~controller.execution.outbox.VdaOutbox`: the envelopes to vehicles and their resends.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from bus.clock import Instant
from bus.transport import Envelope
from controller.config import ControllerConfig
from controller.execution.adg import ActionDependencyGraph
from controller.execution.outbox import VdaOutbox
from controller.execution.records import RobotRecord, cancel_done
from controller.execution.resync import Resync
from controller.execution.stops import TripStops
from controller.execution.trips import ExecutionEvent, OffPlan, Resynced, StopDone, Trip
from controller.execution.vda_orders import OrderStream
from controller.execution.window_planner import WindowPlanner
from controller.execution.windows import PlanWindows
from controller.fleet.profiles import VehicleProfile
from controller.fleet.registry import StateView
from warehouse_maps.grid import Cell
from warehouse_maps.layout import Layout

_DEFAULT_PROFILE = VehicleProfile()


class Executor:
    """Windows, graph, orders and resends for all robots.

    Args:
        layout: the floor and its places.
        config: controller configuration.
        planner: plans windows (``LifelongPlanner`` or :class:`LifelongWindowPlanner`).
        epoch: the journal's epoch (makes order and action ids unique across restarts).
        profile_of: a vehicle's profile (its version and actions).
        manufacturer_of: the manufacturer of a vehicle not yet under control (for its topics).
        queues: stop cells whose robots wait in line on these cells (one-way inducts).
    """

    def __init__(
        self,
        layout: Layout,
        config: ControllerConfig,
        planner: WindowPlanner,
        epoch: int = 0,
        profile_of: Callable[[str], VehicleProfile] | None = None,
        manufacturer_of: Callable[[str], str | None] | None = None,
        queues: Mapping[Cell, Sequence[Cell]] | None = None,
    ) -> None:
        self.config = config
        self.planner = planner
        self.manufacturer = config.fleet.manufacturer or "bulletyard"  # of robots added without one
        profile_of = profile_of or (lambda serial: _DEFAULT_PROFILE)
        unjoined = manufacturer_of or (lambda serial: None)
        self.robots: dict[str, RobotRecord] = {}
        self.adg = ActionDependencyGraph()
        self.extra_blocked: set[Cell] = set()  # cells of off-plan reports
        self.joining_blocked: dict[str, frozenset[Cell]] = {}  # vehicles not yet under control
        # robots with a station hold or a rejection back-off running: the runner asks for the next
        # wakeup after every message, so those deadlines are looked up among these few, not the fleet
        timed: set[str] = set()

        def manufacturer_of_any(serial: str) -> str:
            r = self.robots.get(serial)
            return r.manufacturer if r is not None else unjoined(serial) or self.manufacturer

        def new_stream(serial: str, order_number: int, base_step: int) -> OrderStream:
            return OrderStream(serial, order_number, layout.cell_centre_m, layout.name,
                               config.execution.horizon_nodes, epoch=epoch, base_step=base_step,
                               headings=config.execution.motion_model == "rotation")

        self.new_stream = new_stream
        self.outbox = VdaOutbox(self.robots, self.adg, config, profile_of, manufacturer_of_any)
        self.stops = TripStops(self.robots, self.adg, profile_of, config.pick_time_s, epoch, timed)
        self.windows = PlanWindows(
            self.robots, self.adg, self.stops, layout.grid, planner, config, self.blocked_cells, queues
        )
        self.resync = Resync(self.robots, self.adg, self.outbox, self.stops, timed, config, new_stream,
                             self.extra_blocked, self.windows.changed, epoch)

    # -- robots ---------------------------------------------------------------------------------
    def add_robot(
        self, serial: str, cell: Cell, home: Cell, order_number: int = 1, manufacturer: str | None = None,
        theta: float | None = None,
    ) -> None:
        """Put a vehicle standing on ``cell`` under control (raises ScheduleConflict if taken);
        its topics use ``manufacturer`` (default: the configured one); ``theta`` is the heading its
        state reports (radians; a heading planner starts it there)."""
        self.adg.add_robot(serial, cell)
        if theta is not None:
            self.windows.planner.note_heading(cell, theta)
        self.windows.changed()
        stream = self.new_stream(serial, order_number, -1)
        maker = manufacturer or self.manufacturer
        self.robots[serial] = RobotRecord(serial, stream, home, manufacturer=maker)

    def plan_end(self, serial: str) -> Cell:
        """Where the robot's committed plan ends (where a new trip would start from)."""
        return self.adg.last_cell(serial)

    def busy(self) -> set[str]:
        """Robots with released steps not yet reached (they are expected to progress); a robot
        held at a station is not (it stands still on purpose)."""
        return {
            s
            for s, r in self.robots.items()
            if self.adg.released_prefix(s) > self.adg.reached(s) and r.hold_until is None
        }

    def assign(self, serial: str, trip: Trip, start_stop: int = 0) -> None:
        """Give an idle robot a trip; planning aims at stop ``start_stop`` from the next window
        (a restarted controller resumes a trip whose first stops the robot already did)."""
        r = self.robots[serial]
        if r.trip is not None or r.suspended:
            raise ValueError(f"{serial} is not idle")
        r.trip, r.plan_stop, r.exec_stop, r.stop_steps = trip, start_stop, start_stop, []
        r.detour = False
        r.action_stops = {}

    def amend(self, serial: str, trip: Trip) -> None:
        """Give the robot a new version of its trip (same id and stops, more work at a stop whose
        action is not yet planned); stops already planned keep what they were sent with."""
        r = self.robots[serial]
        if r.trip is None or r.trip.trip_id != trip.trip_id or len(r.trip.stops) != len(trip.stops):
            raise ValueError(f"{serial}: {trip.trip_id} is not a new version of its trip")
        changed = [i for i, (a, b) in enumerate(zip(r.trip.stops, trip.stops)) if a != b]
        if changed and min(changed) < r.plan_stop:
            raise ValueError(f"{serial}: stop {min(changed)} of {trip.trip_id} is already planned")
        r.trip = trip

    def abandon(self, serial: str, trip_id: str) -> None:
        """End the robot's trip ``trip_id`` where the robot is: the actions of its stops are taken
        off the plan, so the fresh order of a resync never carries them (a parcel handed to manual
        handling is not tipped); the robot is free for new work once it is usable again. What the
        vehicle was already sent stays on its current order until that order is cancelled (a lost
        vehicle is resynchronised, which cancels it, when it is back)."""
        r = self.robots.get(serial)
        if r is None or r.trip is None or r.trip.trip_id != trip_id:
            return
        for step in list(r.actions):
            kept = [a for a in r.actions[step] if a.action_id not in r.action_stops]
            if kept:
                r.actions[step] = kept
            else:
                del r.actions[step]
        self.stops.end_trip(r)
        r.plan_stop, r.exec_stop, r.stop_steps, r.detour = 0, 0, [], False
        self.windows.changed()

    def release_stay(self, serial: str) -> None:
        """The vehicle stopped charging: it may be sent home or given work again."""
        self.robots[serial].stay = False

    def blocked_cells(self) -> frozenset[Cell]:
        """Cells nobody may plan through: suspended robots' cells and cells of off-plan reports."""
        cells = set(self.extra_blocked)
        for joining in self.joining_blocked.values():
            cells.update(joining)
        for s, r in self.robots.items():
            if r.suspended:
                cells.update(self.adg.occupied_cells(s))
        return frozenset(cells)

    # -- out of planning and back ---------------------------------------------------------------
    def suspend(self, serial: str) -> Trip | None:
        """Stop using a robot and replan everyone from their released ends.

        Returns its trip for the pool if the trip had not started (no stop action finished);
        a trip whose first action ran (the pod is on the robot) stays with the robot and resumes
        when it is back.
        """
        r = self.robots[serial]
        if r.suspended:
            return None
        r.suspended = True
        r.resync_action = None
        r.resync_at = None
        trip = None
        if r.trip is not None and r.exec_stop == 0:
            trip, r.trip = r.trip, None
        self.outbox.resend.forget(serial)
        self.windows.truncate_all()
        return trip

    def remove_robot(self, serial: str) -> Trip | None:
        """Forget a robot altogether (its cells block nothing); returns its trip for the pool (any
        trip: the robot will not bring it back)."""
        r = self.robots[serial]
        trip = self.suspend(serial) or r.trip
        self.adg.remove_robot(serial)
        self.stops.timed.discard(serial)
        del self.robots[serial]
        self.windows.changed()
        return trip

    # -- vehicle state --------------------------------------------------------------------------
    def on_state(
        self, now: Instant, serial: str, state: StateView, cell: Cell | None
    ) -> tuple[list[Envelope], list[ExecutionEvent]]:
        """Apply a vehicle state: acknowledgements, progress, action results, rejections."""
        r = self.robots.get(serial)
        if r is None:
            return [], []
        events: list[ExecutionEvent] = []
        self.outbox.resend.on_state(
            serial,
            state.order_id,
            state.order_update_id,
            [a[0] for a in state.action_states] + list(state.error_actions),
        )
        if r.resync_action is not None:
            if not cancel_done(state, r.resync_action):
                return [], events
            # stops the vehicle finished while it was away (it drove on): reported, not done again
            events.extend(self.stops.on_action_states(serial, state, finished_only=True))
            if not self.resync.finish(serial, cell):
                return [], self._off_plan(r, cell)
            events.append(Resynced(serial))
            return self.outbox.order_updates(now, [serial]), events
        if r.suspended:
            return [], events
        events.extend(self.resync.rejections_in(serial, state))
        if state.order_id == r.stream.order_id:
            if r.rejections and state.order_update_id == r.stream.update_id and r.resync_at is None:
                r.rejections = 0  # the vehicle took an order again: the back-off starts over
            step = r.stream.step_of_sequence(state.last_node_sequence_id)
            if step is not None:
                self.windows.advance(serial, step)
                self.stops.start_hold(now, serial)
            if cell is not None and cell not in self.adg.occupied_cells(serial):
                events.append(OffPlan(serial, cell))
        done = self.stops.on_action_states(serial, state)
        if done:  # a robot that sat windows out on its stop plans on now
            self.windows.stop_done(now, (e.trip.kind for e in done if isinstance(e, StopDone)))
        events.extend(done)
        if self.resync.rollover_due(serial, state):
            self.resync.rollovers += 1
            if state.node_sequence_ids:  # horizon nodes still on the vehicle: cancel them first
                return self.resync.begin(now, serial), events
            if self.resync.finish(serial, cell):  # order finished: a fresh one is accepted as is
                return self.outbox.order_updates(now, [serial]), events
            return [], events + self._off_plan(r, cell)
        return self.outbox.order_updates(now, sorted(self.windows.release(serial))), events

    def _off_plan(self, r: RobotRecord, cell: Cell | None) -> list[ExecutionEvent]:
        """The vehicle stands off its plan: it is not used until it is back."""
        r.suspended = True
        self.windows.changed()
        return [OffPlan(r.serial, cell if cell is not None else (-1, -1))]

    # -- time -----------------------------------------------------------------------------------
    def advance_time(self, now: Instant) -> list[ExecutionEvent]:
        """Plan a window when one is due, and end station holds whose time is up."""
        if self.windows.needed(now):
            self.windows.plan(now)
        events = self.stops.due(now)  # station holds whose time is up
        self.windows.stop_done(now, (e.trip.kind for e in events if isinstance(e, StopDone)))
        return events

    def send(self, now: Instant) -> list[Envelope]:
        """Everything due to vehicles: cancels after a back-off, order updates for every release
        the graph allows, and resends of unacknowledged messages."""
        out = self.resync.due(now)
        out.extend(self.outbox.order_updates(now, sorted(self.windows.release(None))))
        out.extend(self.outbox.resends(now))
        return out

    def next_wakeup(self) -> Instant | None:
        """The earliest instant :meth:`advance_time` or :meth:`send` has work (None: none)."""
        times = (
            self.windows.next_time(),
            self.outbox.resend.next_deadline(),
            self.stops.next_hold_end(),
            self.resync.next_due(),
        )
        return min((t for t in times if t is not None), default=None)
