"""The order book: every order the controller accepted, its status, and the log of what happened.

Public API (used by the controller, issue 8)::

    book = OrderBook(inventory)
    verdict = book.submit(order, now)         # Accepted(order_id) | Refused(order_id, reason)
    book.advance(order_id, OrderStatus.ALLOCATED, now, reason="")
    book.status(order_id)                     # OrderStatus
    book.counts()                             # {OrderStatus: n}, every status listed
    book.events                               # [OrderEvent], in the order they happened

``submit`` refuses, with a reason naming the line, an order whose id is already in the book, that
has no lines, a line with a quantity below 1, a SKU no pod stocks, or more units of a SKU than
the stock not yet promised to other orders. A refused order never enters the book, so nothing is
counted twice and nothing accepted is lost. ``advance`` enforces the life cycle in
``controller.orders.model`` and raises :class:`LifecycleError` on a jump it does not allow.
"""

from __future__ import annotations

from collections.abc import Iterator

from bus.clock import Instant
from controller.orders.inventory import Inventory
from controller.orders.model import (
    Accepted,
    Order,
    OrderEvent,
    OrderId,
    OrderStatus,
    Refused,
    Sku,
    Verdict,
    allowed_next,
)


class LifecycleError(ValueError):
    """An order status change the life cycle does not allow (names order and statuses)."""


class OrderBook:
    """Accepted orders, their statuses and the event log.

    Args:
        inventory: the stock that ``submit`` checks lines against.
    """

    def __init__(self, inventory: Inventory) -> None:
        self._inventory = inventory
        self._orders: dict[OrderId, Order] = {}
        self._status: dict[OrderId, OrderStatus] = {}
        self._reason: dict[OrderId, str] = {}
        self._pending: dict[Sku, int] = {}  # accepted units not yet reserved on a pod
        self.events: list[OrderEvent] = []

    # -- intake -------------------------------------------------------------------------------

    def submit(self, order: Order, now: Instant) -> Verdict:
        """Accept ``order`` (status ``received``) or refuse it with a reason."""
        reason = self._check(order)
        if reason:
            self.events.append(OrderEvent(now, order.id, None, reason))
            return Refused(order.id, reason)
        self._orders[order.id] = order
        self._status[order.id] = OrderStatus.RECEIVED
        for sku, units in _units_by_sku(order).items():
            self._pending[sku] = self._pending.get(sku, 0) + units
        self.events.append(OrderEvent(now, order.id, OrderStatus.RECEIVED))
        return Accepted(order.id)

    def _check(self, order: Order) -> str:
        if not order.id:
            return "order id is empty"
        if order.id in self._orders:
            return f"duplicate order id {order.id!r} (already {self._status[order.id].value})"
        if not order.lines:
            return "order has no lines"
        for i, line in enumerate(order.lines):
            if line.quantity < 1:
                return f"line {i}: quantity {line.quantity} of {line.sku} must be at least 1"
            if not self._inventory.knows(line.sku):
                return f"line {i}: unknown SKU {line.sku!r} (no pod stocks it)"
        for sku, units in _units_by_sku(order).items():
            free = self._inventory.available(sku) - self._pending.get(sku, 0)
            if units > free:
                first = next(i for i, ln in enumerate(order.lines) if ln.sku == sku)
                return f"line {first}: {units} x {sku} wanted, only {max(free, 0)} in stock and not promised"
        return ""

    # -- life cycle ---------------------------------------------------------------------------

    def advance(self, order_id: OrderId, status: OrderStatus, now: Instant, reason: str = "") -> None:
        """Move an order to ``status`` (the next one on its path, or failed / cancelled)."""
        current = self.status(order_id)
        if status not in allowed_next(current):
            raise LifecycleError(f"order {order_id}: {current.value} -> {status.value} is not allowed")
        if status in (OrderStatus.FAILED, OrderStatus.CANCELLED) and not reason:
            raise LifecycleError(f"order {order_id}: {status.value} needs a reason")
        if current is OrderStatus.RECEIVED:  # leaving received: its units are no longer pending
            for sku, units in _units_by_sku(self._orders[order_id]).items():
                self._pending[sku] -= units
        self._status[order_id] = status
        if reason:
            self._reason[order_id] = reason
        self.events.append(OrderEvent(now, order_id, status, reason))

    # -- queries ------------------------------------------------------------------------------

    def order(self, order_id: OrderId) -> Order:
        """The accepted order; KeyError naming it when unknown."""
        try:
            return self._orders[order_id]
        except KeyError:
            raise KeyError(f"unknown order {order_id!r}") from None

    def status(self, order_id: OrderId) -> OrderStatus:
        """Current status of an accepted order."""
        self.order(order_id)
        return self._status[order_id]

    def reason(self, order_id: OrderId) -> str:
        """Why an order failed or was cancelled ("" otherwise)."""
        return self._reason.get(order_id, "")

    def counts(self) -> dict[OrderStatus, int]:
        """Orders per status, every status listed (zeros included)."""
        out = {s: 0 for s in OrderStatus}
        for status in self._status.values():
            out[status] += 1
        return out

    def in_status(self, status: OrderStatus) -> Iterator[Order]:
        """Orders currently in ``status``, in submission order (stable)."""
        return (self._orders[o] for o, s in self._status.items() if s is status)

    def __len__(self) -> int:
        return len(self._orders)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._orders


def _units_by_sku(order: Order) -> dict[Sku, int]:
    out: dict[Sku, int] = {}
    for line in order.lines:
        out[line.sku] = out.get(line.sku, 0) + line.quantity
    return out
