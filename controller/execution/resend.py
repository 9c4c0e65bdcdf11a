"""Resend orders and instant actions until the vehicle acknowledges them (VDA 5050 runs at QoS 0).

Why: VDA 5050 sends ``order`` and ``instantActions`` at QoS 0, so any one message may be lost. The
vehicle's ``state`` is the acknowledgement: an order (update) is acknowledged once ``state``
echoes its ``orderId`` with an ``orderUpdateId`` at least as high (the vehicle ignores exact
duplicates, so resending is safe); an instant action once its ``actionId`` appears in
``actionStates``. Timeouts are stored deadlines checked by :meth:`ResendTracker.due` with the
time passed in; the interval doubles after every resend up to a cap.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bus.clock import Duration, Instant, seconds


@dataclass(slots=True)
class Pending:
    """One unacknowledged message for one vehicle.

    Attributes:
        serial_number: the vehicle.
        kind: ``order`` or ``instantActions``.
        key: ``orderId/orderUpdateId`` for orders, the actionId for instant actions.
        body: the message body without header (a fresh header is added on every send).
        deadline: when to resend if still unacknowledged (ns).
        interval: the current resend interval (ns).
        sends: how many times it was sent.
    """

    serial_number: str
    kind: str
    key: str
    body: dict[str, Any]
    deadline: Instant
    interval: Duration
    sends: int = 1


class ResendTracker:
    """Unacknowledged orders and instant actions with resend deadlines.

    Args:
        interval_s: first resend interval in seconds.
        max_interval_s: cap for the doubling interval in seconds.
    """

    def __init__(self, interval_s: float = 1.0, max_interval_s: float = 8.0) -> None:
        self._interval = seconds(interval_s)
        self._max_interval = seconds(max_interval_s)
        self._orders: dict[str, Pending] = {}  # serial -> latest unacknowledged order (update)
        self._actions: dict[tuple[str, str], Pending] = {}  # (serial, actionId) -> pending
        self.resent = 0

    def sent_order(self, now: Instant, serial_number: str, body: dict[str, Any]) -> None:
        """Remember an order (update) just sent.

        The caller sends the next update of a vehicle only after this one is acknowledged: an
        update must start from the vehicle's last base node, which it knows only if it received
        the previous update.
        """
        key = f"{body['orderId']}/{body['orderUpdateId']}"
        self._orders[serial_number] = Pending(
            serial_number, "order", key, body, Instant(now + self._interval), self._interval
        )

    def sent_instant_action(
        self, now: Instant, serial_number: str, action_id: str, body: dict[str, Any]
    ) -> None:
        """Remember an instant action message just sent, acknowledged by its ``actionId``."""
        self._actions[(serial_number, action_id)] = Pending(
            serial_number, "instantActions", action_id, body, Instant(now + self._interval), self._interval
        )

    def on_state(
        self, serial_number: str, order_id: str, order_update_id: int, action_ids: Iterable[str]
    ) -> None:
        """Acknowledge what a vehicle's ``state`` message shows."""
        pending = self._orders.get(serial_number)
        if pending is not None:
            want_id, _, want_update = pending.key.rpartition("/")
            if order_id == want_id and order_update_id >= int(want_update):
                del self._orders[serial_number]
        for action_id in action_ids:
            self._actions.pop((serial_number, action_id), None)

    def forget(self, serial_number: str) -> None:
        """Drop everything pending for a vehicle (it went offline or gets a new order)."""
        self._orders.pop(serial_number, None)
        for key in [k for k in self._actions if k[0] == serial_number]:
            del self._actions[key]

    def forget_order(self, serial_number: str) -> None:
        """Drop the pending order of a vehicle (it was rejected or superseded)."""
        self._orders.pop(serial_number, None)

    def pending_order(self, serial_number: str) -> Pending | None:
        """The vehicle's unacknowledged order, if any."""
        return self._orders.get(serial_number)

    def due(self, now: Instant) -> list[Pending]:
        """Pending messages whose deadline has passed, in a stable order; re-armed with a longer interval."""
        out: list[Pending] = []
        for pending in sorted(
            [*self._orders.values(), *self._actions.values()], key=lambda p: (p.serial_number, p.kind, p.key)
        ):
            if pending.deadline <= now:
                pending.interval = Duration(min(pending.interval * 2, self._max_interval))
                pending.deadline = Instant(now + pending.interval)
                pending.sends += 1
                self.resent += 1
                out.append(pending)
        return out

    def next_deadline(self) -> Instant | None:
        """The earliest resend deadline, or None when nothing is pending."""
        deadlines = [p.deadline for p in self._orders.values()] + [p.deadline for p in self._actions.values()]
        return min(deadlines) if deadlines else None

    def __len__(self) -> int:
        return len(self._orders) + len(self._actions)
