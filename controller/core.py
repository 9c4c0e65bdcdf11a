"""The master control: a pure, clock-injected state machine that speaks only bus messages.

Why: the same object runs in the lock-step simulator (SimClock) and on an edge box (WallClock
over MQTT). It never reads a clock, never sleeps, never touches a socket: runners call

* ``on_connect(now)`` once connected (subscriptions are listed by :meth:`Controller.subscriptions`),
* ``handle(now, envelope)`` for every inbound message,
* ``tick(now)`` whenever ``now >= next_wakeup()`` (or more often; it is idempotent),

and publish the envelopes these return. The controller only coordinates; each job is a part:

* :class:`~controller.inbound.InboundDecoder`: envelopes to typed values (the wire seam);
* :class:`~controller.ledger.OrderLedger`: orders, their statuses and the journal;
* :class:`~controller.vehicles.Vehicles`: joining, profiles, supervision, loss;
* :class:`~controller.dispatch.Dispatch`: trips to robots (the operations decide them) and their
  consequences for orders;
* :class:`~controller.charging.Charging`: chargers;
* :class:`~controller.execution.executor.Executor`: windows, the action dependency graph and
  VDA 5050 orders;
* :class:`~controller.sortation.link.SortationLink`: the sorter, at a sorting site.

Constructor and methods are stable API for the simulator and the service:
``Controller(config, layout, rng, *, planner=None, inventory=None, journal=None)``.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import assert_never

import numpy as np

from bus.clock import Instant, seconds
from bus.participant import ParticipantBase
from bus.topics import VdaTopic, vda_filter, wms_orders_topic
from bus.transport import Envelope
from controller.charging import Charging
from controller.config import ControllerConfig, ControllerConfigError
from controller.dispatch import Dispatch
from controller.execution.executor import Executor
from controller.execution.heading_planner import make_window_planner
from controller.execution.trips import ExecutionEvent, OffPlan, OrderRejected, Resynced, StopDone, StopFailed
from controller.execution.window_planner import WindowPlanner
from controller.fleet.registry import FleetRegistry
from controller.fleet.supervision import SupervisionLimits, Supervisor
from controller.inbound import (
    Inbound,
    InboundDecoder,
    OrderReceived,
    OrderUnreadable,
    SorterMessage,
    Unreadable,
    VehicleConnection,
    VehicleFactsheet,
    VehicleState,
)
from controller.journal import Journal
from controller.ledger import OrderLedger
from controller.orders.inventory import Inventory
from controller.orders.stock import mixed_stock
from controller.rejections import Rejections
from controller.sortation.link import SortationLink
from controller.tasks.induct_flow import InductLane, with_induct_flow
from controller.tasks.operations import Operations
from controller.tasks.parcel_flow import ParcelFlow
from controller.tasks.visits import OpsConfig
from controller.vehicles import Vehicles
from warehouse_maps.layout import Layout, PlaceKind

log = logging.getLogger("bulletyard.controller")


class Controller(ParticipantBase):
    """Master control over one layout; see the module docstring.

    A bus participant without a last will (``will`` is the base's None): if the controller drops
    off the bus, vehicles carry on with their released base.

    Args:
        config: controller configuration.
        layout: the floor, its places (storage, stations, chargers, parking).
        rng: the controller's random stream (planner tie-breaks are seeded from it).
        planner: window planner (default: the one ``execution.motion_model`` selects on the layout's grid).
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
        journal: Journal | None = None,
    ) -> None:
        self.config = config
        rs = config.robotic_sortation
        self.induct_lanes: list[InductLane] = []  # one-way passages through inducts (planning grid)
        if rs.enabled and rs.one_way_inducts:
            layout, self.induct_lanes = with_induct_flow(layout, rs.robots_per_induct)
        self.layout = layout
        seed = int(rng.integers(2**31)) if planner is None else 0
        self.planner = planner or make_window_planner(
            config.execution, layout.grid, seed=seed, fleet_turn_s=self._fleet_turn_s
        )
        self.counters: Counter[str] = Counter()
        self.rejections = Rejections(self.counters)
        self.registry = FleetRegistry(layout.cell_at_m, config.fleet)
        f = config.fleet
        self.supervisor = Supervisor(
            SupervisionLimits(f.no_progress_timeout_s, f.state_timeout_s, f.low_battery_pct, f.charged_pct)
        )
        self.executor = Executor(
            layout,
            config,
            self.planner,
            epoch=journal.epoch if journal is not None else 0,
            profile_of=lambda s: self.vehicles.profile(s),
            manufacturer_of=lambda s: v.manufacturer if (v := self.registry.vehicles.get(s)) else None,
            queues={lane.induct: lane.queue for lane in self.induct_lanes},
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
        self.ledger = OrderLedger(config.site, self.ops, self.sortation, journal, self.counters)
        self.vehicles = Vehicles(
            config, layout, self.registry, self.supervisor, self.executor, self.counters, self.rejections
        )
        self.charging = Charging(
            layout.cells_of(PlaceKind.CHARGER), self.executor, self.registry, self.supervisor, self.counters,
            self.vehicles.deviation,
        )
        self.dispatch = Dispatch(
            config, self.ops, self.ledger, self.executor, self.registry, self.supervisor,
            self.vehicles.can_run, self.charging.still_charging,
        )
        self.parcels = ParcelFlow(  # robotic sortation (docs/sortation.md)
            config.site, layout, config.robotic_sortation, self.dispatch
        ) if config.robotic_sortation.enabled else None
        self.dispatch.parcels = self.parcels
        sorters = [x for x in (self.sortation, self.parcels) if x is not None]
        self.wire = InboundDecoder(config.site, sorters, self.registry.refusal)
        if self.parcels is not None:
            self.ledger.parcel_pending = self.parcels.carries
        self._next_assign: Instant | None = None
        self._next_supervision: Instant | None = None
        self._recovered = self.ledger.recover() if journal is not None else []

    # -- runner protocol ------------------------------------------------------------------------
    def _fleet_turn_s(self) -> float | None:
        """The slowest known vehicle's 90 degree turn time in seconds (None: no factsheet says)."""
        return max((t for v in self.registry.vehicles.values() if (t := v.profile.turn_s)), default=None)

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
        ) + (self.parcels.subscriptions() if self.parcels is not None else [])

    def on_connect(self, now: Instant) -> list[Envelope]:
        """Ask every known vehicle for its state (after a restart the registry refills from retained
        connection and factsheet messages, whose arrival also triggers a stateRequest)."""
        why = "recovered after restart"
        out = [self.ledger.status(now, oid, status, why) for oid, status in self._recovered]
        self._recovered = []
        return out + [self.vehicles.state_request(now, s) for s in self.registry.serials()]

    def handle(self, now: Instant, msg: Envelope) -> list[Envelope]:
        """React to one inbound message: the wire seam decodes it (:mod:`controller.inbound`),
        :meth:`on_message` acts on the typed value."""
        self.counters["in"] += 1
        return self.on_message(now, self.wire.decode(msg))

    def on_message(self, now: Instant, msg: Inbound) -> list[Envelope]:
        """Act on one typed inbound value. Bad input (:class:`Unreadable`) is counted and logged
        once per kind; anything raised while acting on a decoded value is a bug of ours and is
        raised, not counted as a bad message."""
        if isinstance(msg, OrderReceived):
            return self.ledger.receive(now, msg.order, msg.payload)
        if isinstance(msg, OrderUnreadable):
            self.rejections.refused_order(now, self.wire.orders_topic, msg.order_id, msg.reason, msg.kind)
            return self.ledger.unreadable(now, msg.order_id, msg.reason)
        if isinstance(msg, SorterMessage) and self.parcels and self.parcels.owns(msg.message.topic):
            return self.parcels.on_message(now, msg.message)
        if isinstance(msg, SorterMessage):
            assert self.sortation is not None
            return self.ledger.sorter_news(now, self.sortation.handle(now, msg.message))
        if isinstance(msg, VehicleState):
            out, events = self.vehicles.on_state(now, msg.serial, msg.state, msg.manufacturer)
            for ev in events:
                out.extend(self._on_event(now, ev))
            return out
        if isinstance(msg, VehicleConnection):
            new = msg.serial not in self.registry.vehicles
            self.registry.on_connection(now, msg.serial, msg.connection, msg.manufacturer)
            out = self.vehicles.supervise(now, lambda s, why: self._lose(now, s, why))
            if new:
                out.append(self.vehicles.state_request(now, msg.serial))
            return out
        if isinstance(msg, VehicleFactsheet):
            self.registry.on_factsheet(now, msg.serial, msg.factsheet, msg.manufacturer)
            self.vehicles.note_profile(msg.serial)
        elif isinstance(msg, Unreadable):
            self.rejections.reject(now, msg.where, msg.reason, msg.kind)
        return []

    def tick(self, now: Instant) -> list[Envelope]:
        """Time-driven work: supervision, assignment, charging, planning, release, resends."""
        out: list[Envelope] = []
        self.rejections.flush(now)
        if self._next_supervision is None or now >= self._next_supervision:
            out.extend(self.vehicles.supervise(now, lambda s, why: self._lose(now, s, why)))
            out.extend(self.vehicles.poke_silent(now))
            self._next_supervision = Instant(now + seconds(self.config.fleet.supervision_period_s))
        if self._next_assign is None or now >= self._next_assign:
            out.extend(self.dispatch.fail_stranded(now))
            out.extend(self.dispatch.assign(now))
            self.charging.send_to_chargers(now)
            out.extend(self.charging.stop_charging(now))
            self._next_assign = Instant(now + seconds(self.config.assign_period_s))
        for ev in self.executor.advance_time(now):
            out.extend(self._on_event(now, ev))
        out.extend(self.executor.send(now))
        return out

    def next_wakeup(self) -> Instant | None:
        """The earliest instant :meth:`tick` has work: the executor's next deadline (a window to
        plan, a resend, a hold or back-off ending), the next supervision (timeouts, silent
        vehicles; every ``fleet.supervision_period_s``) or an assignment deadline."""
        times = (self.executor.next_wakeup(), self._next_supervision, self._next_assign)
        return min((t for t in times if t is not None), default=None)

    # -- queries --------------------------------------------------------------------------------
    def order_counts(self) -> dict[str, int]:
        """Orders by status (for metrics and reports), finished ones included."""
        return self.ledger.counts()

    def robot_counts(self) -> dict[str, int]:
        """Robots by state (for metrics): joining, idle, busy (on a trip), charging, lost."""
        return self.vehicles.counts()

    # -- coordination ---------------------------------------------------------------------------
    def _on_event(self, now: Instant, ev: ExecutionEvent) -> list[Envelope]:
        """Route one execution event to the part whose job it is."""
        if isinstance(ev, StopDone):
            return self.dispatch.stop_done(now, ev)
        if isinstance(ev, StopFailed):
            log.warning(
                "%s: action of stop %d of %s failed", ev.serial_number, ev.stop_index, ev.trip.trip_id
            )
            return self._lose(now, ev.serial_number, "action-failed")
        if isinstance(ev, OrderRejected):
            keeps_refusing = self.vehicles.on_rejected(now, ev)
            return self._lose(now, ev.serial_number, "rejects-orders") if keeps_refusing else []
        if isinstance(ev, Resynced):
            self.counters["resynced"] += 1
            log.info("vehicle %s resynchronised", ev.serial_number)
            return []
        if isinstance(ev, OffPlan):
            self.counters["off_plan"] += 1
            if ev.serial_number not in self.supervisor.lost:
                self.supervisor.lost[ev.serial_number] = ("off-plan", now)
            log.warning("%s reports %s, off its plan", ev.serial_number, ev.cell)
            if self.registry.vehicles[ev.serial_number].proven:  # a ghost's word blocks nothing
                self.executor.extra_blocked.add(ev.cell)
            return self._lose(now, ev.serial_number, "off-plan")
        assert_never(ev)

    def _lose(self, now: Instant, serial: str, reason: str) -> list[Envelope]:
        """A vehicle is lost: out of planning; a trip it had not started goes back to the pool."""
        r = self.executor.robots.get(serial)
        carried = r.trip if r is not None else None  # a loaded parcel stays on a lost robot
        trip = self.vehicles.lose(now, serial, reason)
        out = self.dispatch.robot_lost(now, serial, trip)
        if self.parcels is not None:
            out.extend(self.parcels.robot_lost(now, serial, trip, carried if trip is None else None))
            out.extend(self.dispatch.parcel_outcomes(now))
        return out
