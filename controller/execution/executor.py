"""The executor: plans windows, keeps the action dependency graph, talks VDA 5050 to vehicles.

Why one object: planning windows, the graph's releases, the per-vehicle order streams and the
resend tracker must agree on one step numbering per robot. The controller core feeds it vehicle
states and trips; it returns envelopes to publish and execution events (stop done or failed,
order rejected, position off plan).

Per robot it keeps: the trip and two stop counters, ``plan_stop`` (stops the *plan* has reached;
planning aims at the next one) and ``exec_stop`` (stops whose action the *vehicle* reported
finished). The action of a stop goes on the planned step where the robot arrives on the stop's
cell. If that arrival node was already sent without the action, the robot first steps off the
cell (a one-window detour) so the arrival is a fresh node.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from bus import wire_json
from bus.clock import Instant, iso_timestamp, seconds
from bus.header import HeaderIds
from bus.topics import VdaTopic, vda_topic
from bus.transport import Envelope
from controller.config import ControllerConfig
from controller.execution.adg import ActionDependencyGraph, ScheduleConflict
from controller.execution.resend import ResendTracker
from controller.execution.trips import (
    ExecutionEvent,
    OffPlan,
    OrderRejected,
    Resynced,
    StopDone,
    StopFailed,
    Trip,
)
from controller.execution.vda_orders import (
    NodeAction,
    OrderStream,
    for_version,
    instant_actions_body,
    with_header,
)
from controller.execution.window_planner import WindowPlanner
from controller.fleet.profiles import ActionSpec, StationHold, VehicleProfile
from controller.fleet.registry import StateView
from warehouse_maps.grid import Cell
from warehouse_maps.layout import Layout

log = logging.getLogger("bulletyard.controller.execution")

REJECTION_ERRORS = frozenset({"validationError", "orderError", "orderUpdateError", "noRouteError"})
NO_ORDER_TO_CANCEL = "noOrderToCancel"
_DEFAULT_PROFILE = VehicleProfile()


@dataclass(slots=True)
class _Robot:
    serial: str
    stream: OrderStream
    home: Cell
    trip: Trip | None = None
    plan_stop: int = 0
    exec_stop: int = 0
    stop_steps: list[int] = field(default_factory=list)  # planned arrival step of each reached stop
    actions: dict[int, list[NodeAction]] = field(default_factory=dict)
    detour: bool = False
    lost: bool = False
    resync_action: str | None = None  # cancelOrder in flight; no new order until it is FINISHED
    reported: set[str] = field(default_factory=set)  # actionIds already turned into events
    manufacturer: str = ""
    action_stops: dict[str, int] = field(default_factory=dict)  # actionId -> stop index of the trip
    holds: dict[int, tuple[int, float]] = field(default_factory=dict)  # step -> (stop index, hold s)
    hold_until: Instant | None = None  # the station hold at min(holds) ends then (None: not started)
    resync_at: Instant | None = None  # a rejected order's cancel goes out then (back-off)
    rejections: int = 0  # rejected orders since the last accepted one (back-off doubles)
    stay: bool = False  # without a trip it stays where its plan ends (charging) instead of going home


class Executor:
    """Windows, graph, orders and resends for all robots.

    Args:
        layout: the floor and its places.
        config: controller configuration.
        planner: plans windows (``LifelongPlanner`` or :class:`LifelongWindowPlanner`).
    """

    def __init__(
        self,
        layout: Layout,
        config: ControllerConfig,
        planner: WindowPlanner,
        epoch: int = 0,
        profile_of: Callable[[str], VehicleProfile] | None = None,
        manufacturer_of: Callable[[str], str | None] | None = None,
    ) -> None:
        self.layout = layout
        self.config = config
        self.planner = planner
        self.manufacturer = config.fleet.manufacturer or "bulletyard"  # of robots added without one
        self.profile_of = profile_of or (lambda serial: _DEFAULT_PROFILE)
        self.manufacturer_of = manufacturer_of or (lambda serial: None)  # of vehicles not yet added
        self.epoch = epoch
        self._actions_made = 0  # counts actionIds handed out: unique for the journal's life
        self._events: list[ExecutionEvent] = []  # events found outside a state (holds, planning)
        # robots with a station hold or a rejection back-off running: the runner asks for the next
        # wakeup after every message, so those deadlines are looked up among these few, not the fleet
        self._timed: set[str] = set()
        self.adg = ActionDependencyGraph()
        self.resend = ResendTracker(config.resend.interval_s, config.resend.max_interval_s)
        self.headers = HeaderIds()
        self.robots: dict[str, _Robot] = {}
        self.extra_blocked: set[Cell] = set()
        self.joining_blocked: dict[str, frozenset[Cell]] = {}  # vehicles not yet under control
        self.windows_planned = 0
        self._cancels = 0
        self._next_window: Instant = 0
        self.plan_calls: list[float] = []  # filled by the caller that measures time
        self.rollovers = 0  # fresh orders given to idle vehicles (order_rollover_actions)
        # fewest planned steps left among the robots the next window plans for (None: unknown);
        # progress only lowers it, anything else (windows, losses, resyncs) makes it unknown
        self._fewest_remaining: int | None = None

    # -- robots ---------------------------------------------------------------------------------
    def add_robot(
        self, serial: str, cell: Cell, home: Cell, order_number: int = 1, manufacturer: str | None = None
    ) -> None:
        """Put a vehicle standing on ``cell`` under control (raises ScheduleConflict if taken);
        its topics use ``manufacturer`` (default: the configured one)."""
        self.adg.add_robot(serial, cell)
        self._fewest_remaining = None
        stream = OrderStream(
            serial,
            order_number,
            self.layout.cell_centre_m,
            self.layout.name,
            self.config.execution.horizon_nodes,
            epoch=self.epoch,
        )
        self.robots[serial] = _Robot(serial, stream, home, manufacturer=manufacturer or self.manufacturer)

    def is_idle(self, serial: str) -> bool:
        """True when the robot has no trip and is usable."""
        r = self.robots[serial]
        return r.trip is None and not r.lost

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
        if r.trip is not None or r.lost:
            raise ValueError(f"{serial} is not idle")
        r.trip, r.plan_stop, r.exec_stop, r.stop_steps = trip, start_stop, start_stop, []
        r.detour = False
        r.action_stops = {}

    def stops_planned(self, serial: str, trip_id: str) -> int | None:
        """How many stops of trip ``trip_id`` the robot's plan has reached (None: not its trip)."""
        r = self.robots.get(serial)
        if r is None or r.trip is None or r.trip.trip_id != trip_id:
            return None
        return r.plan_stop

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

    def blocked_cells(self) -> frozenset[Cell]:
        """Cells nobody may plan through: lost robots' cells and cells of off-plan reports."""
        cells = set(self.extra_blocked)
        for joining in self.joining_blocked.values():
            cells.update(joining)
        for s, r in self.robots.items():
            if r.lost:
                cells.update(self.adg.occupied_cells(s))
        return frozenset(cells)

    # -- lost and back ----------------------------------------------------------------------------
    def mark_lost(self, serial: str) -> Trip | None:
        """Stop using a robot and replan everyone from their released ends.

        Returns its trip for the pool if the trip had not started (no stop action finished);
        a trip whose first action ran (the pod is on the robot) stays with the robot and resumes
        when it is back.
        """
        r = self.robots[serial]
        if r.lost:
            return None
        r.lost = True
        self._fewest_remaining = None
        r.resync_action = None
        r.resync_at = None
        trip = None
        if r.trip is not None and r.exec_stop == 0:
            trip, r.trip = r.trip, None
        self.resend.forget(serial)
        self._truncate_all()
        return trip

    def mark_back(self, now: Instant, serial: str) -> list[Envelope]:
        """A lost robot is reachable again: cancel its order; it rejoins once the cancel is done."""
        return self.begin_resync(now, serial)

    def begin_resync(self, now: Instant, serial: str) -> list[Envelope]:
        """Cancel the vehicle's order; a new order starts from where it stands once the cancel
        shows FINISHED in its actionStates (VDA 5050 accepts a new order only then)."""
        r = self.robots[serial]
        self.resend.forget(serial)
        self._cancels += 1
        r.resync_at = None
        r.resync_action = f"cancel-{serial}-{self._cancels}" + (f"-e{self.epoch}" if self.epoch else "")
        return [self.instant_action(now, serial, NodeAction(r.resync_action, "cancelOrder", (), "NONE"))]

    def on_rejected(self, now: Instant, serial: str) -> None:
        """The vehicle rejected its order (update): nothing more is sent to it until a back-off
        has passed (``fleet.rejection_backoff_s``, doubling with each rejection in a row); then
        its order is cancelled and a fresh one, planned again with what its profile now says,
        starts where it stands. Why: resending at once met the same refusal within milliseconds
        and the vehicle was declared lost before anything could change."""
        r = self.robots[serial]
        self.resend.forget_order(serial)
        r.rejections += 1
        backoff_s = self.config.fleet.rejection_backoff_s * 2 ** min(r.rejections - 1, 5)
        r.resync_at = now + seconds(backoff_s)
        self._timed.add(serial)
        self._replan_stops(serial)

    def due_resyncs(self, now: Instant) -> list[Envelope]:
        """The cancels of rejected orders whose back-off has passed."""
        out: list[Envelope] = []
        for serial in sorted(self._timed):
            r = self.robots[serial]
            if r.resync_at is not None and r.resync_at <= now and not r.lost:
                out.extend(self.begin_resync(now, serial))
        return out

    def next_resync(self) -> Instant | None:
        """When the next back-off ends (None: no rejected order waits)."""
        robots = [self.robots[s] for s in self._timed]
        times = [r.resync_at for r in robots if r.resync_at is not None and not r.lost]
        return min(times) if times else None

    def _prune_timed(self) -> None:
        """Forget robots with neither a hold nor a back-off running (see ``_timed``)."""
        self._timed = {
            s for s in self._timed if (r := self.robots[s]).hold_until is not None or r.resync_at is not None
        }

    def _replan_stops(self, serial: str) -> None:
        """Plan the stops ahead of the vehicle again with its current profile (a rejection may have
        taught the controller that the vehicle does not run an action); the fresh order that
        follows the cancel carries them."""
        r = self.robots[serial]
        if r.trip is None:
            return
        sent = self.adg.reached(serial)  # the refused order carried everything beyond this
        unsent: list[tuple[int, int]] = []  # (step, stop index)
        for k in [k for k in r.actions if k > sent]:
            unsent += [(k, r.action_stops.pop(a.action_id)) for a in r.actions.pop(k)]
        for k in [k for k in r.holds if k > sent]:
            unsent.append((k, r.holds.pop(k)[0]))
        for k, index in sorted(unsent):
            self._attach_stop(serial, index, k)

    def _attach_stop(self, serial: str, index: int, step: int) -> None:
        """Put stop ``index`` of the robot's trip on planned ``step``: the vehicle's action for it
        (a fresh actionId), or a station hold when the vehicle has no action for the visit."""
        r = self.robots[serial]
        assert r.trip is not None
        stop = r.trip.stops[index]
        plan = self.profile_of(serial).plan_stop(stop.action_type, stop.parameters, self.config.pick_time_s)
        if isinstance(plan, StationHold):
            r.holds[step] = (index, plan.duration_s)
            return
        if not isinstance(plan, ActionSpec):  # the assigner offers only trips a vehicle can run, but
            # a rejection may have shown since that it does not run this action: never send it
            log.warning("%s cannot run stop %d (%s) of %s: %s", serial, index, stop.action_type,
                        r.trip.trip_id, plan.reason)
            self._events.append(StopFailed(serial, r.trip, index))
            return
        action_type, parameters = plan.action_type, plan.parameters
        self._actions_made += 1
        epoch = f"e{self.epoch}-" if self.epoch else ""
        action_id = f"{r.trip.trip_id}/{index}/{epoch}{self._actions_made}"
        r.action_stops[action_id] = index
        r.actions.setdefault(step, []).append(NodeAction(action_id, action_type, parameters))

    def _finish_resync(self, serial: str, cell: Cell | None) -> bool:
        """Start a fresh order at the step of the plan the vehicle stands on; False if off plan."""
        r = self.robots[serial]
        cells = self.adg.cells(serial)
        lo, hi = self.adg.reached(serial), self.adg.released_prefix(serial)
        step = next((k for k in range(lo, hi + 1) if cells[k] == cell), None)
        r.resync_action = None
        if step is None:
            log.warning(
                "vehicle %s stands at %s, off its plan %s: kept blocked",
                serial,
                cell,
                self.adg.occupied_cells(serial),
            )
            if cell is not None:
                self.extra_blocked.add(cell)
            return False
        self.adg.mark_reached(serial, step)
        r.lost = False
        self._fewest_remaining = None
        r.reported = {a for a in r.reported if not a.startswith(r.stream.order_id)}
        r.actions = {k: v for k, v in r.actions.items() if k > step}
        r.holds = {k: v for k, v in r.holds.items() if k > step}
        r.hold_until = None
        r.stop_steps = [k for k in r.stop_steps if k > step][: max(0, r.plan_stop - r.exec_stop)]
        r.plan_stop = r.exec_stop + len(r.stop_steps)
        r.stream = OrderStream(
            serial,
            r.stream.order_number + 1,
            self.layout.cell_centre_m,
            self.layout.name,
            self.config.execution.horizon_nodes,
            epoch=self.epoch,
            base_step=step - 1,
        )
        return True

    def _truncate_all(self) -> None:
        self.adg.truncate_to_released()
        self._fewest_remaining = None
        for s, r in self.robots.items():
            released = self.adg.released_prefix(s)
            r.actions = {k: v for k, v in r.actions.items() if k <= released}
            r.holds = {k: v for k, v in r.holds.items() if k <= released}
            kept = [k for k in r.stop_steps if k <= released]
            r.stop_steps = kept
            r.plan_stop = len(kept)
            r.detour = False

    # -- vehicle state --------------------------------------------------------------------------
    def on_state(
        self, now: Instant, serial: str, state: StateView, cell: Cell | None
    ) -> tuple[list[Envelope], list[ExecutionEvent]]:
        """Apply a vehicle state: acknowledgements, progress, action results, rejections."""
        r = self.robots.get(serial)
        if r is None:
            return [], []
        events: list[ExecutionEvent] = []
        self.resend.on_state(
            serial,
            state.order_id,
            state.order_update_id,
            [a[0] for a in state.action_states] + list(state.error_actions),
        )
        if r.resync_action is not None:
            if not cancel_done(state, r.resync_action):
                return [], events
            if not self._finish_resync(serial, cell):
                r.lost = True
                self._fewest_remaining = None
                events.append(OffPlan(serial, cell if cell is not None else (-1, -1)))
                return [], events
            events.append(Resynced(serial))
            return self._send_updates(now, [serial]), events
        if r.lost:
            return [], events
        for error_type, _level, order_ref in state.errors:
            if (
                error_type in REJECTION_ERRORS
                and order_ref == r.stream.order_id
                and order_ref not in r.reported
            ):
                r.reported.add(order_ref)
                events.append(OrderRejected(serial, order_ref, error_type))
        if state.order_id == r.stream.order_id:
            if r.rejections and state.order_update_id == r.stream.update_id and r.resync_at is None:
                r.rejections = 0  # the vehicle took an order again: the back-off starts over
            step = r.stream.step_of_sequence(state.last_node_sequence_id)
            if step is not None:
                self._advance(serial, step)
                self._start_hold(now, serial)
            if cell is not None and cell not in self.adg.occupied_cells(serial):
                events.append(OffPlan(serial, cell))
        if r.trip is not None:
            for action_id, _type, status in state.action_states:
                index = r.action_stops.get(action_id)
                if index is None or action_id in r.reported:
                    continue
                if status == "FINISHED":
                    r.reported.add(action_id)
                    r.exec_stop = max(r.exec_stop, index + 1)
                    events.append(StopDone(serial, r.trip, index))
                    if index == len(r.trip.stops) - 1:
                        self._end_trip(r)
                        break
                elif status == "FAILED":
                    r.reported.add(action_id)
                    events.append(StopFailed(serial, r.trip, index))
        if self._rollover_due(serial, state):
            self.rollovers += 1
            if state.node_sequence_ids:  # horizon nodes still on the vehicle: cancel them first
                return self.begin_resync(now, serial), events
            if self._finish_resync(serial, cell):  # order finished: a fresh one is accepted as is
                return self._send_updates(now, [serial]), events
            r.lost = True
            self._fewest_remaining = None
            events.append(OffPlan(serial, cell if cell is not None else (-1, -1)))
            return [], events
        out = self.release_and_send(now, focus=serial)
        return out, events

    def _end_trip(self, r: _Robot) -> None:
        """The trip's last stop is done: its actions are never looked at again. A vehicle that
        started charging (``startCharging``) stays on the charger until :meth:`release_stay`."""
        last = [a for acts in r.actions.values() for a in acts if a.action_id in r.action_stops]
        r.stay = bool(last) and last[-1].action_type == "startCharging"
        r.trip = None
        r.reported = {a for a in r.reported if a not in r.action_stops}
        r.action_stops = {}
        r.holds = {}
        r.hold_until = None

    def _start_hold(self, now: Instant, serial: str) -> None:
        """Start the station hold's clock once the vehicle stands on the held node."""
        r = self.robots[serial]
        if r.holds and r.hold_until is None:
            step = min(r.holds)
            if self.adg.reached(serial) >= step:
                r.hold_until = now + seconds(r.holds[step][1])
                self._timed.add(serial)

    def staying(self, serial: str) -> bool:
        """True while the robot stays on a charger after ``startCharging``."""
        return self.robots[serial].stay

    def release_stay(self, serial: str) -> None:
        """The vehicle stopped charging: it may be sent home or given work again."""
        self.robots[serial].stay = False

    def holds_due(self, now: Instant) -> list[ExecutionEvent]:
        """Station holds whose time is up: the stop is done and the next nodes may go out; also
        any event found while planning (a stop the vehicle cannot run)."""
        events, self._events = self._events, []
        self._prune_timed()
        for serial in sorted(self._timed):
            r = self.robots[serial]
            if r.hold_until is None or r.hold_until > now or r.lost or r.trip is None:
                continue
            index, _ = r.holds.pop(min(r.holds))
            r.hold_until = None
            r.exec_stop = max(r.exec_stop, index + 1)
            events.append(StopDone(serial, r.trip, index))
            if index == len(r.trip.stops) - 1:
                self._end_trip(r)
            else:
                self._start_hold(now, serial)
        return events

    def next_hold_end(self) -> Instant | None:
        """When the next station hold ends (None: none running)."""
        times = [r.hold_until for s in self._timed if (r := self.robots[s]).hold_until is not None]
        return min(times) if times else None

    def _rollover_due(self, serial: str, state: StateView) -> bool:
        """True when the vehicle's order carried ``order_rollover_actions`` actions and the vehicle
        now stands still with nothing released ahead and no action running (a cancel would stop
        it): the moment to give it a fresh order. A trip in progress carries over, as after any
        resynchronisation (its later stops are planned again into the new order)."""
        r = self.robots[serial]
        return (
            r.stream.actions_planned >= self.config.execution.order_rollover_actions
            and r.resync_action is None
            and r.resync_at is None
            and r.hold_until is None
            and not r.lost
            and not state.driving
            and self.adg.reached(serial) == self.adg.released_prefix(serial)
            and all(status in ("FINISHED", "FAILED") for _, _, status in state.action_states)
        )

    def _advance(self, serial: str, step: int) -> None:
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
            if fewest is not None and left < fewest and not self.robots[serial].lost:
                self._fewest_remaining = left  # below the backlog cap, so the robot is in the window

    # -- planning and release ---------------------------------------------------------------------
    def window_robots(self) -> list[str]:
        """Robots the next window plans for: usable ones less than ``max_backlog_steps`` behind.

        Why: a robot that lags (a long action, a slow turn, a held vehicle) used to stop planning
        for the whole fleet until it caught up, so every other robot ran out of plan and stood.
        Now it sits the window out: its plan ends where it ends, that cell is a wall for the
        window, and the others keep getting plan. Deadlock freedom is unchanged: every
        dependency still points to an equal or earlier (window, step), since a robot's steps
        are appended in window order and nobody enters the cell of a robot that sits out.
        """
        cap = self.config.execution.max_backlog_steps
        return sorted(s for s, r in self.robots.items() if not r.lost and self.adg.remaining(s) < cap)

    def needs_window(self, now: Instant) -> bool:
        """True when some robot of the next window is about to run out of plan and the last
        window is at least ``window_interval_steps`` nominal steps old (robots that only wait
        would otherwise consume windows as fast as the runner ticks)."""
        active = self.window_robots()
        if not active or now < self._next_window:
            return False
        return min(self.adg.remaining(s) for s in active) <= self.config.execution.replan_margin_steps

    def next_window_time(self) -> Instant | None:
        """When :meth:`needs_window` may next become true because of pacing (None: not pacing)."""
        fewest = self._fewest_remaining
        if fewest is None:
            cap = self.config.execution.max_backlog_steps
            remaining = self.adg.remaining
            usable = (n for s, r in self.robots.items() if not r.lost and (n := remaining(s)) < cap)
            fewest = self._fewest_remaining = min(usable, default=None)
        if fewest is None or fewest > self.config.execution.replan_margin_steps:
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
            for n in self.layout.grid.neighbors(target):
                return n
        return target

    def plan_window(self, now: Instant) -> bool:
        """Plan and append one window for every usable robot; False if the planner's window was refused."""
        active = self.window_robots()
        if not active:
            return False
        ex = self.config.execution
        self._next_window = now + seconds(ex.window_interval_steps * ex.step_s)
        positions = [self.adg.last_cell(s) for s in active]
        goals = [self.goal(s) for s in active]
        sitting_out = {self.adg.last_cell(s) for s, r in self.robots.items() if not (r.lost or s in active)}
        paths = self.planner.plan_window(
            positions,
            goals,
            self.config.execution.horizon_steps,
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
        self.windows_planned += 1
        for s in active:
            self._note_arrivals(s, window[s], bases[s])
        return True

    def _note_arrivals(self, serial: str, path: list[Cell], base: int) -> None:
        """Attach the next stop's action where the plan arrives on its cell."""
        r = self.robots[serial]
        if r.trip is None or r.plan_stop >= len(r.trip.stops):
            return
        stop = r.trip.stops[r.plan_stop]
        if r.detour:
            if any(c != stop.cell for c in path):
                r.detour = False
            return
        cells = self.adg.cells(serial)
        for k, cell in enumerate(path):
            if cell != stop.cell:
                continue
            entry = base + k
            while entry > cells.first and cells[entry - 1] == cell:
                entry -= 1
            if entry <= r.stream.base_step or (r.stop_steps and entry <= r.stop_steps[-1]):
                r.detour = True  # arrival node already sent, or already used by the previous stop
                return
            r.stream.actions_planned += 1
            self._attach_stop(serial, r.plan_stop, entry)
            r.stop_steps.append(entry)
            r.plan_stop += 1
            return

    def release_and_send(self, now: Instant, focus: str | None = None) -> list[Envelope]:
        """Release what the graph allows and send order updates to robots with nothing pending.

        Args:
            focus: the robot whose state just arrived. Only its own release and the releases of
                robots waiting for it can grow, so only those are checked (and, transitively,
                robots waiting for a robot that reached a planned wait at once); ``None`` checks
                every robot, as the periodic tick does. Why: a state from one of 200 robots used
                to re-check and re-send for all 200, which made reaction time grow with the fleet.
        """
        ahead = self.config.execution.release_ahead_steps
        refill = self.config.execution.release_refill_steps
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
                if not self.robots[serial].lost and self.robots[serial].resync_action is None:
                    before = self.adg.reached(serial)
                    self._advance(serial, before)
                    if self.adg.reached(serial) != before:
                        moved.add(serial)
            if candidates is not None:
                candidates = {w for m in moved for w in self.adg.waiting_on(m)} | moved
                if not candidates:
                    break
        return self._send_updates(now, sorted(touched))

    def _send_updates(self, now: Instant, serials: list[str]) -> list[Envelope]:
        out: list[Envelope] = []
        for s in serials:
            r = self.robots[s]
            if r.lost or r.resync_action is not None or self.resend.pending_order(s) is not None:
                continue
            released = self.adg.released_prefix(s)
            if r.holds:  # the vehicle is told nothing beyond a station it must wait at
                released = min(released, min(r.holds))
            if not r.stream.grows(released):
                continue  # the common case; skips copying the robot's whole plan
            if not r.stream.adds_node(lambda step, s=s: self.adg.cell_at(s, step), released):
                continue  # only waits released on the last node sent: nothing to tell the vehicle
            body = r.stream.extend(self.adg.cells(s), released, r.actions)
            if body is None:
                continue
            out.append(self._order_envelope(now, s, body))
            self.resend.sent_order(now, s, body)
        return out

    def _order_envelope(self, now: Instant, serial: str, body: dict) -> Envelope:
        wire = for_version(body, self.profile_of(serial).version)
        return self._vda_envelope(now, serial, VdaTopic.ORDER, wire)

    def _vda_envelope(self, now: Instant, serial: str, kind: VdaTopic, body: dict) -> Envelope:
        """A VDA 5050 message to one vehicle at QoS 0, with a fresh header for its topic."""
        r = self.robots.get(serial)
        manufacturer = r.manufacturer if r is not None else self.manufacturer_of(serial) or self.manufacturer
        topic = vda_topic(manufacturer, serial, kind)
        msg = with_header(
            body,
            header_id=self.headers.next(topic),
            timestamp=iso_timestamp(now),
            manufacturer=manufacturer,
            serial_number=serial,
            version=self.profile_of(serial).version,
        )
        return Envelope(topic, wire_json.dumps(msg), 0, False)

    def instant_action(self, now: Instant, serial: str, action: NodeAction) -> Envelope:
        """An instantActions message with one action, tracked until it shows in actionStates."""
        body = instant_actions_body([action], self.profile_of(serial).version)
        self.resend.sent_instant_action(now, serial, action.action_id, body)
        return self._instant_envelope(now, serial, body)

    def state_request(self, now: Instant, serial: str, action_id: str) -> Envelope:
        """A stateRequest instant action (not tracked: any later state answers it)."""
        body = instant_actions_body(
            [NodeAction(action_id, "stateRequest", (), "NONE")], self.profile_of(serial).version
        )
        return self._instant_envelope(now, serial, body)

    def _instant_envelope(self, now: Instant, serial: str, body: dict) -> Envelope:
        return self._vda_envelope(now, serial, VdaTopic.INSTANT_ACTIONS, body)

    def resends(self, now: Instant) -> list[Envelope]:
        """Messages whose acknowledgement is overdue, sent again with a fresh header."""
        out: list[Envelope] = []
        for p in self.resend.due(now):
            if p.kind == "order":
                out.append(self._order_envelope(now, p.serial_number, p.body))
            else:
                out.append(self._instant_envelope(now, p.serial_number, p.body))
        return out


def cancel_done(state: StateView, action_id: str) -> bool:
    """True when the state shows our ``cancelOrder`` ``action_id`` ended: its action state is
    FINISHED or FAILED, or the vehicle answered it with ``noOrderToCancel`` only (VDA 5050 6.9: a
    vehicle with no order may report just that error, referencing the action or nothing)."""
    if any(a[0] == action_id and a[2] in ("FINISHED", "FAILED") for a in state.action_states):
        return True
    if not any(e[0] == NO_ORDER_TO_CANCEL for e in state.errors):
        return False
    return action_id in state.error_actions or not state.error_actions
