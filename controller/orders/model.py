"""Orders, their lines and their life cycle: the domain values the order book keeps.

An order is what the WMS asks for: lines of (SKU, quantity), a destination (the sorter chute or
dock it must reach), a priority and a due time. Its status moves along one path::

    received -> allocated -> picking -> picked -> inducted -> sorted -> complete

and may leave it at any point before ``complete`` to ``failed`` or ``cancelled`` (with a reason).
These are plain frozen dataclasses; the wire form lives in ``bus/wms.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from bus.clock import Instant
from bus.wms import TERMINAL_STATUSES, OrderStatus

OrderId: TypeAlias = str
Sku: TypeAlias = str




#: The forward path; each status may move only to the next one (or to a terminal failure).
FORWARD: tuple[OrderStatus, ...] = (
    OrderStatus.RECEIVED,
    OrderStatus.ALLOCATED,
    OrderStatus.PICKING,
    OrderStatus.PICKED,
    OrderStatus.INDUCTED,
    OrderStatus.SORTED,
    OrderStatus.COMPLETE,
)
TERMINAL = TERMINAL_STATUSES


def allowed_next(status: OrderStatus) -> frozenset[OrderStatus]:
    """Statuses an order in ``status`` may move to (empty for terminal ones)."""
    if status in TERMINAL:
        return frozenset()
    nxt = FORWARD[FORWARD.index(status) + 1]
    return frozenset({nxt, OrderStatus.FAILED, OrderStatus.CANCELLED})


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One line of an order: ``quantity`` units (pieces) of ``sku``."""

    sku: Sku
    quantity: int


@dataclass(frozen=True, slots=True)
class Order:
    """An order as the WMS sends it.

    Args:
        id: unique order id.
        lines: what to pick, in WMS order (line index = position).
        destination: the chute / dock id it must be sorted to (None: complete once picked).
        priority: larger is more urgent (0 = normal).
        due: when it must be complete, or ``None``.
        created: when the WMS created it (for generated and imported streams: the arrival time).
    """

    id: OrderId
    lines: tuple[OrderLine, ...]
    destination: str | None = None
    priority: int = 0
    due: Instant | None = None
    created: Instant | None = None

    @property
    def units(self) -> int:
        """Total pieces over all lines."""
        return sum(line.quantity for line in self.lines)


class OrderRefused(ValueError):
    """An order that cannot be accepted; the message is the reason sent back to the WMS."""


@dataclass(frozen=True, slots=True)
class Accepted:
    """The order book took the order."""

    order_id: OrderId

    def __bool__(self) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class Refused:
    """The order book refused the order; ``reason`` says why and names the line when it is one,
    ``kind`` the rule for the log (a :class:`bus.limits.LimitKind` value, ``malformed``, or
    ``refused`` for an order that is well formed but cannot be served)."""

    order_id: OrderId
    reason: str
    kind: str = "refused"

    def __bool__(self) -> bool:
        return False


Verdict: TypeAlias = Accepted | Refused


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """One entry of the order book's event log (what the WMS is told, in order)."""

    at: Instant
    order_id: OrderId
    status: OrderStatus | None  # None for a refusal (the order never entered the book)
    reason: str = ""
