"""The stops of robots' trips on their plans: which step carries which action, and station holds.

Why: a stop's action goes on the planned step where the robot arrives on the stop's cell. If
that arrival node was already sent without the action, the robot first steps off the cell (a
one-window detour) so the arrival is a fresh node. A vehicle with no action for a station visit
gets a controller-side hold instead: the vehicle is told nothing beyond the station until the
hold (the pick time, s) has run from its arrival.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bus.clock import Instant, seconds
from controller.execution.adg import ActionDependencyGraph
from controller.execution.records import RobotRecord
from controller.execution.trips import ExecutionEvent, StopDone, StopFailed
from controller.execution.vda_orders import NodeAction
from controller.fleet.profiles import ActionSpec, StationHold, VehicleProfile
from controller.fleet.registry import StateView
from warehouse_maps.grid import Cell

log = logging.getLogger("bulletyard.controller.execution")


class TripStops:
    """Puts trips' stops on planned steps and runs station holds.

    Args:
        robots: the executor's robot records (shared).
        adg: the executor's action dependency graph (shared).
        profile_of: a vehicle's profile (which actions it runs).
        hold_s: a station hold's length when the vehicle has no action for the visit, s.
        epoch: the journal's epoch (part of every actionId, unique across restarts).
        timed: serials with a hold or back-off running (shared with the resync part).
    """

    def __init__(
        self,
        robots: dict[str, RobotRecord],
        adg: ActionDependencyGraph,
        profile_of: Callable[[str], VehicleProfile],
        hold_s: float,
        epoch: int,
        timed: set[str],
    ) -> None:
        self.robots = robots
        self.adg = adg
        self.profile_of = profile_of
        self.hold_s = hold_s
        self.epoch = epoch
        self.timed = timed
        self.events: list[ExecutionEvent] = []  # found outside a state (holds, planning)
        self._actions_made = 0  # counts actionIds handed out: unique for the journal's life

    def note_arrivals(self, serial: str, path: list[Cell], base: int) -> None:
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
            self.attach(serial, r.plan_stop, entry)
            r.stop_steps.append(entry)
            r.plan_stop += 1
            return

    def attach(self, serial: str, index: int, step: int) -> None:
        """Put stop ``index`` of the robot's trip on planned ``step``: the vehicle's action for it
        (a fresh actionId), or a station hold when the vehicle has no action for the visit."""
        r = self.robots[serial]
        assert r.trip is not None
        stop = r.trip.stops[index]
        plan = self.profile_of(serial).plan_stop(stop.action_type, stop.parameters, self.hold_s)
        if isinstance(plan, StationHold):
            r.holds[step] = (index, plan.duration_s)
            return
        if not isinstance(plan, ActionSpec):  # the assigner offers only trips a vehicle can run, but
            # a rejection may have shown since that it does not run this action: never send it
            log.warning("%s cannot run stop %d (%s) of %s: %s", serial, index, stop.action_type,
                        r.trip.trip_id, plan.reason)
            self.events.append(StopFailed(serial, r.trip, index))
            return
        action_type, parameters = plan.action_type, plan.parameters
        self._actions_made += 1
        epoch = f"e{self.epoch}-" if self.epoch else ""
        action_id = f"{r.trip.trip_id}/{index}/{epoch}{self._actions_made}"
        r.action_stops[action_id] = index
        r.actions.setdefault(step, []).append(NodeAction(action_id, action_type, parameters))

    def replan(self, serial: str) -> None:
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
            self.attach(serial, index, k)

    def on_action_states(
        self, serial: str, state: StateView, finished_only: bool = False
    ) -> list[ExecutionEvent]:
        """Stops whose action the vehicle's state shows FINISHED or FAILED (each reported once);
        ``finished_only`` after a cancel, which ends the actions it stopped as FAILED."""
        r = self.robots[serial]
        events: list[ExecutionEvent] = []
        if r.trip is None:
            return events
        for action_id, _type, status in state.action_states:
            index = r.action_stops.get(action_id)
            if index is None or action_id in r.reported:
                continue
            if status == "FINISHED":
                r.reported.add(action_id)
                r.exec_stop = max(r.exec_stop, index + 1)
                events.append(StopDone(serial, r.trip, index))
                if index == len(r.trip.stops) - 1:
                    self.end_trip(r)
                    break
            elif status == "FAILED" and not finished_only:
                r.reported.add(action_id)
                events.append(StopFailed(serial, r.trip, index))
        return events

    def end_trip(self, r: RobotRecord) -> None:
        """The trip's last stop is done: its actions are never looked at again. A vehicle that
        started charging (``startCharging``) stays on the charger until released."""
        last = [a for acts in r.actions.values() for a in acts if a.action_id in r.action_stops]
        r.stay = bool(last) and last[-1].action_type == "startCharging"
        r.trip = None
        r.reported = {a for a in r.reported if a not in r.action_stops}
        r.action_stops = {}
        r.holds = {}
        r.hold_until = None

    def start_hold(self, now: Instant, serial: str) -> None:
        """Start the station hold's clock once the vehicle stands on the held node."""
        r = self.robots[serial]
        if r.holds and r.hold_until is None:
            step = min(r.holds)
            if self.adg.reached(serial) >= step:
                r.hold_until = Instant(now + seconds(r.holds[step][1]))
                self.timed.add(serial)

    def due(self, now: Instant) -> list[ExecutionEvent]:
        """Station holds whose time is up: the stop is done and the next nodes may go out; also
        any event found while planning (a stop the vehicle cannot run)."""
        events, self.events = self.events, []
        self.timed.intersection_update([s for s in self.timed if self.robots[s].timed])
        for serial in sorted(self.timed):
            r = self.robots[serial]
            if r.hold_until is None or r.hold_until > now or r.suspended or r.trip is None:
                continue
            index, _ = r.holds.pop(min(r.holds))
            r.hold_until = None
            r.exec_stop = max(r.exec_stop, index + 1)
            events.append(StopDone(serial, r.trip, index))
            if index == len(r.trip.stops) - 1:
                self.end_trip(r)
            else:
                self.start_hold(now, serial)
        return events

    def next_hold_end(self) -> Instant | None:
        """When the next station hold ends (None: none running)."""
        times = [r.hold_until for s in self.timed if (r := self.robots[s]).hold_until is not None]
        return min(times) if times else None
