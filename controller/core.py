"""The master control: a pure, clock-injected state machine that speaks only bus messages.

Why: the same object runs in the lock-step simulator (SimClock) and on an edge box (WallClock
over MQTT). It never reads a clock, never sleeps, never touches a socket: runners call

* ``on_connect(now)`` once connected (subscriptions are listed by :meth:`Controller.subscriptions`),
* ``handle(now, envelope)`` for every inbound message,
* ``tick(now)`` whenever ``now >= next_wakeup()`` (or more often; it is idempotent),

and publish the envelopes these return. Composition: order intake (:mod:`controller.intake`),
matching of idle robots to trips (:mod:`controller.assignment`, OR-Tools flow or greedy), window
planning and the action dependency graph
(:mod:`controller.execution`), fleet registry and supervision (:mod:`controller.fleet`), and an
optional journal (:mod:`controller.journal`) so that a restarted controller resumes every order.

Constructor and methods are stable API for the simulator and the service:
``Controller(config, layout, rng, *, planner=None, inventory=None, journal=None)``.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, OrderedDict
from dataclasses import dataclass

import numpy as np

from bus import wire_json
from bus.clock import Instant, iso_timestamp, seconds
from bus.header import HeaderIds
from bus.topics import (
    TopicFormatError,
    VdaTopic,
    parse_vda_topic,
    vda_filter,
    wms_order_status_topic,
    wms_orders_topic,
)
from bus.transport import Envelope
from bus.wms import TERMINAL_STATUSES
from controller.config import ControllerConfig, ControllerConfigError
from controller.execution.adg import ScheduleConflict
from controller.execution.executor import Executor
from controller.execution.trips import OffPlan, OrderRejected, Resynced, Stop, StopDone, StopFailed, Trip
from controller.execution.vda_orders import NodeAction, parse_node_id
from controller.execution.window_planner import LifelongWindowPlanner, WindowPlanner
from controller.fleet.profiles import Unsupported, VehicleProfile
from controller.fleet.registry import (
    ConnectionView,
    FleetRegistry,
    Link,
    StateView,
    VehicleMessageError,
    decode_vehicle_message,
)
from controller.fleet.supervision import RobotBack, RobotLost, SupervisionLimits, Supervisor
from controller.intake import OrderRefused, parse_order
from controller.orders.inventory import Inventory
from controller.orders.stock import mixed_stock
from controller.sortation.link import SortationLink
from controller.tasks.operations import Operations, OpsConfig
from warehouse_maps.layout import Layout, PlaceKind

log = logging.getLogger("bulletyard.controller")

_VEHICLE_TOPICS = frozenset({VdaTopic.STATE, VdaTopic.CONNECTION, VdaTopic.FACTSHEET})
_POD_TRIP = Trip("probe", (Stop((0, 0), "pick"), Stop((0, 0), "wait"), Stop((0, 0), "drop")))
"""The stop actions of every pod trip (:mod:`controller.tasks.operations`), to ask a vehicle's profile."""
STATUS_VERSION = "1.0.0"
FINAL_STATUSES = TERMINAL_STATUSES
RECENT_FINISHED_ORDERS = 100_000
"""Finished order ids kept in memory to refuse a replayed order; older ones are looked up in the
journal (without one, a replay of an order older than this is accepted again)."""


@dataclass
class _OrderRecord:
    order_id: str
    status: str
    lines_open: int  # lines not yet picked at a station


class Controller:
    """Master control over one layout; see the module docstring.

    Args:
        config: controller configuration.
        layout: the floor, its places (storage, stations, chargers, parking).
        rng: the controller's random stream (planner tie-breaks are seeded from it).
        planner: window planner (default: :class:`LifelongWindowPlanner` on the layout's grid).
        inventory: stock per (pod, SKU) (default: the layout's seeded mixed stock,
            :func:`controller.orders.stock.mixed_stock` with seed 0).
        journal: an open :class:`controller.journal.Journal`; orders and trips are recorded
            there and recovered from it on construction.
    """

    def __init__(
        self,
        config: ControllerConfig,
        layout: Layout,
        rng: np.random.Generator,
        *,
        planner: WindowPlanner | None = None,
        inventory: Inventory | None = None,
        journal=None,
    ) -> None:
        self.config = config
        self._orders_topic = wms_orders_topic(config.site)
        self.layout = layout
        self.rng = rng
        seed = int(rng.integers(2**31)) if planner is None else 0
        self.planner = planner or LifelongWindowPlanner(layout.grid, seed=seed)
        self.registry = FleetRegistry(layout.cell_at_m, config.fleet)
        self.executor = Executor(
            layout,
            config,
            self.planner,
            epoch=journal.epoch if journal is not None else 0,
            profile_of=self._profile,
            manufacturer_of=lambda s: v.manufacturer if (v := self.registry.vehicles.get(s)) else None,
        )
        f = config.fleet
        self.supervisor = Supervisor(
            SupervisionLimits(f.no_progress_timeout_s, f.state_timeout_s, f.low_battery_pct, f.charged_pct)
        )
        a = config.assignment
        self.ops = Operations(
            layout,
            inventory if inventory is not None else mixed_stock(layout, np.random.default_rng(0)),
            OpsConfig(a.solver, a.station_open_orders, a.robots_per_station, config.pick_time_s),
        )
        sorter = (layout.equipment or {}).get("sorter") if config.sortation.enabled else None
        if config.sortation.enabled and not sorter:
            raise ControllerConfigError(
                f"sortation.enabled: layout {layout.name} has no sorter (equipment.sorter)"
            )
        self.sortation = SortationLink(config.site, sorter, config.sortation) if sorter else None
        self.headers = HeaderIds()
        self.orders: dict[str, _OrderRecord] = {}  # open orders only: a site runs for months
        self._finished: OrderedDict[str, None] = OrderedDict()  # the most recent finished order ids
        self._finished_counts: Counter[str] = Counter()
        self.trip_robot: dict[str, str] = {}
        self.counters: Counter[str] = Counter()
        self.rejections: Counter[str] = Counter()
        self._next_assign: Instant | None = None
        self._next_supervision: Instant | None = None
        self._blocked_since: dict[str, Instant] = {}  # open trip id -> when it first waited on a blocked cell
        self._parking = sorted(layout.cells_of(PlaceKind.PARKING))
        self._chargers = sorted(layout.cells_of(PlaceKind.CHARGER))  # the layout never changes
        self._homes: set = set()
        self._order_rejects: Counter[str] = Counter()
        self._poked: dict[str, Instant] = {}
        self._busy_seen: set[str] = set()  # robots busy at the last supervision (progress clocks)
        self._joining: dict[str, str] = {}  # vehicle -> cancelOrder actionId sent before it joins
        self._stopping: dict[str, str] = {}  # vehicle -> stopCharging actionId sent for its last charge
        self._held: dict[str, tuple[Trip, int]] = {}  # robot -> (trip it carries a pod for, stops done)
        self._recovered: list[tuple[str, str]] = []  # (order_id, status) to announce on connect
        self.journal = journal
        if journal is not None:
            self._recover()

    # -- runner protocol ------------------------------------------------------------------------
    def subscriptions(self) -> list[tuple[str, int]]:
        """(topic filter, qos) pairs the runner subscribes before calling :meth:`on_connect`:
        every manufacturer's vehicles unless ``fleet.manufacturers`` names some."""
        makers = self.registry.manufacturers
        vda = [
            (vda_filter(kind, m), qos)
            for m in (sorted(makers) if makers is not None else [None])
            for kind, qos in ((VdaTopic.CONNECTION, 1), (VdaTopic.FACTSHEET, 0), (VdaTopic.STATE, 0))
        ]
        return vda + [(wms_orders_topic(self.config.site), 1)] + (
            self.sortation.subscriptions() if self.sortation is not None else []
        )

    def will(self) -> Envelope | None:
        """The controller has no last will (vehicles carry on with their released base)."""
        return None

    def on_connect(self, now: Instant) -> list[Envelope]:
        """Ask every known vehicle for its state (after a restart the registry refills from retained
        connection and factsheet messages, whose arrival also triggers a stateRequest)."""
        out = [self._status(now, oid, status, "recovered after restart") for oid, status in self._recovered]
        self._recovered = []
        return out + [self._state_request(now, s) for s in self.registry.serials()]

    def handle(self, now: Instant, msg: Envelope) -> list[Envelope]:
        """React to one inbound message. Bad input (a malformed payload, a topic that is not ours, a
        vehicle not served) is counted and logged once per kind and never raises; once a message
        is decoded, an exception is a bug of ours and is raised, not counted as a bad message."""
        self.counters["in"] += 1
        if msg.topic == self._orders_topic:
            return self._on_order(now, msg.payload)
        if self.sortation is not None and self.sortation.owns(msg.topic):
            return self._on_sorter(now, msg)
        try:
            manufacturer, serial, kind = parse_vda_topic(msg.topic)
        except TopicFormatError as err:
            return self._reject(msg.topic, f"unknown topic: {err}")
        if kind not in _VEHICLE_TOPICS or (not msg.payload and kind != VdaTopic.STATE):
            return []  # an empty retained message clears the topic: nothing to act on
        refusal = self.registry.refusal(manufacturer, serial)
        if refusal is not None:
            return self._reject(msg.topic, f"not served: {refusal}")
        try:
            inbound = decode_vehicle_message(kind, msg.payload)
        except VehicleMessageError as err:
            return self._reject(msg.topic, str(err))
        if isinstance(inbound, StateView):
            return self._on_state(now, serial, inbound, manufacturer)
        if isinstance(inbound, ConnectionView):
            new = serial not in self.registry.vehicles
            self.registry.on_connection(now, serial, inbound, manufacturer)
            out = self._supervise(now)
            if new:
                out.append(self._state_request(now, serial))
            return out
        self.registry.on_factsheet(now, serial, inbound, manufacturer)
        self._note_profile(serial)
        return []

    def tick(self, now: Instant) -> list[Envelope]:
        """Time-driven work: supervision, assignment, planning, release, resends."""
        out: list[Envelope] = []
        if self._next_supervision is None or now >= self._next_supervision:
            out.extend(self._supervise(now))
            out.extend(self._poke_silent(now))
            self._next_supervision = now + seconds(self.config.fleet.supervision_period_s)
        if self._next_assign is None or now >= self._next_assign:
            out.extend(self._fail_stranded(now))
            out.extend(self._assign(now))
            out.extend(self._charge(now))
            out.extend(self._stop_charging(now))
            self._next_assign = now + seconds(self.config.assign_period_s)
        if self.executor.needs_window(now):
            self.executor.plan_window(now)
        for ev in self.executor.holds_due(now):
            out.extend(self._on_event(now, ev))
        out.extend(self.executor.due_resyncs(now))
        out.extend(self.executor.release_and_send(now))
        out.extend(self.executor.resends(now))
        return out

    def next_wakeup(self) -> Instant | None:
        """The earliest instant :meth:`tick` has work: a window to plan, a resend, the next
        supervision (timeouts, silent vehicles; every ``fleet.supervision_period_s``) or an
        assignment deadline."""
        times = [
            t
            for t in (
                self.executor.next_window_time(),
                self.executor.resend.next_deadline(),
                self.executor.next_hold_end(),
                self.executor.next_resync(),
                self._next_supervision,
                self._next_assign,
            )
            if t is not None
        ]
        return min(times) if times else None

    # -- orders ---------------------------------------------------------------------------------
    def _on_order(self, now: Instant, payload: bytes) -> list[Envelope]:
        try:
            order = parse_order(payload)
        except OrderRefused as err:
            order_id = _order_id_or_none(payload)
            self.counters["orders_refused"] += 1
            log.warning("order %s refused: %s", order_id or "(without orderId)", err)
            return [self._status(now, order_id or "", "refused", str(err))]
        if self._known(order.order_id):
            self.counters["orders_refused"] += 1
            return [self._status(now, order.order_id, "refused", "duplicate: orderId already received")]
        try:
            self.ops.check(order)
            if self.sortation is not None:
                self.sortation.check(order)
        except OrderRefused as err:
            self._finish(order.order_id, "refused")
            self.counters["orders_refused"] += 1
            self._journal("order", order.order_id, "refused", reason=str(err))
            return [self._status(now, order.order_id, "refused", str(err))]
        self.orders[order.order_id] = _OrderRecord(order.order_id, "received", len(order.lines))
        if self.sortation is not None:
            self.sortation.register(order)
        self.ops.accept(order, now)
        self.counters["orders_accepted"] += 1
        self._journal("order", order.order_id, "received", payload=payload.decode())
        return [self._status(now, order.order_id, "received", "")]

    def _complete_if_done(self, now: Instant, order_id: str) -> list[Envelope]:
        """``complete`` once every line of the order is picked and, at a sorting site, every unit
        is sorted (whichever comes last)."""
        rec = self.orders.get(order_id)
        if rec is None or rec.lines_open > 0:
            return []
        if self.sortation is not None and not self.sortation.all_sorted(order_id):
            return []
        self.counters["orders_completed"] += 1
        return self._set_status(now, order_id, "complete")

    def _on_sorter(self, now: Instant, msg: Envelope) -> list[Envelope]:
        """A sorter message: the planner answers; orders whose last unit went on the line or into
        its chute move on."""
        assert self.sortation is not None
        news = self.sortation.handle(now, msg)
        out = news.replies
        for order_id, sorter_id, item_id, label in news.items:
            self._journal("item", item_id, "inducted", sorter_id=sorter_id, label=label, order_id=order_id)
        for order_id, label in news.units_sorted:
            self._journal("unit", label, "sorted", order_id=order_id)
        for order_id in news.all_inducted:
            rec = self.orders.get(order_id)
            if rec is not None and rec.status == "picked":  # never back from sorted
                out.extend(self._set_status(now, order_id, "inducted"))
        for order_id in news.all_sorted:
            out.extend(self._set_status(now, order_id, "sorted"))
            out.extend(self._complete_if_done(now, order_id))
        return out

    def _set_status(self, now: Instant, order_id: str, status: str, reason: str = "") -> list[Envelope]:
        rec = self.orders.get(order_id)
        if rec is None or rec.status == status:
            return []
        rec.status = status
        if status in FINAL_STATUSES:
            self._finish(order_id, status)
        self._journal("order", order_id, status, reason=reason)
        return [self._status(now, order_id, status, reason)]

    def _status(self, now: Instant, order_id: str, status: str, reason: str) -> Envelope:
        topic = wms_order_status_topic(self.config.site)
        body = {
            "headerId": self.headers.next(topic),
            "timestamp": iso_timestamp(now),
            "version": STATUS_VERSION,
            "orderId": order_id,
            "status": status,
            "reason": reason,
        }
        return Envelope(topic, wire_json.dumps(body), 1, False)

    def order_counts(self) -> dict[str, int]:
        """Orders by status (for metrics and reports), finished ones included."""
        counts = Counter(r.status for r in self.orders.values()) + self._finished_counts
        return dict(sorted(counts.items()))

    def _known(self, order_id: str) -> bool:
        """True when ``order_id`` was received before (open, recently finished, or journalled)."""
        if order_id in self.orders or order_id in self._finished:
            return True
        return self.journal is not None and self.journal.has_order(order_id)

    def _finish(self, order_id: str, status: str) -> None:
        """The order reached a final status: it leaves the open records and the sortation's
        (memory stays flat over a long shift) and joins the window of recent ids that refuses replays."""
        self.orders.pop(order_id, None)
        if self.sortation is not None:
            self.sortation.forget(order_id)
        self._finished_counts[status] += 1
        self._finished[order_id] = None
        if len(self._finished) > RECENT_FINISHED_ORDERS:
            self._finished.popitem(last=False)

    def robot_counts(self) -> dict[str, int]:
        """Robots by state (for metrics): joining, idle, busy (on a trip), charging, lost."""
        counts = {"idle": 0, "busy": 0, "charging": 0, "lost": 0, "joining": len(self._joining)}
        for serial, r in self.executor.robots.items():
            if r.lost or self.supervisor.is_lost(serial):
                counts["lost"] += 1
            elif r.trip is None:
                counts["idle"] += 1
            else:
                counts["charging" if r.trip.kind == "charge" else "busy"] += 1
        return counts

    # -- vehicles -------------------------------------------------------------------------------
    def _on_state(self, now: Instant, serial: str, state: StateView, manufacturer: str) -> list[Envelope]:
        if not self.registry.on_state(now, serial, state, manufacturer):
            self.counters["state_stale"] += 1
            return []
        vehicle = self.registry.vehicles[serial]
        out: list[Envelope] = []
        if serial not in self.executor.robots:
            if not self._join(now, serial, state, vehicle.cell, out):
                return out
            self._note_profile(serial)
        held = self._held.pop(serial, None)
        if held is not None and self.executor.is_idle(serial):
            trip, done = held
            self.executor.assign(serial, trip, start_stop=done)
            self.trip_robot[trip.trip_id] = serial
            log.info("vehicle %s resumes trip %s at stop %d", serial, trip.trip_id, done)
        env, events = self.executor.on_state(now, serial, state, vehicle.cell)
        out.extend(env)
        for ev in events:
            out.extend(self._on_event(now, ev))
        return out

    def _join(self, now: Instant, serial: str, state, cell, out: list[Envelope]) -> bool:
        """Take a vehicle under control once it stands still on a floor cell.

        A vehicle still driving an order from an earlier controller run is first told to cancel
        it; until it has stopped, the cells of its remaining nodes are kept out of planning.
        """
        if cell is None or not self.layout.grid.is_passable(cell):
            self._reject(f"state/{serial}", f"position {cell} is not on the floor")
            return False
        profile = self.registry.vehicles[serial].profile
        size = self.layout.cell_size_m
        if max(profile.length_m or 0.0, profile.width_m or 0.0) > size + 1e-9:
            self._reject(
                f"state/{serial}",
                f"footprint {profile.length_m} x {profile.width_m} m (factsheet) does not fit a cell of "
                f"{size} m: not taken under control",
            )
            return False
        pending = self._joining.get(serial)
        still = not state.driving and (
            not state.node_sequence_ids
            or any(a[0] == pending and a[2] in ("FINISHED", "FAILED") for a in state.action_states)
        )
        if not still:
            cells = {cell} | {c for n in state.node_ids if (c := parse_node_id(n)) is not None}
            self.executor.joining_blocked[serial] = frozenset(cells)
            if pending is None:
                self.counters["join_cancels"] += 1
                pending = self._joining[serial] = f"join-cancel-{serial}-{self.counters['join_cancels']}"
                out.append(
                    self.executor.instant_action(now, serial, NodeAction(pending, "cancelOrder", (), "NONE"))
                )
            return False
        self._joining.pop(serial, None)
        self.executor.joining_blocked.pop(serial, None)
        try:
            self.executor.add_robot(
                serial, cell, self._home_for(cell), manufacturer=self.registry.vehicles[serial].manufacturer
            )
        except ScheduleConflict as err:
            self._reject(f"state/{serial}", f"cannot place vehicle: {err}")
            return False
        log.info("vehicle %s joined at %s", serial, cell)
        return True

    def _on_event(self, now: Instant, ev) -> list[Envelope]:
        if isinstance(ev, StopDone):
            return self._stop_done(now, ev)
        if isinstance(ev, StopFailed):
            log.warning(
                "%s: action of stop %d of %s failed", ev.serial_number, ev.stop_index, ev.trip.trip_id
            )
            return self._lose(now, ev.serial_number, "action-failed")
        if isinstance(ev, OrderRejected):
            return self._on_rejected(now, ev)
        if isinstance(ev, Resynced):
            self.counters["resynced"] += 1
            log.info("vehicle %s resynchronised", ev.serial_number)
            return []
        if isinstance(ev, OffPlan):
            self.counters["off_plan"] += 1
            if ev.serial_number not in self.supervisor.lost:
                self.supervisor.lost[ev.serial_number] = ("off-plan", now)
            log.warning("%s reports %s, off its plan", ev.serial_number, ev.cell)
            self.executor.extra_blocked.add(ev.cell)
            return self._lose(now, ev.serial_number, "off-plan")
        return []

    def _on_rejected(self, now: Instant, ev: OrderRejected) -> list[Envelope]:
        """A vehicle refused an order: learn what it said (an action it does not run), back off,
        and send a fresh order planned with that knowledge; only a vehicle that keeps refusing
        (``fleet.max_order_rejections`` in a row) is taken out of service."""
        serial = ev.serial_number
        self.counters["vehicle_rejections"] += 1
        vehicle = self.registry.vehicles.get(serial)
        texts = vehicle.state.error_texts if vehicle is not None and vehicle.state is not None else ()
        log.warning("%s rejected order %s (%s)", serial, ev.order_id, "; ".join(texts) or ev.error_type)
        for action_type in self.registry.learn_refusals(serial, texts):
            self._deviation(serial, f"refuses-{action_type}", f"refuses {action_type!r}: not sent again")
        self.executor.on_rejected(now, serial)
        if self.executor.robots[serial].rejections > self.config.fleet.max_order_rejections:
            return self._lose(now, serial, "rejects-orders")
        return []

    def _profile(self, serial: str) -> VehicleProfile:
        v = self.registry.vehicles.get(serial)
        return v.profile if v is not None else VehicleProfile()

    def _note_profile(self, serial: str) -> None:
        """Log once per vehicle what its dialect is and where it differs from ours."""
        v = self.registry.vehicles[serial]
        p = v.profile
        self._deviation(
            serial,
            f"profile-{p.version}-{p.source}",
            f"speaks VDA 5050 {p.version}; node actions ({p.source}): "
            + (", ".join(sorted(p.node_actions)) if p.node_actions is not None else "predefined assumed"),
            level=logging.INFO,
        )
        if v.state is not None and v.state.version and v.state.version != p.version:
            self._deviation(serial, f"version-{v.state.version}", f"sends version {v.state.version!r}")
        for ours in ("pick", "drop", "wait", "charge"):
            plan = p.plan_stop(ours, (), self.config.pick_time_s)
            if isinstance(plan, Unsupported):
                self._deviation(serial, f"cannot-{ours}", f"cannot run {ours!r}: {plan.reason}")

    def _deviation(self, serial: str, kind: str, text: str, level: int = logging.WARNING) -> None:
        """Log a vehicle's deviation from what the controller expects, once per vehicle and kind."""
        v = self.registry.vehicles.get(serial)
        if v is None or kind in v.deviations:
            return
        v.deviations.add(kind)
        if level >= logging.WARNING:  # a vehicle's profile is news, not a deviation
            self.counters["vehicle_deviations"] += 1
        log.log(level, "vehicle %s/%s %s", v.manufacturer, serial, text)

    def _can_run(self, serial: str, trip: Trip) -> bool:
        """True when the vehicle has an action (or a station hold) for every stop of ``trip``."""
        profile = self._profile(serial)
        hold_s = self.config.pick_time_s
        plans = (profile.plan_stop(s.action_type, s.parameters, hold_s) for s in trip.stops)
        return not any(isinstance(plan, Unsupported) for plan in plans)

    def _stop_done(self, now: Instant, ev: StopDone) -> list[Envelope]:
        """A pod trip's stop finished: 0 the pod is lifted, 1 its lines are picked, 2 it is set down."""
        trip = ev.trip
        self._journal("trip", trip.trip_id, f"stop{ev.stop_index}")
        out: list[Envelope] = []
        if trip.kind != "pod":
            return out
        if ev.stop_index == 0:
            self.ops.lifted(trip.trip_id)
            for oid in trip.order_ids:
                out.extend(self._set_status(now, oid, "picking"))
        elif ev.stop_index == 1:
            picked = self.ops.picked(trip.trip_id)
            self.counters["station_visits"] += 1
            self.counters["lines_picked"] += picked.lines
            for oid in picked.orders_done:
                rec = self.orders.get(oid)
                if rec is None:
                    continue
                rec.lines_open = 0
                out.extend(self._set_status(now, oid, "picked"))
                out.extend(self._complete_if_done(now, oid))
        elif ev.stop_index == len(trip.stops) - 1:
            self.ops.set_down(trip.trip_id)
            self.trip_robot.pop(trip.trip_id, None)
            self._journal("trip", trip.trip_id, "done")
        return out

    def _lose(self, now: Instant, serial: str, reason: str) -> list[Envelope]:
        self.supervisor.lost.setdefault(serial, (reason, now))
        trip = self.executor.mark_lost(serial)
        self.counters[f"lost_{reason}"] += 1
        log.warning("vehicle %s lost (%s)", serial, reason)
        out: list[Envelope] = []
        if trip is not None:
            self.trip_robot.pop(trip.trip_id, None)
            if trip.kind == "pod":
                self.ops.lost(trip.trip_id)
                self._journal("trip", trip.trip_id, "returned")
                for oid in trip.order_ids:
                    why = f"robot {serial} lost; lines re-queued"
                    out.extend(self._set_status(now, oid, "received", why))
        return out

    def _supervise(self, now: Instant) -> list[Envelope]:
        out: list[Envelope] = []
        busy = self.executor.busy()
        # A robot that just got work released starts its no-progress clock now: it may have stood
        # still (parked, waiting on the graph) far longer than the timeout before the release.
        for serial in sorted(busy - self._busy_seen):
            v = self.registry.vehicles.get(serial)
            if v is not None and v.last_progress < now:
                v.last_progress = now
        self._busy_seen = busy
        for ev in self.supervisor.check(now, self.registry, busy):
            if ev.serial_number not in self.executor.robots:
                continue
            if isinstance(ev, RobotLost):
                out.extend(self._lose(now, ev.serial_number, ev.reason))
            elif isinstance(ev, RobotBack):
                log.info("vehicle %s is back", ev.serial_number)
                self._order_rejects[ev.serial_number] = 0
                out.extend(self.executor.mark_back(now, ev.serial_number))
        return out

    def _poke_silent(self, now: Instant) -> list[Envelope]:
        """Ask busy vehicles that have been silent a while for their state (their last one may be
        lost), and vehicles heard of but not yet heard from (a vehicle may publish its state only
        every 30 s, and the request sent when its connection came may have been before it listened)."""
        after = seconds(self.config.fleet.state_request_after_s)
        out: list[Envelope] = []
        unheard = [s for s, v in self.registry.vehicles.items() if v.state is None and v.link == Link.ONLINE]
        for serial in sorted(self.executor.busy() | set(unheard)):
            v = self.registry.vehicles.get(serial)
            if v is None or self.supervisor.is_lost(serial):
                continue
            last = max(v.last_seen, self._poked.get(serial, 0))
            if now - last >= after:
                self._poked[serial] = now
                out.append(self._state_request(now, serial))
        return out

    def _state_request(self, now: Instant, serial: str) -> Envelope:
        self.counters["state_requests"] += 1
        return self.executor.state_request(now, serial, f"stateRequest-{self.counters['state_requests']}")

    def _home_for(self, cell) -> tuple[int, int]:
        free = [c for c in self._parking if c not in self._homes]
        if not free:
            return cell
        home = min(free, key=lambda c: (abs(c[0] - cell[0]) + abs(c[1] - cell[1]), c))
        self._homes.add(home)
        return home

    # -- assignment -----------------------------------------------------------------------------
    def _assign(self, now: Instant) -> list[Envelope]:
        """One operations cycle (:class:`controller.tasks.operations.Operations`, rule
        ``config.assignment.solver``): release orders to stations, add lines to pods on their way,
        choose pods for idle robots. Robots that need a charge are not offered; pods, stations and
        places on cells a lost robot blocks are left alone (their orders fail after a while)."""
        idle = [
            (s, self.executor.plan_end(s))
            for s in sorted(self.executor.robots)
            if self.executor.is_idle(s)
            and not self.supervisor.needs_charge(self.registry.vehicles[s])
            and not self._still_charging(s)
        ]
        blocked = self.executor.blocked_cells()
        out: list[Envelope] = self._fail_blocked(now, blocked)
        idle = [(s, cell) for s, cell in idle if self._can_run(s, _POD_TRIP)]  # vehicles' own actions
        started, amended, touched = self.ops.plan(now, idle, blocked, self._amendable)
        for trip in amended:
            self._amend(trip)
        for robot, trip in started:
            self.executor.assign(robot, trip)
            self.trip_robot[trip.trip_id] = robot
            self._journal("trip", trip.trip_id, f"assigned:{robot}")
        for oid in sorted(touched):
            out.extend(self._set_status(now, oid, "allocated"))
        return out

    def _amendable(self, trip_id: str) -> bool:
        """True while the trip's robot has not had its station stop planned (more lines may join)."""
        serial = self.trip_robot.get(trip_id)
        return serial is not None and self.executor.stops_planned(serial, trip_id) in (0, 1)

    def _amend(self, trip: Trip) -> None:
        """Swap a robot's trip for the same trip with more lines at its station stop."""
        self.executor.amend(self.trip_robot[trip.trip_id], trip)

    def _fail_blocked(self, now: Instant, blocked: frozenset) -> list[Envelope]:
        """Fail the orders open at a station whose cell a lost robot has blocked for
        ``blocked_trip_timeout_s``, and orders whose lines no pod off the blocked cells can serve.
        Why: a robot that died on a station (or on the only pods of a SKU) never frees it, and the
        order must end with a reason, not wait forever."""
        waiting: dict[str, tuple[str, tuple[int, int]]] = {}  # order -> (what waits, blocked cell)
        for sid, cell in self.ops.stations.items():
            if cell in blocked:
                for oid in self.ops.open_at(sid):
                    waiting[oid] = (f"station {sid}", cell)
        if self.ops.stations and set(self.ops.stations.values()) <= blocked:
            sid, cell = min(self.ops.stations.items())
            for oid in self.ops.backlog:
                waiting[oid] = (f"station {sid} (every station is blocked)", cell)
        if blocked:
            for oid, st in self.ops.orders.items():
                for ln in st.open_lines:
                    cells = {self.ops.places.cell_of(p) for p in self.ops.inventory.pods_with(ln.sku)}
                    if cells and cells <= blocked:
                        waiting.setdefault(oid, (f"the pods of {ln.sku}", min(cells)))
        self._blocked_since = {k: v for k, v in self._blocked_since.items() if k in waiting}
        limit_s = self.config.blocked_trip_timeout_s
        lost = [s for s, r in sorted(self.executor.robots.items()) if r.lost]
        out: list[Envelope] = []
        for oid, (what, cell) in sorted(waiting.items()):
            since = self._blocked_since.setdefault(oid, now)
            if now - since < seconds(limit_s):
                continue
            occupied = self.executor.adg.occupied_cells
            blocker = next((s for s in lost if cell in occupied(s)), "an off-plan report")
            why = f"order {oid} waited {limit_s:.0f} s for {what} at cell {cell}, which {blocker} blocks"
            out.extend(self._fail_orders(now, (oid,), why))
        return out

    def _fail_stranded(self, now: Instant) -> list[Envelope]:
        """Fail the orders of a trip whose robot was lost ``blocked_trip_timeout_s`` ago while it
        carried the trip's pod. The trip stays with the robot: if it ever comes back it still
        brings the pod home; the orders end now, with a reason, instead of waiting for it."""
        limit_s = self.config.blocked_trip_timeout_s
        out: list[Envelope] = []
        for serial, (reason, since) in sorted(self.supervisor.lost.items()):
            r = self.executor.robots.get(serial)
            if r is None or r.trip is None or now - since < seconds(limit_s):
                continue
            why = f"robot {serial} lost ({reason}) for {limit_s:.0f} s with the pod of trip {r.trip.trip_id}"
            out.extend(self._fail_orders(now, r.trip.order_ids, why))
        return out

    def _fail_orders(self, now: Instant, order_ids, reason: str) -> list[Envelope]:
        """``failed`` with ``reason`` for each order not yet final; their open trips leave the pool."""
        records = [self.orders.get(oid) for oid in order_ids]
        failed = {rec.order_id for rec in records if rec is not None}
        out: list[Envelope] = []
        for oid in sorted(failed):
            log.warning("order %s failed: %s", oid, reason)
            self.counters["orders_failed"] += 1
            out.extend(self._set_status(now, oid, "failed", reason))
        if failed:
            self.ops.drop_orders(failed)
            for oid in failed:
                self._blocked_since.pop(oid, None)
        return out

    def _still_charging(self, serial: str) -> bool:
        """True while a vehicle charges after a ``startCharging`` (VDA 5050 6.8.2): it takes no
        order until ``stopCharging`` is done; :meth:`_charge` sends that once it is charged."""
        v = self.registry.vehicles.get(serial)
        return v is not None and v.state is not None and v.state.charging and not v.profile.runs("charge")

    def _stop_charging(self, now: Instant) -> list[Envelope]:
        """``stopCharging`` to idle vehicles that charged since a ``startCharging`` and reached
        ``fleet.charged_pct`` (one at a time per vehicle, resent until its state shows it)."""
        out: list[Envelope] = []
        for serial in sorted(self.executor.robots):
            v = self.registry.vehicles.get(serial)
            if self.executor.staying(serial) and not self._still_charging(serial):
                self.executor.release_stay(serial)
            if v is None or not self._still_charging(serial) or not self.executor.is_idle(serial):
                continue
            if not v.profile.accepts_instant("stopCharging"):
                self._deviation(serial, "no-stopCharging", "charges but lists no stopCharging: it ends "
                                "its charge itself")
                continue
            if not self.supervisor.charged(v):
                continue
            sent = self._stopping.get(serial)
            if sent is not None and not any(a[0] == sent and a[2] == "FAILED" for a in v.state.action_states):
                continue  # sent, and not refused: the vehicle is ending its charge
            self.counters["stop_charging"] += 1
            action = NodeAction(f"stopCharging-{serial}-{self.counters['stop_charging']}", "stopCharging", ())
            self._stopping[serial] = action.action_id
            out.append(self.executor.instant_action(now, serial, action))
        return out

    def _charge(self, now: Instant) -> list[Envelope]:
        """Send idle robots with a low battery to the nearest free charger."""
        chargers = self._chargers
        taken = {
            t.stops[0].cell for s, r in self.executor.robots.items() if (t := r.trip) and t.kind == "charge"
        }
        for serial in sorted(self.executor.robots):
            v = self.registry.vehicles.get(serial)
            if v is None or not self.executor.is_idle(serial) or not self.supervisor.needs_charge(v):
                continue
            if self.executor.staying(serial):  # on a charger after startCharging: not charging (yet)
                continue
            free = [c for c in chargers if c not in taken]
            if not free:
                break
            end = self.executor.plan_end(serial)
            cell = min(free, key=lambda c: (abs(c[0] - end[0]) + abs(c[1] - end[1]), c))
            taken.add(cell)
            self._stopping.pop(serial, None)  # a new charge: its end is asked for anew
            self.counters["charge_trips"] += 1
            n = self.counters["charge_trips"]
            self.executor.assign(serial, Trip(f"charge-{serial}-{n}", (Stop(cell, "charge"),), kind="charge"))
        return []

    # -- bad input and journal ------------------------------------------------------------------
    def _reject(self, where: str, reason: str) -> list[Envelope]:
        key = f"{where.split('/')[-1]}: {reason.split(':')[0]}"
        if self.rejections[key] == 0:
            log.warning("rejected message on %s: %s", where, reason)
        self.rejections[key] += 1
        self.counters["rejected"] += 1
        return []

    def _journal(self, kind: str, key: str, status: str, **extra) -> None:
        if self.journal is not None:
            self.journal.record(kind, key, status, **extra)

    def _recover(self) -> None:
        """Rebuild orders from the journal: finished orders stay finished; orders wholly picked
        before the restart wait for their sorting only; the others go back to the backlog with all
        their lines (which lines an earlier visit picked is not journalled, nor is stock or where
        pods stand: a restart starts from the configured stock, see ``docs/operations.md``)."""
        for status, count in self.journal.status_counts().items():
            if status in FINAL_STATUSES:
                self._finished_counts[status] += count  # their ids stay in the journal only
        held = self.journal.held_trips()
        if held:
            self.counters["trips_lost_in_restart"] = len(held)
            log.warning("%d trips were under way at the restart; their orders start again", len(held))
        for order_id, status, payload in self.journal.open_orders():
            order = parse_order(payload.encode())
            picked = status in ("picked", "inducted", "sorted")
            self.orders[order_id] = _OrderRecord(order_id, status, 0 if picked else len(order.lines))
            if self.sortation is not None and order.destination is not None:
                self.sortation.register(order, self.journal.sorted_units(order_id),
                                        self.journal.items_on_line(order_id))
            if picked and (self.sortation is None or self.sortation.all_sorted(order_id)):
                self._finish(order_id, "complete")
                self.journal.record("order", order_id, "complete")
                self._recovered.append((order_id, "complete"))
                self.counters["orders_completed"] += 1
                continue
            if not picked:
                self.ops.accept(order, 0)
        self.counters["recovered_orders"] = len(self.orders)


def _order_id_or_none(payload: bytes) -> str | None:
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    oid = data.get("orderId") if isinstance(data, dict) else None
    return oid if isinstance(oid, str) else None
