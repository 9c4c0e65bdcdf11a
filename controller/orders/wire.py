"""The mapping between WMS wire messages (``bus/wms.py``) and order-book domain values.

This is the one module that knows both sides, and the one WMS decoder: the live controller (its
wire seam, :mod:`controller.inbound`) and its journal recovery read orders here. Inbound:
:func:`decode_order` turns a payload into an :class:`Order` or a :class:`Refused` whose reason
starts ``malformed:`` and names the field at fault (payload too large, not JSON, a line with
quantity 0, an unknown field, ...), never raising. Outbound: :func:`status_message` turns an
:class:`OrderEvent` of the order book into a :class:`WmsOrderStatus` with the next header id.
"""

from __future__ import annotations

from pydantic import ValidationError

from bus import limits
from bus.clock import iso_timestamp, parse_timestamp
from bus.header import HeaderIds
from bus.wms import MAX_PAYLOAD_BYTES, WmsOrder, WmsOrderStatus
from controller.orders.model import Order, OrderEvent, OrderLine, Refused

WMS_LIMITS = limits.MessageLimits(max_payload_bytes=MAX_PAYLOAD_BYTES)
"""The message limits of a WMS order (``docs/limits-bus.md``): checked before the model reads it."""


def decode_order(payload: bytes) -> Order | Refused:
    """An order from a WMS payload, or a refusal whose reason names what is wrong."""
    try:
        limits.check(payload, WMS_LIMITS)
    except limits.MessageRefused as exc:
        text = f"message: {exc.detail}" if exc.kind is limits.LimitKind.NOT_JSON else str(exc)
        return Refused("", f"malformed: {text}", exc.kind.value)
    try:
        msg = WmsOrder.model_validate_json(payload)
    except ValidationError as exc:
        errors = exc.errors()
        said = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'message'}: {e['msg']}" for e in errors[:3])
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        return Refused(_order_id_of(payload), f"malformed: {said}{more}", "malformed")
    try:
        due = parse_timestamp(msg.dueTime) if msg.dueTime else None
        created = parse_timestamp(msg.timestamp)
    except ValueError as exc:
        return Refused(msg.orderId, f"malformed: timestamp: {exc}", "malformed")
    lines = tuple(OrderLine(ln.sku, ln.quantity) for ln in msg.lines)
    return Order(msg.orderId, lines, msg.destination, msg.priority, due, created)


def _order_id_of(payload: bytes) -> str:
    """Best effort: the orderId of an invalid message, so the refusal can name the order."""
    raw = limits.loads_or_none(payload, WMS_LIMITS)  # the payload respects the limits here
    oid = raw.get("orderId") if isinstance(raw, dict) else None
    return oid if isinstance(oid, str) else ""


def status_message(event: OrderEvent, topic: str, ids: HeaderIds) -> WmsOrderStatus:
    """The wire status for one order-book event (``refused`` when the order was never accepted)."""
    return WmsOrderStatus(
        headerId=ids.next(topic),
        timestamp=iso_timestamp(event.at),
        orderId=event.order_id,
        status=event.status.value if event.status is not None else "refused",
        reason=event.reason or None,
    )
