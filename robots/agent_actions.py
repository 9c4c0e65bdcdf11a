"""Node actions and instant actions for :class:`~robots.agent.VehicleAgent` (spec 6.8, 6.9, 6.11).

A mixin holding the action half of the agent: running the actions queued at the node just reached
(WAITING, INITIALIZING, RUNNING, FINISHED or FAILED, PAUSED by ``startPause``), charging at a
charger until the target charge, the battery warning, and the instant actions ``startPause``,
``stopPause``, ``cancelOrder``, ``stateRequest`` and ``factsheetRequest``. It shares the agent's
state (declared in ``VehicleAgent.__init__``) and has no state of its own.
"""

from __future__ import annotations

from bus.clock import Instant, seconds
from bus.transport import Envelope
from bus.vda5050 import Error, ErrorReference, InstantActions, VdaDecodeError, parse_instant_actions
from bus.vda5050.state import Load
from robots.actions import ActionRun


class ActionsMixin:
    """The action side of the vehicle agent (see the module docstring)."""

    # --- instant actions ----------------------------------------------------------------------
    def _on_instant_actions(self, now: Instant, payload: bytes) -> list[Envelope]:
        try:
            batch: InstantActions = parse_instant_actions(payload)
        except VdaDecodeError as exc:
            self._condition_errors["validationError"] = Error(
                error_type="validationError", error_level="WARNING", error_description=str(exc))
            self._dirty = True
            return []
        self._condition_errors.pop("validationError", None)
        if batch.serial_number != self.serial_number:
            return []
        out: list[Envelope] = []
        for action in batch.actions:
            run = ActionRun(action)
            self._actions[action.action_id] = run
            kind = action.action_type
            if kind == "startPause":
                self._pause(now)
                run.finish()
            elif kind == "stopPause":
                self._resume(now)
                run.finish()
            elif kind == "cancelOrder":
                self._start_cancel(now, run)
            elif kind == "stateRequest":
                run.finish()
            elif kind == "factsheetRequest":
                run.finish()
                out.append(self._factsheet(now))
            else:
                run.fail(f"instant action {kind!r} is not supported")
                self._condition_errors["instantActionError"] = Error(
                    error_type="instantActionError", error_level="WARNING",
                    error_description=f"unsupported instant action {kind!r}",
                    error_references=[ErrorReference(reference_key="actionId",
                                                     reference_value=action.action_id)])
            self._dirty = True
        return out

    def _pause(self, now: Instant) -> None:
        if self._paused:
            return
        self._paused = True
        if self._motion != "none":
            self.drive.stop(now)
            self._motion = "none"
        for run in self._actions.values():
            if run.pause(now) and run.action.action_type == "charge":
                self.drive.set_charging(now, False)

    def _resume(self, now: Instant) -> None:
        if not self._paused:
            return
        self._paused = False
        for run in self._actions.values():
            if run.resume(now) and run.action.action_type == "charge" and run.status == "RUNNING":
                self.drive.set_charging(now, True)
                run.ends_at = self._charge_deadline(now, run)

    def _start_cancel(self, now: Instant, run: ActionRun) -> None:
        if self._cancelled or not self._busy():
            run.fail("no order to cancel")
            self._order_errors = [Error(error_type="noOrderToCancel", error_level="WARNING",
                                        error_description="cancelOrder received without an order",
                                        error_references=[ErrorReference(reference_key="actionId",
                                                                         reference_value=run.action.action_id)])]
            return
        self.drive.stop(now)
        self._motion = "none"
        self.drive.set_charging(now, False)
        for other in self._actions.values():
            if other.node_sequence_id is not None:
                other.fail("cancelled")
        self._nodes, self._edges, self._queue = [], [], []
        self._cancelled = True
        run.status = "RUNNING"
        self._cancel = run

    def _duration(self, run: ActionRun) -> int:
        value = run.action.parameter("duration")
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            return seconds(float(value))
        return seconds(self.config.action_durations_s.get(run.action.action_type, 0.0))

    def _charge_target(self, run: ActionRun) -> float:
        target = run.action.parameter("targetCharge", self.config.default_charge_target_percent)
        if not isinstance(target, int | float) or isinstance(target, bool):
            target = self.config.default_charge_target_percent
        return min(100.0, float(target))

    def _charge_deadline(self, now: Instant, run: ActionRun) -> Instant | None:
        eta = self.drive.charge_eta(now, self._charge_target(run))
        return None if eta is None else Instant(max(eta, now + 1_000_000))  # at least 1 ms on

    def _at_charger(self, now: Instant) -> bool:
        chargers = self.config.charger_positions_m
        if chargers is None:
            return True
        pose = self.drive.pose(now)
        return any(pose.distance_to(x, y) <= self.config.charger_tolerance_m for x, y in chargers)

    def _run_head_action(self, now: Instant) -> bool:
        run = self._actions[self._queue[0]]
        if run.done:
            self._queue.pop(0)
            return True
        if run.status == "WAITING":
            run.status, run.ends_at = "INITIALIZING", Instant(now + seconds(self.config.action_init_s))
            self._dirty = True
            return True
        if run.ends_at is not None and now < run.ends_at:
            return False
        if run.status == "INITIALIZING":
            start = run.ends_at or now
            run.status = "RUNNING"
            if run.action.action_type == "charge":
                if not self._at_charger(now):
                    run.fail("not at a charger")
                    self._order_errors.append(Error(error_type="notAtCharger", error_level="WARNING",
                                                    error_description="charge action away from a charger",
                                                    error_references=[ErrorReference(
                                                        reference_key="actionId",
                                                        reference_value=run.action.action_id)]))
                else:
                    self.drive.set_charging(now, True)
                    run.ends_at = self._charge_deadline(now, run)
            else:
                run.ends_at = Instant(start + self._duration(run))
            self._dirty = True
            return True
        if run.status == "RUNNING":
            if run.action.action_type == "charge":
                if self.drive.battery(now).charge_percent < self._charge_target(run) - 1e-3:
                    run.ends_at = self._charge_deadline(now, run)
                    return False
                self.drive.set_charging(now, False)
            self._complete(run)
            self._dirty = True
            return True
        return False  # PAUSED

    def _complete(self, run: ActionRun) -> None:
        kind = run.action.action_type
        load_id = run.action.parameter("loadId")
        if kind == "pick":
            self._loads.append(Load(load_id=str(load_id) if load_id is not None else None))
        elif kind == "drop" and self._loads:
            self._loads.pop()
        run.finish()

    def _check_battery(self, now: Instant) -> None:
        low = self.drive.battery(now).charge_percent < self.config.battery_low_percent
        if low and "batteryLow" not in self._condition_errors:
            self._condition_errors["batteryLow"] = Error(error_type="batteryLow", error_level="WARNING",
                                                         error_description="battery below "
                                                         f"{self.config.battery_low_percent:.0f} %")
            self._dirty = True
        elif not low and "batteryLow" in self._condition_errors:
            del self._condition_errors["batteryLow"]
            self._dirty = True
