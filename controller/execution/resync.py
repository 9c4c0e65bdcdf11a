"""Starting a vehicle's order afresh: after it was lost and is back, after it rejected an order,
and when its order has grown long enough to roll over.

Why: VDA 5050 accepts a new order (a new orderId) only once the vehicle's previous one is
finished or cancelled. So the executor cancels (``cancelOrder``), waits until the vehicle's
actionStates show the cancel ended, and starts a fresh order at the step of the plan the vehicle
stands on; a vehicle that stands off its plan is kept blocked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bus.clock import Instant, seconds
from bus.transport import Envelope
from controller.config import ControllerConfig
from controller.execution.adg import ActionDependencyGraph
from controller.execution.outbox import VdaOutbox
from controller.execution.records import REJECTION_ERRORS, RobotRecord
from controller.execution.stops import TripStops
from controller.execution.trips import ExecutionEvent, OrderRejected
from controller.execution.vda_orders import NodeAction, OrderStream
from controller.fleet.registry import StateView
from warehouse_maps.grid import Cell

log = logging.getLogger("bulletyard.controller.execution")


class Resync:
    """Cancels vehicles' orders and restarts them where the vehicles stand.

    Args:
        robots, adg, outbox, stops, timed: the executor's shared parts.
        config: controller configuration (back-off, rollover, horizon).
        new_stream: makes robot ``serial``'s order stream with an order number and base step.
        blocked: cells of off-plan reports (shared; a vehicle found off its plan adds its cell).
        plan_changed: tells the window part that some robot's remaining plan changed.
    """

    def __init__(
        self,
        robots: dict[str, RobotRecord],
        adg: ActionDependencyGraph,
        outbox: VdaOutbox,
        stops: TripStops,
        timed: set[str],
        config: ControllerConfig,
        new_stream: Callable[[str, int, int], OrderStream],
        blocked: set[Cell],
        plan_changed: Callable[[], None],
        epoch: int,
    ) -> None:
        self.robots = robots
        self.adg = adg
        self.outbox = outbox
        self.stops = stops
        self.timed = timed
        self.config = config
        self.new_stream = new_stream
        self.blocked = blocked
        self.plan_changed = plan_changed
        self.epoch = epoch
        self.rollovers = 0  # fresh orders given to idle vehicles (order_rollover_actions)
        self._cancels = 0

    def begin(self, now: Instant, serial: str) -> list[Envelope]:
        """Cancel the vehicle's order; a new order starts from where it stands once the cancel
        shows FINISHED in its actionStates (VDA 5050 accepts a new order only then)."""
        r = self.robots[serial]
        self.outbox.resend.forget(serial)
        self._cancels += 1
        r.resync_at = None
        r.resync_action = f"cancel-{serial}-{self._cancels}" + (f"-e{self.epoch}" if self.epoch else "")
        cancel = NodeAction(r.resync_action, "cancelOrder", (), "NONE")
        return [self.outbox.instant_action(now, serial, cancel)]

    def on_rejected(self, now: Instant, serial: str) -> None:
        """The vehicle rejected its order (update): nothing more is sent to it until a back-off
        has passed (``fleet.rejection_backoff_s``, doubling with each rejection in a row); then
        its order is cancelled and a fresh one, planned again with what its profile now says,
        starts where it stands. Why: resending at once met the same refusal within milliseconds
        and the vehicle was declared lost before anything could change."""
        r = self.robots[serial]
        self.outbox.resend.forget_order(serial)
        r.rejections += 1
        backoff_s = self.config.fleet.rejection_backoff_s * 2 ** min(r.rejections - 1, 5)
        r.resync_at = Instant(now + seconds(backoff_s))
        self.timed.add(serial)
        self.stops.replan(serial)

    def due(self, now: Instant) -> list[Envelope]:
        """The cancels of rejected orders whose back-off has passed."""
        out: list[Envelope] = []
        for serial in sorted(self.timed):
            r = self.robots[serial]
            if r.resync_at is not None and r.resync_at <= now and not r.suspended:
                out.extend(self.begin(now, serial))
        return out

    def next_due(self) -> Instant | None:
        """When the next back-off ends (None: no rejected order waits)."""
        robots = [self.robots[s] for s in self.timed]
        times = [r.resync_at for r in robots if r.resync_at is not None and not r.suspended]
        return min(times) if times else None

    def finish(self, serial: str, cell: Cell | None) -> bool:
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
                self.blocked.add(cell)
            return False
        self.adg.mark_reached(serial, step)
        r.suspended = False
        self.plan_changed()
        r.reported = {a for a in r.reported if not a.startswith(r.stream.order_id)}
        r.actions = {k: v for k, v in r.actions.items() if k > step}
        r.holds = {k: v for k, v in r.holds.items() if k > step}
        r.hold_until = None
        r.stop_steps = [k for k in r.stop_steps if k > step][: max(0, r.plan_stop - r.exec_stop)]
        r.plan_stop = r.exec_stop + len(r.stop_steps)
        r.stream = self.new_stream(serial, r.stream.order_number + 1, step - 1)
        return True

    def rejections_in(self, serial: str, state: StateView) -> list[ExecutionEvent]:
        """The vehicle's refusals of its current order (each order reported once)."""
        r = self.robots[serial]
        events: list[ExecutionEvent] = []
        for error_type, _level, order_ref in state.errors:
            ours = order_ref == r.stream.order_id
            if error_type in REJECTION_ERRORS and ours and order_ref not in r.reported:
                r.reported.add(order_ref)
                events.append(OrderRejected(serial, order_ref, error_type))
        return events

    def rollover_due(self, serial: str, state: StateView) -> bool:
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
            and not r.suspended
            and not state.driving
            and self.adg.reached(serial) == self.adg.released_prefix(serial)
            and all(status in ("FINISHED", "FAILED") for _, _, status in state.action_states)
        )
