"""What the executor keeps per robot, shared by its parts (windows, stops, resync, outbox).

Why a public record: the executor's parts each own one job but work on the same robots, and a
trip's stop counters, the order stream and the graph's step numbering must agree. Only the
execution package writes these records; the rest of the controller reads them through
:class:`controller.execution.executor.Executor`'s queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bus.clock import Instant
from controller.execution.trips import Trip
from controller.execution.vda_orders import NodeAction, OrderStream
from controller.fleet.registry import StateView
from warehouse_maps.grid import Cell

REJECTION_ERRORS = frozenset({"validationError", "orderError", "orderUpdateError", "noRouteError"})
"""VDA 5050 error types with which a vehicle refuses an order (update)."""
NO_ORDER_TO_CANCEL = "noOrderToCancel"


@dataclass(slots=True)
class RobotRecord:
    """One robot under control.

    ``plan_stop`` counts the stops of its trip the *plan* has reached (planning aims at the next
    one); ``exec_stop`` the stops whose action the *vehicle* reported finished.
    """

    serial: str
    stream: OrderStream
    home: Cell
    trip: Trip | None = None
    plan_stop: int = 0
    exec_stop: int = 0
    stop_steps: list[int] = field(default_factory=list)  # planned arrival step of each reached stop
    actions: dict[int, list[NodeAction]] = field(default_factory=dict)
    detour: bool = False
    # out of planning: the vehicle is lost (the fleet supervision says why and since when, the one
    # place "lost" is kept) or stood off its plan; a resync, once it is back, puts it in again
    suspended: bool = False
    resync_action: str | None = None  # cancelOrder in flight; no new order until it is FINISHED
    reported: set[str] = field(default_factory=set)  # actionIds already turned into events
    manufacturer: str = ""
    action_stops: dict[str, int] = field(default_factory=dict)  # actionId -> stop index of the trip
    holds: dict[int, tuple[int, float]] = field(default_factory=dict)  # step -> (stop index, hold s)
    hold_until: Instant | None = None  # the station hold at min(holds) ends then (None: not started)
    resync_at: Instant | None = None  # a rejected order's cancel goes out then (back-off)
    rejections: int = 0  # rejected orders since the last accepted one (back-off doubles)
    stay: bool = False  # without a trip it stays where its plan ends (charging) instead of going home

    @property
    def idle(self) -> bool:
        """True when the robot has no trip and is usable."""
        return self.trip is None and not self.suspended

    @property
    def timed(self) -> bool:
        """True while a station hold or a rejection back-off runs (a deadline to wake up for)."""
        return self.hold_until is not None or self.resync_at is not None

    def answered_by(self, state: StateView) -> bool:
        """True when ``state`` echoes what was sent to this robot: its order (or an error about
        it) or its cancel. Proof that the vehicle is where it reports (see ``Vehicle.proven``)."""
        ours = {self.resync_action} | ({self.stream.order_id} if self.stream.update_id >= 0 else set())
        return (state.order_id in ours or any(e[2] in ours for e in state.errors)
                or any(a[0] in ours for a in state.action_states))

    def stops_planned(self, trip_id: str) -> int | None:
        """How many stops of trip ``trip_id`` the plan has reached (None: not its trip)."""
        if self.trip is None or self.trip.trip_id != trip_id:
            return None
        return self.plan_stop


def cancel_done(state: StateView, action_id: str) -> bool:
    """True when the state shows our ``cancelOrder`` ``action_id`` ended: its action state is
    FINISHED or FAILED, or the vehicle answered it with ``noOrderToCancel`` only (VDA 5050 6.9: a
    vehicle with no order may report just that error, referencing the action or nothing)."""
    if any(a[0] == action_id and a[2] in ("FINISHED", "FAILED") for a in state.action_states):
        return True
    if not any(e[0] == NO_ORDER_TO_CANCEL for e in state.errors):
        return False
    return action_id in state.error_actions or not state.error_actions
