"""Fleet supervision: when is a vehicle lost, when is it back, when must it charge.

Why: a vehicle that disconnects, reports a FATAL error or silently stops making progress still
occupies cells and holds a trip. Supervision turns those situations into events for the
controller (return the trip to the pool, keep the cells blocked, replan the others), and turns
a returning vehicle into a "back" event (resynchronise it). Limits are data
(:class:`SupervisionLimits`); time comes in as an argument and deadlines are computed, never
timers.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass

from bus.clock import Instant, seconds
from controller.fleet.registry import FleetRegistry, Link, Vehicle


@dataclass(frozen=True, slots=True)
class SupervisionLimits:
    """Supervision thresholds.

    Attributes:
        no_progress_timeout_s: a vehicle with work released that reaches no new node and does
            not move for this long is lost.
        state_timeout_s: no message at all for this long means lost (VDA asks for state at
            least every 30 s).
        low_battery_pct: below this a vehicle without a trip goes to a charger.
        charged_pct: a charging vehicle is released for work again at this charge.
    """

    no_progress_timeout_s: float = 60.0
    state_timeout_s: float = 65.0
    low_battery_pct: float = 20.0
    charged_pct: float = 80.0


@dataclass(frozen=True, slots=True)
class RobotLost:
    """A vehicle stopped being usable; ``reason`` is one of offline, connectionbroken, fatal,
    no-progress, silent."""

    serial_number: str
    reason: str


@dataclass(frozen=True, slots=True)
class RobotBack:
    """A lost vehicle is usable again and must be resynchronised."""

    serial_number: str


FleetEvent = RobotLost | RobotBack


class Supervisor:
    """Decides lost/back transitions from the registry at a given time."""

    def __init__(self, limits: SupervisionLimits | None = None) -> None:
        self.limits = limits or SupervisionLimits()
        self._state_timeout = seconds(self.limits.state_timeout_s)  # ns, asked per vehicle per check
        self._no_progress_timeout = seconds(self.limits.no_progress_timeout_s)
        self.lost: dict[str, tuple[str, Instant]] = {}  # serial -> (reason, since)

    def is_lost(self, serial: str) -> bool:
        """True while the vehicle is considered lost."""
        return serial in self.lost

    def _problem(self, now: Instant, v: Vehicle, busy: bool) -> str | None:
        if v.link == Link.OFFLINE:
            return "offline"
        if v.link == Link.CONNECTIONBROKEN:
            return "connectionbroken"
        if v.state is None:
            return "no-state"
        if v.state.fatal:
            return "fatal"
        if now - v.last_seen > self._state_timeout:
            return "silent"
        if busy and now - v.last_progress > self._no_progress_timeout:
            return "no-progress"
        return None

    def check(self, now: Instant, registry: FleetRegistry, busy: Set[str]) -> list[FleetEvent]:
        """Events for vehicles whose status changed, in serial order.

        Args:
            now: the current time (ns).
            registry: the fleet registry.
            busy: vehicles that have released work ahead of them (expected to progress).
        """
        events: list[FleetEvent] = []
        for serial in registry.serials():
            v = registry.vehicles[serial]
            problem = self._problem(now, v, serial in busy)
            if serial in self.lost:
                reason, since = self.lost[serial]
                recovered = problem is None and v.last_seen > since
                if reason == "no-progress":
                    recovered = recovered and v.last_progress > since
                if recovered:
                    del self.lost[serial]
                    events.append(RobotBack(serial))
            elif problem is not None and problem != "no-state":
                self.lost[serial] = (problem, now)
                events.append(RobotLost(serial, problem))
        return events

    def needs_charge(self, v: Vehicle) -> bool:
        """True when a vehicle's battery is below the low limit and it is not charging."""
        return (
            v.state is not None and not v.state.charging and v.state.battery_pct < self.limits.low_battery_pct
        )

    def charged(self, v: Vehicle) -> bool:
        """True when a charging vehicle has reached the release charge."""
        return v.state is not None and v.state.battery_pct >= self.limits.charged_pct
