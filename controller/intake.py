"""WMS order intake for the controller core: validate, or refuse with a reason.

Why: every order from the warehouse management system is either accepted exactly once or
refused with a reason on the status topic; nothing is dropped silently. Accepted orders go to
the operations (:mod:`controller.tasks.operations`), which check them against the stock.

Wire format (JSON on ``bulletyard/v1/{site}/orders``)::

    {"headerId": 0, "timestamp": "...", "version": "1.0.0", "orderId": "o-1",
     "lines": [{"sku": "S-001", "quantity": 2}], "priority": 0}
"""

from __future__ import annotations

import json
from dataclasses import dataclass

MAX_ORDER_BYTES = 256 * 1024


class OrderRefused(ValueError):
    """An order that cannot be accepted; the message is the reason sent back to the WMS."""


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One line: ``quantity`` units of ``sku``."""

    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class WmsOrder:
    """A validated order."""

    order_id: str
    lines: tuple[OrderLine, ...]
    priority: int = 0
    destination: str | None = None  # chute or dock group the order is sorted to (sortation sites)


def parse_order(payload: bytes) -> WmsOrder:
    """Decode and validate an order payload.

    Raises:
        OrderRefused: with the reason (malformed JSON, missing or wrong fields).
    """
    if len(payload) > MAX_ORDER_BYTES:
        raise OrderRefused(f"malformed: payload of {len(payload)} bytes exceeds {MAX_ORDER_BYTES}")
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise OrderRefused(f"malformed: not JSON ({err})") from None
    if not isinstance(data, dict):
        raise OrderRefused("malformed: order is not a JSON object")
    order_id = data.get("orderId")
    if not isinstance(order_id, str) or not order_id or len(order_id) > 128:
        raise OrderRefused("malformed: orderId must be a non-empty string of at most 128 characters")
    lines = data.get("lines")
    if not isinstance(lines, list) or not lines:
        raise OrderRefused("malformed: lines must be a non-empty list")
    out = []
    for i, line in enumerate(lines):
        if not isinstance(line, dict):
            raise OrderRefused(f"malformed: lines[{i}] is not an object")
        sku, qty = line.get("sku"), line.get("quantity")
        if not isinstance(sku, str) or not sku:
            raise OrderRefused(f"malformed: lines[{i}].sku must be a non-empty string")
        if not isinstance(qty, int) or isinstance(qty, bool) or qty <= 0:
            raise OrderRefused(f"malformed: lines[{i}].quantity must be a positive integer")
        out.append(OrderLine(sku, qty))
    priority = data.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise OrderRefused("malformed: priority must be an integer")
    destination = data.get("destination")
    bad_destination = not isinstance(destination, str) or not destination or len(destination) > 64
    if destination is not None and bad_destination:
        raise OrderRefused("malformed: destination must be a non-empty string of at most 64 characters")
    return WmsOrder(order_id, tuple(out), priority, destination)
