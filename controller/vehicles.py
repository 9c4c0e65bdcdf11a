"""Vehicles under the controller: joining, their profiles and deviations, supervision, loss.

Why one part: taking a vehicle under control, watching it (silent, stuck, back again) and
declaring it lost are one job over the fleet registry, the supervisor and the executor's robot
records. What a loss means for trips and orders is the dispatcher's; this part says who is lost.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable

from bus.clock import Instant, seconds
from bus.header import Verdict
from bus.transport import Envelope
from controller.config import ControllerConfig
from controller.execution.adg import ScheduleConflict
from controller.execution.executor import Executor
from controller.execution.trips import ExecutionEvent, OrderRejected, Trip
from controller.execution.vda_orders import NodeAction, parse_node_id
from controller.fleet.profiles import Unsupported, VehicleProfile
from controller.fleet.registry import FleetRegistry, Link, StateView
from controller.fleet.supervision import RobotBack, RobotLost, Supervisor
from controller.rejections import Rejections
from warehouse_maps.grid import Cell
from warehouse_maps.layout import Layout, PlaceKind

log = logging.getLogger("bulletyard.controller")

MAX_DROPS_LOGGED = 10
"""Dropped vehicles named in the log; further ones are counted (``vehicles_dropped``)."""


class Vehicles:
    """Joins vehicles, keeps what each one runs, supervises them and marks them lost.

    Args:
        config: controller configuration (``fleet``: timeouts, rejections, pick time).
        layout: the floor (a vehicle joins only on a passable cell that fits it).
        registry, supervisor, executor: the fleet registry, supervision and the executor.
        counters: the controller's event counters (shared).
        rejections: where bad input is counted.
    """

    def __init__(
        self,
        config: ControllerConfig,
        layout: Layout,
        registry: FleetRegistry,
        supervisor: Supervisor,
        executor: Executor,
        counters: Counter[str],
        rejections: Rejections,
    ) -> None:
        self.config = config
        self.layout = layout
        self.registry = registry
        self.supervisor = supervisor
        self.executor = executor
        self.counters = counters
        self.rejections = rejections
        self._parking = sorted(layout.cells_of(PlaceKind.PARKING))
        self._homes: set[Cell] = set()
        self._poked: dict[str, Instant] = {}
        self._busy_seen: set[str] = set()  # robots busy at the last supervision (progress clocks)
        self.joining: dict[str, str] = {}  # vehicle -> cancelOrder actionId sent before it joins

    def on_state(
        self, now: Instant, serial: str, state: StateView, manufacturer: str
    ) -> tuple[list[Envelope], list[ExecutionEvent]]:
        """A vehicle's state: join it when it is new and still, then let the executor apply it. A
        stale headerId is dropped and counted; one far from the last (``docs/limits-bus.md``) is
        dropped as suspicious and logged once."""
        verdict = self.registry.on_state(now, serial, state, manufacturer)
        if verdict is Verdict.STALE:
            self.counters["state_stale"] += 1
            return [], []
        vehicle = self.registry.vehicles[serial]
        if verdict is Verdict.SUSPICIOUS:
            last = vehicle.state_floor.last
            detail = f"headerId {state.header_id} is far from the last one ({last}): dropped"
            self.rejections.reject(now, f"state/{serial}", detail, "suspicious_header")
            return [], []
        if verdict is Verdict.RESTARTED:
            log.warning("vehicle %s restarted its headerIds at %d", serial, state.header_id)
        out: list[Envelope] = []
        if serial not in self.executor.robots:
            if not self._join(now, serial, state, vehicle.cell, out):
                return out, []
            self.note_profile(serial)
        env, events = self.executor.on_state(now, serial, state, vehicle.cell)
        if not vehicle.proven and (
            self.executor.robots[serial].answered_by(state)
            or any(a[0] == vehicle.asked for a in state.action_states if vehicle.asked)
        ):
            vehicle.proven = True
        return out + env, events

    def _join(
        self, now: Instant, serial: str, state: StateView, cell: Cell | None, out: list[Envelope]
    ) -> bool:
        """Take a vehicle under control once it stands still on a floor cell.

        A vehicle still driving an order from an earlier controller run is first told to cancel
        it; until it has stopped, the cells of its remaining nodes are kept out of planning.
        """
        if cell is None or not self.layout.grid.is_passable(cell):
            where = f"state/{serial}"
            self.rejections.reject(now, where, f"position {cell} is not on the floor", "off_floor")
            return False
        profile = self.registry.vehicles[serial].profile
        size = self.layout.cell_size_m
        if max(profile.length_m or 0.0, profile.width_m or 0.0) > size + 1e-9:
            self.rejections.reject(
                now,
                f"state/{serial}",
                f"footprint {profile.length_m} x {profile.width_m} m (factsheet) does not fit a cell of "
                f"{size} m: not taken under control",
                "footprint",
            )
            return False
        pending = self.joining.get(serial)
        still = not state.driving and (
            not state.node_sequence_ids
            or any(a[0] == pending and a[2] in ("FINISHED", "FAILED") for a in state.action_states)
        )
        if not still:
            cells = {cell} | {c for n in state.node_ids if (c := parse_node_id(n)) is not None}
            self.executor.joining_blocked[serial] = frozenset(cells)
            if pending is None:
                self.counters["join_cancels"] += 1
                pending = self.joining[serial] = f"join-cancel-{serial}-{self.counters['join_cancels']}"
                action = NodeAction(pending, "cancelOrder", (), "NONE")
                out.append(self.executor.outbox.instant_action(now, serial, action))
            return False
        self.joining.pop(serial, None)
        self.executor.joining_blocked.pop(serial, None)
        try:
            self.executor.add_robot(
                serial, cell, self._home_for(cell), manufacturer=self.registry.vehicles[serial].manufacturer,
                theta=state.theta,
            )
        except ScheduleConflict as err:
            self.rejections.reject(now, f"state/{serial}", f"cannot place vehicle: {err}", "cannot_place")
            return False
        log.info("vehicle %s joined at %s", serial, cell)
        return True

    def profile(self, serial: str) -> VehicleProfile:
        """What the vehicle speaks and runs (defaults for a vehicle not heard of)."""
        v = self.registry.vehicles.get(serial)
        return v.profile if v is not None else VehicleProfile()

    def note_profile(self, serial: str) -> None:
        """Log once per vehicle what its dialect is and where it differs from ours."""
        v = self.registry.vehicles[serial]
        p = v.profile
        self.deviation(
            serial,
            f"profile-{p.version}-{p.source}",
            f"speaks VDA 5050 {p.version}; node actions ({p.source}): "
            + (", ".join(sorted(p.node_actions)) if p.node_actions is not None else "predefined assumed"),
            level=logging.INFO,
        )
        if v.state is not None and v.state.version and v.state.version != p.version:
            self.deviation(serial, f"version-{v.state.version}", f"sends version {v.state.version!r}")
        for ours in ("pick", "drop", "wait", "charge"):
            plan = p.plan_stop(ours, (), self.config.pick_time_s)
            if isinstance(plan, Unsupported):
                self.deviation(serial, f"cannot-{ours}", f"cannot run {ours!r}: {plan.reason}")

    def deviation(self, serial: str, kind: str, text: str, level: int = logging.WARNING) -> None:
        """Log a vehicle's deviation from what the controller expects, once per vehicle and kind."""
        v = self.registry.vehicles.get(serial)
        if v is None or kind in v.deviations:
            return
        v.deviations.add(kind)
        if level >= logging.WARNING:  # a vehicle's profile is news, not a deviation
            self.counters["vehicle_deviations"] += 1
        log.log(level, "vehicle %s/%s %s", v.manufacturer, serial, text)

    def can_run(self, serial: str, trip: Trip) -> bool:
        """True when the vehicle has an action (or a station hold) for every stop of ``trip``."""
        profile = self.profile(serial)
        hold_s = self.config.pick_time_s
        plans = (profile.plan_stop(s.action_type, s.parameters, hold_s) for s in trip.stops)
        return not any(isinstance(plan, Unsupported) for plan in plans)

    def on_rejected(self, now: Instant, ev: OrderRejected) -> bool:
        """A vehicle refused an order: learn what it said (an action it does not run) and back off
        (the executor then sends a fresh order planned with that knowledge). True when the vehicle
        keeps refusing (``fleet.max_order_rejections`` in a row) and must be taken out of service."""
        serial = ev.serial_number
        self.counters["vehicle_rejections"] += 1
        vehicle = self.registry.vehicles.get(serial)
        texts = vehicle.state.error_texts if vehicle is not None and vehicle.state is not None else ()
        log.warning("%s rejected order %s (%s)", serial, ev.order_id, "; ".join(texts) or ev.error_type)
        for action_type in self.registry.learn_refusals(serial, texts):
            self.deviation(serial, f"refuses-{action_type}", f"refuses {action_type!r}: not sent again")
        self.executor.resync.on_rejected(now, serial)
        return self.executor.robots[serial].rejections > self.config.fleet.max_order_rejections

    def lose(self, now: Instant, serial: str, reason: str) -> Trip | None:
        """Take the vehicle out of planning; returns its trip when the trip had not started.

        A vehicle that never answered the controller (no state of it echoed an order or cancel it
        was sent) has not proven it stands where it said: it is dropped, blocking no cell, and its
        record forgotten (a ghost that sent one state and fell silent strands nothing)."""
        self.counters[f"lost_{reason}"] += 1
        if self.registry.vehicles[serial].proven:
            self.supervisor.lost.setdefault(serial, (reason, now))
            log.warning("vehicle %s lost (%s)", serial, reason)
            return self.executor.suspend(serial)
        trip = self.executor.remove_robot(serial)
        self.forget(serial)
        self.counters["vehicles_dropped"] += 1
        dropped = self.counters["vehicles_dropped"]
        if dropped <= MAX_DROPS_LOGGED:
            more = "; further drops are only counted" if dropped == MAX_DROPS_LOGGED else ""
            log.warning("vehicle %s lost (%s) before it answered an order: dropped, it blocks no cell%s",
                        serial, reason, more)
        return trip

    def forget(self, serial: str) -> None:
        """Forget a vehicle that is not (or no longer) under control: it holds no cells or records."""
        self.registry.forget(serial)
        self.supervisor.lost.pop(serial, None)
        self.executor.joining_blocked.pop(serial, None)
        self.joining.pop(serial, None)
        self._poked.pop(serial, None)

    def supervise(self, now: Instant, on_lost: Callable[[str, str], list[Envelope]]) -> list[Envelope]:
        """Check every vehicle for silence, no progress and return; ``on_lost(serial, reason)``
        handles each newly lost one."""
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
                if isinstance(ev, RobotLost):  # silent before it joined: its joining cells are free
                    self.forget(ev.serial_number)
                continue
            if isinstance(ev, RobotLost):
                out.extend(on_lost(ev.serial_number, ev.reason))
            elif isinstance(ev, RobotBack):
                log.info("vehicle %s is back", ev.serial_number)
                out.extend(self.executor.resync.begin(now, ev.serial_number))
        for serial in self.registry.silent_unheard(now, seconds(self.config.fleet.state_timeout_s)):
            if serial not in self.executor.robots:  # announced, never heard from, silent since
                self.forget(serial)
        return out

    def poke_silent(self, now: Instant) -> list[Envelope]:
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
                out.append(self.state_request(now, serial))
        return out

    def state_request(self, now: Instant, serial: str) -> Envelope:
        """A stateRequest to the vehicle (any later state answers it)."""
        self.counters["state_requests"] += 1
        action_id = f"stateRequest-{self.counters['state_requests']}"
        v = self.registry.vehicles.get(serial)
        if v is not None and not v.proven:
            v.asked = action_id  # its echo proves the vehicle is there
        return self.executor.outbox.state_request(now, serial, action_id)

    def counts(self) -> dict[str, int]:
        """Robots by state (for metrics): joining, idle, busy (on a trip), charging, lost."""
        counts = {"idle": 0, "busy": 0, "charging": 0, "lost": 0, "joining": len(self.joining)}
        for serial, r in self.executor.robots.items():
            if r.suspended or self.supervisor.is_lost(serial):
                counts["lost"] += 1
            elif r.trip is None:
                counts["idle"] += 1
            else:
                counts["charging" if r.trip.kind == "charge" else "busy"] += 1
        return counts

    def _home_for(self, cell: Cell) -> Cell:
        """The nearest parking place no other vehicle calls home (its own cell when none is left)."""
        free = [c for c in self._parking if c not in self._homes]
        if not free:
            return cell
        home = min(free, key=lambda c: (abs(c[0] - cell[0]) + abs(c[1] - cell[1]), c))
        self._homes.add(home)
        return home
