"""Charging: idle robots with a low battery go to the nearest free charger, and vehicles that
charge after ``startCharging`` are told to stop once charged.

Why a part of its own: charging is the one job that sends robots somewhere without an order
behind it, and VDA 5050 vehicles that start charging with an instant action keep charging (and
take no order) until they are told ``stopCharging`` (6.8.2).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from bus.clock import Instant
from bus.transport import Envelope
from controller.execution.executor import Executor
from controller.execution.trips import Stop, Trip
from controller.execution.vda_orders import NodeAction
from controller.fleet.registry import FleetRegistry
from controller.fleet.supervision import Supervisor
from warehouse_maps.grid import Cell


class Charging:
    """Sends robots to chargers and ends ``startCharging`` charges.

    Args:
        chargers: the layout's charger cells.
        executor, registry, supervisor: the executor, fleet registry and supervision limits.
        counters: the controller's event counters (shared).
        deviation: logs a vehicle's deviation once (``serial, kind, text``).
    """

    def __init__(
        self,
        chargers: Sequence[Cell],
        executor: Executor,
        registry: FleetRegistry,
        supervisor: Supervisor,
        counters: Counter[str],
        deviation: Callable[[str, str, str], None],
    ) -> None:
        self.chargers = sorted(chargers)  # the layout never changes
        self.executor = executor
        self.registry = registry
        self.supervisor = supervisor
        self.counters = counters
        self.deviation = deviation
        self._stopping: dict[str, str] = {}  # vehicle -> stopCharging actionId sent for its last charge

    def still_charging(self, serial: str) -> bool:
        """True while a vehicle charges after a ``startCharging`` (VDA 5050 6.8.2): it takes no
        order until ``stopCharging`` is done; :meth:`stop_charging` sends that once it is charged."""
        v = self.registry.vehicles.get(serial)
        return v is not None and v.state is not None and v.state.charging and not v.profile.runs("charge")

    def stop_charging(self, now: Instant) -> list[Envelope]:
        """``stopCharging`` to idle vehicles that charged since a ``startCharging`` and reached
        ``fleet.charged_pct`` (one at a time per vehicle, resent until its state shows it)."""
        out: list[Envelope] = []
        robots = self.executor.robots
        for serial in sorted(robots):
            v = self.registry.vehicles.get(serial)
            if robots[serial].stay and not self.still_charging(serial):
                self.executor.release_stay(serial)
            if v is None or v.state is None or not self.still_charging(serial) or not robots[serial].idle:
                continue
            if not v.profile.accepts_instant("stopCharging"):
                self.deviation(serial, "no-stopCharging", "charges but lists no stopCharging: it ends "
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
            out.append(self.executor.outbox.instant_action(now, serial, action))
        return out

    def send_to_chargers(self, now: Instant) -> None:
        """Send idle robots with a low battery to the nearest free charger."""
        robots = self.executor.robots
        taken = {t.stops[0].cell for r in robots.values() if (t := r.trip) and t.kind == "charge"}
        for serial in sorted(robots):
            v = self.registry.vehicles.get(serial)
            if v is None or not robots[serial].idle or not self.supervisor.needs_charge(v):
                continue
            if robots[serial].stay:  # on a charger after startCharging: not charging (yet)
                continue
            free = [c for c in self.chargers if c not in taken]
            if not free:
                break
            end = self.executor.plan_end(serial)
            cell = min(free, key=lambda c: (abs(c[0] - end[0]) + abs(c[1] - end[1]), c))
            taken.add(cell)
            self._stopping.pop(serial, None)  # a new charge: its end is asked for anew
            self.counters["charge_trips"] += 1
            n = self.counters["charge_trips"]
            self.executor.assign(serial, Trip(f"charge-{serial}-{n}", (Stop(cell, "charge"),), kind="charge"))
