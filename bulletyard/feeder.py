"""A WMS order feeder: seeded orders published at a rate, order statuses counted back.

It stands in for the warehouse management system in ``bulletyard up`` and the end-to-end tests.
Orders follow the WMS protocol (``docs/protocol-wms.md``): ``bulletyard/v1/{site}/orders`` out at
QoS 1, ``bulletyard/v1/{site}/orderStatus`` back. The feeder is shaped like every agent here
(``tick(now)`` returns what to publish, ``handle(now, msg)`` takes what arrived,
``next_wakeup()``), so a realtime loop or a test drives it.

The counts are what the end-to-end tests judge: every order reaches exactly one terminal status
(``complete``, ``failed``, ``cancelled`` or ``refused``); a second terminal status for the same
order is counted in ``duplicate_terminal`` (exactly-once broken), a status for an order we never
sent in ``unknown_orders``, an unreadable status in ``bad_status``.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

import numpy as np

from bus import limits
from bus.clock import Instant, iso_timestamp, seconds
from bus.participant import ParticipantBase
from bus.topics import WMS_DELIVERY, wms_order_status_topic, wms_orders_topic
from bus.transport import Envelope
from bus.wms import TERMINAL_STATUSES
from warehouse_maps.layout import Layout

TERMINAL = TERMINAL_STATUSES
WMS_VERSION = "1.0.0"


@dataclass(frozen=True, slots=True)
class FeedOrder:
    """One order to send: id, ``(sku, quantity)`` lines, destination, and when to send it."""

    order_id: str
    lines: tuple[tuple[str, int], ...]
    destination: str
    send_at_s: float
    """Seconds after the feeder's start."""


def make_orders(
    layout: Layout,
    count: int,
    rng: np.random.Generator,
    *,
    rate_per_s: float,
    max_lines: int = 2,
    destinations: tuple[str, ...] = (),
) -> list[FeedOrder]:
    """``count`` seeded orders on ``layout``: SKUs are storage place ids (the controller's default
    inventory), destinations the layout's chutes (else ``c001``...``c010``), evenly spaced in time."""
    if count < 0 or rate_per_s <= 0:
        raise ValueError("need count >= 0 and rate_per_s > 0")
    skus = [p.id for p in layout.of_kind("storage")]
    if not skus:
        raise ValueError(f"layout {layout.name!r} has no storage places to order from")
    dests = (
        destinations
        or tuple(p.id for p in layout.of_kind("chute"))
        or tuple(f"c{i:03d}" for i in range(1, 11))
    )
    orders = []
    for i in range(count):
        n_lines = int(rng.integers(1, max_lines + 1))
        picked = rng.choice(len(skus), size=min(n_lines, len(skus)), replace=False)
        lines = tuple((skus[int(k)], 1) for k in sorted(picked))
        orders.append(FeedOrder(f"W{i + 1:05d}", lines, dests[int(rng.integers(len(dests)))], i / rate_per_s))
    return orders


class OrderFeeder(ParticipantBase):
    """Publishes ``orders`` on schedule from ``start`` and tracks their statuses.

    Args:
        site: site level of the WMS topics.
        orders: what to send (see :func:`make_orders`).
        start: instant of ``send_at_s == 0``.
    """

    def __init__(self, site: str, orders: list[FeedOrder], start: Instant) -> None:
        self.orders_topic = wms_orders_topic(site)  # both check the site level
        self.status_topic = wms_order_status_topic(site)
        self.orders = sorted(orders, key=lambda o: o.send_at_s)
        self.start = start
        self._next = 0
        self._header_id = 0
        self.latest: dict[str, str] = {}
        self.terminal: dict[str, str] = {}
        self.status_counts: Counter[str] = Counter()
        self.duplicate_terminal = 0
        self.unknown_orders = 0
        self.bad_status = 0
        self._ids = {o.order_id for o in orders}

    def subscriptions(self) -> list[tuple[str, int]]:
        """``(filter, qos)`` the runner subscribes to."""
        return [(self.status_topic, 1)]

    @property
    def sent(self) -> int:
        """Orders published so far."""
        return self._next

    def next_wakeup(self) -> Instant | None:
        """When the next order is due (None when all are sent)."""
        if self._next >= len(self.orders):
            return None
        return Instant(self.start + seconds(self.orders[self._next].send_at_s))

    def tick(self, now: Instant) -> list[Envelope]:
        """The orders due by ``now``."""
        out = []
        while (
            self._next < len(self.orders) and self.start + seconds(self.orders[self._next].send_at_s) <= now
        ):
            out.append(self._message(now, self.orders[self._next]))
            self._next += 1
        return out

    def _message(self, now: Instant, order: FeedOrder) -> Envelope:
        payload = {
            "headerId": self._header_id,
            "timestamp": iso_timestamp(now),
            "version": WMS_VERSION,
            "orderId": order.order_id,
            "lines": [{"sku": s, "quantity": q} for s, q in order.lines],
            "destination": order.destination,
            "priority": 0,
        }
        self._header_id += 1
        return Envelope(self.orders_topic, json.dumps(payload).encode(), *WMS_DELIVERY)

    def handle(self, now: Instant, msg: Envelope) -> list[Envelope]:
        """Count one status message; never raises on bad input."""
        if msg.topic != self.status_topic:
            return []
        try:
            data = limits.loads(msg.payload)  # a MessageRefused is a ValueError
            order_id, status = data["orderId"], data["status"]
            if not isinstance(order_id, str) or not isinstance(status, str):
                raise TypeError("orderId and status must be strings")
        except (ValueError, KeyError, TypeError):
            self.bad_status += 1
            return []
        self.status_counts[status] += 1
        if order_id not in self._ids:
            self.unknown_orders += 1
            return []
        self.latest[order_id] = status
        if status in TERMINAL:
            if order_id in self.terminal:
                self.duplicate_terminal += 1
            else:
                self.terminal[order_id] = status
        return []

    def all_sent(self) -> bool:
        """Every order has been published."""
        return self._next >= len(self.orders)

    def done(self) -> bool:
        """Every order sent and each has a terminal status."""
        return self.all_sent() and len(self.terminal) == len(self.orders)

    def summary(self) -> dict[str, object]:
        """Counts for logs, tests and benchmarks (plain JSON types)."""
        outcome = Counter(self.terminal.values())
        return {
            "orders": len(self.orders),
            "sent": self._next,
            "terminal": len(self.terminal),
            "outcome": dict(sorted(outcome.items())),
            "status_messages": dict(sorted(self.status_counts.items())),
            "duplicate_terminal": self.duplicate_terminal,
            "unknown_orders": self.unknown_orders,
            "bad_status": self.bad_status,
        }
