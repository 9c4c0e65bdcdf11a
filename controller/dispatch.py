"""Dispatch: which robot does which trip, what each finished stop means for the orders, and
which orders end because a lost robot blocks what they wait for.

Why one part: the operations (:class:`controller.tasks.operations.Operations`) decide the work;
this part hands it to the executor, follows each trip to its end, and gives every order an end
with a reason when the floor cannot serve it any more.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from bus.clock import Instant, seconds
from bus.transport import Envelope
from controller.config import ControllerConfig
from controller.execution.executor import Executor
from controller.execution.trips import Stop, StopDone, Trip
from controller.fleet.registry import FleetRegistry
from controller.fleet.supervision import Supervisor
from controller.ledger import OrderLedger
from controller.tasks.operations import Operations
from controller.tasks.parcel_flow import ParcelFlow
from warehouse_maps.grid import Cell

log = logging.getLogger("bulletyard.controller")

_POD_TRIP = Trip("probe", (Stop((0, 0), "pick"), Stop((0, 0), "wait"), Stop((0, 0), "drop")))
"""The stop actions of every pod trip (:mod:`controller.tasks.operations`), to ask a vehicle's profile."""


class Dispatch:
    """Trips to robots and their consequences for orders.

    Args:
        config: controller configuration (``blocked_trip_timeout_s``).
        ops: the operations (orders' lines, pods, stations).
        ledger: the order ledger.
        executor: runs the trips.
        registry, supervisor: who needs a charge, who is lost and since when.
        can_run: True when a vehicle runs every stop of a trip.
        charging: True while a vehicle charges after ``startCharging`` (it takes no trip).
    """

    def __init__(
        self,
        config: ControllerConfig,
        ops: Operations,
        ledger: OrderLedger,
        executor: Executor,
        registry: FleetRegistry,
        supervisor: Supervisor,
        can_run: Callable[[str, Trip], bool],
        charging: Callable[[str], bool],
    ) -> None:
        self.config = config
        self.ops = ops
        self.ledger = ledger
        self.executor = executor
        self.registry = registry
        self.supervisor = supervisor
        self.can_run = can_run
        self.charging = charging
        self.trip_robot: dict[str, str] = {}
        self.parcels: ParcelFlow | None = None  # robotic sortation, set by the controller
        self._blocked_since: dict[str, Instant] = {}  # order -> when it first waited on a blocked cell

    def assign(self, now: Instant) -> list[Envelope]:
        """One operations cycle (rule ``config.assignment.solver``): release orders to stations,
        add lines to pods on their way, choose pods for idle robots. Robots that need a charge
        are not offered; pods, stations and places on cells a lost robot blocks are left alone
        (their orders fail after a while)."""
        robots = self.executor.robots
        idle = [
            (s, self.executor.plan_end(s))
            for s in sorted(robots)
            if robots[s].idle
            and not self.supervisor.needs_charge(self.registry.vehicles[s])
            and not self.charging(s)
        ]
        blocked = self.executor.blocked_cells()
        out: list[Envelope] = self._fail_blocked(now, blocked)
        idle = [(s, cell) for s, cell in idle if self.can_run(s, _POD_TRIP)]  # vehicles' own actions
        if self.parcels is not None:  # parcels first: a site's robots sort what waits at its inducts
            parcel_trips = self.parcels.plan(now, idle, blocked)
            taken = {robot for robot, _ in parcel_trips}
            idle = [(s, cell) for s, cell in idle if s not in taken]
        started, amended, touched = self.ops.plan(now, idle, blocked, self._amendable)
        for trip in amended:
            self.executor.amend(self.trip_robot[trip.trip_id], trip)
        if self.parcels is not None:
            started = parcel_trips + started
        for robot, trip in started:
            self.executor.assign(robot, trip)
            self.trip_robot[trip.trip_id] = robot
            self.ledger.record("trip", trip.trip_id, f"assigned:{robot}")
        for oid in sorted(touched):
            out.extend(self.ledger.set_status(now, oid, "allocated"))
        return out

    # -- the parcel flow's view of the robots (controller.tasks.parcel_flow.ParcelFleet) ----------
    def stops_planned(self, trip_id: str) -> int | None:
        """Stops of the trip its robot's plan has reached (None: not under way)."""
        serial = self.trip_robot.get(trip_id)
        return self.executor.robots[serial].stops_planned(trip_id) if serial is not None else None

    def amend(self, trip: Trip) -> None:
        """Give the trip's robot the new version of its trip."""
        self.executor.amend(self.trip_robot[trip.trip_id], trip)

    def lost_since(self, trip_id: str) -> Instant | None:
        """When the trip's robot was lost (None: it is not lost, or the trip is not under way)."""
        lost = self.supervisor.lost.get(self.trip_robot.get(trip_id, ""))
        return lost[1] if lost is not None else None

    def abandon(self, trip_id: str) -> None:
        """End the trip where its robot stands: its stops still to come are never sent."""
        serial = self.trip_robot.pop(trip_id, None)
        if serial is not None:
            self.executor.abandon(serial, trip_id)
            self.ledger.record("trip", trip_id, "done")  # ended: a restart does not resume it

    def parcel_outcomes(self, now: Instant) -> list[Envelope]:
        """A mixed site: orders whose parcel was sorted are ``sorted`` then ``complete``; orders
        whose parcel failed fail with its reason."""
        out: list[Envelope] = []
        for oid, why in self.parcels.take_outcomes() if self.parcels is not None else ():
            if why is None:
                out.extend(self.ledger.parcel_sorted(now, oid))
            else:
                out.extend(self.ledger.fail(now, (oid,), why)[0])
        return out

    def _amendable(self, trip_id: str) -> bool:
        """True while the trip's robot has not had its station stop planned (more lines may join)."""
        serial = self.trip_robot.get(trip_id)
        return serial is not None and self.executor.robots[serial].stops_planned(trip_id) in (0, 1)

    def stop_done(self, now: Instant, ev: StopDone) -> list[Envelope]:
        """A pod trip's stop finished: 0 the pod is lifted, 1 its lines are picked, 2 it is set down."""
        trip = ev.trip
        self.ledger.record("trip", trip.trip_id, f"stop{ev.stop_index}")
        out: list[Envelope] = []
        if trip.kind == "parcel" and self.parcels is not None:
            if ev.stop_index == len(trip.stops) - 1:
                self.trip_robot.pop(trip.trip_id, None)
            return self.parcels.stop_done(now, trip, ev.stop_index) + self.parcel_outcomes(now)
        if trip.kind != "pod":
            return out
        if ev.stop_index == 0:
            self.ops.lifted(trip.trip_id)
            for oid in trip.order_ids:
                out.extend(self.ledger.set_status(now, oid, "picking"))
        elif ev.stop_index == 1:
            picked = self.ops.picked(trip.trip_id)
            self.ledger.counters["station_visits"] += 1
            self.ledger.counters["lines_picked"] += picked.lines
            if self.parcels is not None:  # a mixed site
                for oid in picked.orders_done:
                    rec = self.ledger.orders.get(oid)
                    if rec is not None and rec.destination is not None:
                        out.extend(self.parcels.add_order(now, oid, rec.destination, trip.stops[1].cell))
            out.extend(self.ledger.picked(now, picked.orders_done))
            out.extend(self.parcel_outcomes(now))
        elif ev.stop_index == len(trip.stops) - 1:
            self.ops.set_down(trip.trip_id)
            self.trip_robot.pop(trip.trip_id, None)
            self.ledger.record("trip", trip.trip_id, "done")
        return out

    def robot_lost(self, now: Instant, serial: str, trip: Trip | None) -> list[Envelope]:
        """A robot was lost before its trip started: the trip's pod and lines go back to the pool."""
        out: list[Envelope] = []
        if trip is not None:
            self.trip_robot.pop(trip.trip_id, None)
            if trip.kind == "pod":
                self.ops.lost(trip.trip_id)
                self.ledger.record("trip", trip.trip_id, "returned")
                for oid in trip.order_ids:
                    why = f"robot {serial} lost; lines re-queued"
                    out.extend(self.ledger.set_status(now, oid, "received", why))
        return out

    def _fail_blocked(self, now: Instant, blocked: frozenset[Cell]) -> list[Envelope]:
        """Fail the orders open at a station whose cell a lost robot has blocked for
        ``blocked_trip_timeout_s``, and orders whose lines no pod off the blocked cells can serve.
        Why: a robot that died on a station (or on the only pods of a SKU) never frees it, and the
        order must end with a reason, not wait forever."""
        waiting: dict[str, tuple[str, Cell]] = {}  # order -> (what waits, blocked cell)
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
        lost = [s for s, r in sorted(self.executor.robots.items()) if r.suspended]
        out: list[Envelope] = []
        for oid, (what, cell) in sorted(waiting.items()):
            since = self._blocked_since.setdefault(oid, now)
            if now - since < seconds(limit_s):
                continue
            occupied = self.executor.adg.occupied_cells
            blocker = next((s for s in lost if cell in occupied(s)), "an off-plan report")
            why = f"order {oid} waited {limit_s:.0f} s for {what} at cell {cell}, which {blocker} blocks"
            out.extend(self._fail(now, (oid,), why))
        return out

    def fail_stranded(self, now: Instant) -> list[Envelope]:
        """Fail the orders of a trip whose robot was lost ``blocked_trip_timeout_s`` ago while it
        carried the trip's pod. The trip stays with the robot: if it ever comes back it still
        brings the pod home; the orders end now, with a reason, instead of waiting for it. Parcels
        on lost robots fail after ``robotic_sortation.lost_parcel_timeout_s`` and their robots'
        trips lose their tips (:meth:`controller.tasks.parcel_flow.ParcelFlow.expire_lost`)."""
        limit_s = self.config.blocked_trip_timeout_s
        out: list[Envelope] = []
        if self.parcels is not None:
            out.extend(self.parcels.expire_lost(now))
            out.extend(self.parcel_outcomes(now))
        for serial, (reason, since) in sorted(self.supervisor.lost.items()):
            r = self.executor.robots.get(serial)
            if r is None or r.trip is None or now - since < seconds(limit_s):
                continue
            why = f"robot {serial} lost ({reason}) for {limit_s:.0f} s with the pod of trip {r.trip.trip_id}"
            out.extend(self._fail(now, r.trip.order_ids, why))
        return out

    def _fail(self, now: Instant, order_ids: Iterable[str], reason: str) -> list[Envelope]:
        """``failed`` with ``reason`` for each order not yet final; their open trips leave the pool."""
        out, failed = self.ledger.fail(now, order_ids, reason)
        for oid in failed:
            self._blocked_since.pop(oid, None)
        return out
