"""The order ledger: every WMS order the controller received, its status, and the answers.

Why one part: an order is accepted exactly once or refused with a reason, moves through its
statuses in one place (each change journalled and announced on the status topic), and leaves
memory once final (a site runs for months) while its id still refuses a replay.
"""

from __future__ import annotations

import logging
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bus import wire_json
from bus.clock import Instant, iso_timestamp
from bus.header import HeaderIds
from bus.topics import WMS_DELIVERY, wms_order_status_topic
from bus.transport import Envelope
from bus.wms import TERMINAL_STATUSES, WMS_PROTOCOL_VERSION
from controller.journal import Journal
from controller.orders.model import Order, OrderRefused
from controller.orders.wire import decode_order
from controller.sortation.link import SortationLink, SorterNews
from controller.tasks.operations import Operations

log = logging.getLogger("bulletyard.controller")

RECENT_FINISHED_ORDERS = 100_000
"""Finished order ids kept in memory to refuse a replayed order; older ones are looked up in the
journal (without one, a replay of an order older than this is accepted again)."""


@dataclass
class OrderRecord:
    """An open order: its status and how many of its lines are not yet picked at a station."""

    order_id: str
    status: str
    lines_open: int
    destination: str | None = None  # where its parcel is sorted to (robotic sortation, mixed site)


class OrderLedger:
    """Open orders, recently finished ids, and the status messages to the WMS.

    Args:
        site: the site's topic level (the status topic).
        ops: the operations, which take accepted orders' lines.
        sortation: the link to the sorter at a sorting site (None elsewhere).
        journal: an open :class:`controller.journal.Journal`, or None.
        counters: the controller's event counters (shared).
    """

    def __init__(
        self,
        site: str,
        ops: Operations,
        sortation: SortationLink | None,
        journal: Journal | None,
        counters: Counter[str],
    ) -> None:
        self.status_topic = wms_order_status_topic(site)
        self.ops = ops
        self.sortation = sortation
        self.journal = journal
        self.counters = counters
        self.headers = HeaderIds()
        self.parcel_pending: Callable[[str], bool] = lambda order_id: False  # set at a mixed site
        self.orders: dict[str, OrderRecord] = {}  # open orders only
        self._finished: OrderedDict[str, None] = OrderedDict()  # the most recent finished order ids
        self._finished_counts: Counter[str] = Counter()

    def receive(self, now: Instant, order: Order, payload: bytes) -> list[Envelope]:
        """Accept a decoded order once, or refuse it (a replayed id, lines the stock or the
        sorter cannot serve) with a reason."""
        if self.known(order.id):
            self.counters["orders_refused"] += 1
            return [self.status(now, order.id, "refused", "duplicate: orderId already received")]
        try:
            self.ops.check(order)
            if self.sortation is not None:
                self.sortation.check(order)
        except OrderRefused as err:
            self._finish(order.id, "refused")
            self.counters["orders_refused"] += 1
            self.record("order", order.id, "refused", reason=str(err))
            return [self.status(now, order.id, "refused", str(err))]
        self.orders[order.id] = OrderRecord(order.id, "received", len(order.lines), order.destination)
        if self.sortation is not None:
            self.sortation.register(order)
        self.ops.accept(order, now)
        self.counters["orders_accepted"] += 1
        self.record("order", order.id, "received", payload=payload.decode())
        return [self.status(now, order.id, "received", "")]

    def unreadable(self, now: Instant, order_id: str | None, reason: str) -> list[Envelope]:
        """Refuse a payload that is not a valid order (named by its orderId when it has one); the
        caller logs it (once per kind: a WMS sending garbage must not flood the log)."""
        self.counters["orders_refused"] += 1
        return [self.status(now, order_id or "", "refused", reason)]

    def set_status(self, now: Instant, order_id: str, status: str, reason: str = "") -> list[Envelope]:
        """Move an open order to ``status`` (journalled and announced); nothing if unchanged."""
        rec = self.orders.get(order_id)
        if rec is None or rec.status == status:
            return []
        rec.status = status
        if status in TERMINAL_STATUSES:
            self._finish(order_id, status)
        self.record("order", order_id, status, reason=reason)
        return [self.status(now, order_id, status, reason)]

    def picked(self, now: Instant, order_ids: Iterable[str]) -> list[Envelope]:
        """Every line of these orders is picked at a station."""
        out: list[Envelope] = []
        for oid in order_ids:
            rec = self.orders.get(oid)
            if rec is None:
                continue
            rec.lines_open = 0
            out.extend(self.set_status(now, oid, "picked"))
            out.extend(self._complete_if_done(now, oid))
        return out

    def parcel_sorted(self, now: Instant, order_id: str) -> list[Envelope]:
        """A mixed site: the order's parcel is in a chute of its destination (``sorted``, then
        ``complete``)."""
        return self.set_status(now, order_id, "sorted") + self._complete_if_done(now, order_id)

    def sorter_news(self, now: Instant, news: SorterNews) -> list[Envelope]:
        """Journal what a sorter message changed; orders whose last unit went on the line or into
        its chute move on."""
        out = news.replies
        for order_id, sorter_id, item_id, label in news.items:
            self.record("item", item_id, "inducted", sorter_id=sorter_id, label=label, order_id=order_id)
        for order_id, label in news.units_sorted:
            self.record("unit", label, "sorted", order_id=order_id)
        for order_id in news.all_inducted:
            rec = self.orders.get(order_id)
            if rec is not None and rec.status == "picked":  # never back from sorted
                out.extend(self.set_status(now, order_id, "inducted"))
        for order_id in news.all_sorted:
            out.extend(self.set_status(now, order_id, "sorted"))
            out.extend(self._complete_if_done(now, order_id))
        return out

    def fail(self, now: Instant, order_ids: Iterable[str], reason: str) -> tuple[list[Envelope], set[str]]:
        """``failed`` with ``reason`` for each order not yet final (their lines leave the
        operations); returns the status messages and the orders failed."""
        records = [self.orders.get(oid) for oid in order_ids]
        failed = {rec.order_id for rec in records if rec is not None}
        out: list[Envelope] = []
        for oid in sorted(failed):
            log.warning("order %s failed: %s", oid, reason)
            self.counters["orders_failed"] += 1
            out.extend(self.set_status(now, oid, "failed", reason))
        if failed:
            self.ops.drop_orders(failed)
        return out, failed

    def counts(self) -> dict[str, int]:
        """Orders by status (for metrics and reports), finished ones included."""
        counts = Counter(r.status for r in self.orders.values()) + self._finished_counts
        return dict(sorted(counts.items()))

    def known(self, order_id: str) -> bool:
        """True when ``order_id`` was received before (open, recently finished, or journalled)."""
        if order_id in self.orders or order_id in self._finished:
            return True
        return self.journal is not None and self.journal.has_order(order_id)

    def record(self, kind: str, key: str, status: str, **extra: str) -> None:
        """Write one line to the journal (when there is one)."""
        if self.journal is not None:
            self.journal.record(kind, key, status, **extra)

    def recover(self) -> list[tuple[str, str]]:
        """Rebuild orders from the journal: finished orders stay finished; orders wholly picked
        before the restart wait for their sorting only; the others go back to the backlog with all
        their lines (which lines an earlier visit picked is not journalled, nor is stock or where
        pods stand: a restart starts from the configured stock, see ``docs/operations.md``).
        Returns the (order, status) pairs completed here, to announce once connected."""
        recovered: list[tuple[str, str]] = []
        journal = self.journal
        if journal is None:  # nothing was journalled
            return recovered
        for status, count in journal.status_counts().items():
            if status in TERMINAL_STATUSES:
                self._finished_counts[status] += count  # their ids stay in the journal only
        held = journal.held_trips()
        if held:
            self.counters["trips_lost_in_restart"] = len(held)
            log.warning("%d trips were under way at the restart; their orders start again", len(held))
        for order_id, status, payload in journal.open_orders():
            order = decode_order(payload.encode())
            if not isinstance(order, Order):  # a journal is written by us: a bug, not bad input
                raise ValueError(f"journalled order {order_id} does not decode: {order.reason}")
            picked = status in ("picked", "inducted", "sorted")
            self.orders[order_id] = OrderRecord(order_id, status, 0 if picked else len(order.lines))
            if self.sortation is not None and order.destination is not None:
                self.sortation.register(order, journal.sorted_units(order_id),
                                        journal.items_on_line(order_id))
            if picked and (self.sortation is None or self.sortation.all_sorted(order_id)):
                self._finish(order_id, "complete")
                journal.record("order", order_id, "complete")
                recovered.append((order_id, "complete"))
                self.counters["orders_completed"] += 1
                continue
            if not picked:
                self.ops.accept(order, Instant(0))
        self.counters["recovered_orders"] = len(self.orders)
        return recovered

    def status(self, now: Instant, order_id: str, status: str, reason: str) -> Envelope:
        """A status message to the WMS (QoS 1, not retained) with the next header id."""
        body = {
            "headerId": self.headers.next(self.status_topic),
            "timestamp": iso_timestamp(now),
            "version": WMS_PROTOCOL_VERSION,
            "orderId": order_id,
            "status": status,
            "reason": reason,
        }
        return Envelope(self.status_topic, wire_json.dumps(body), *WMS_DELIVERY)

    def _complete_if_done(self, now: Instant, order_id: str) -> list[Envelope]:
        """``complete`` once every line of the order is picked and, at a sorting site, every unit
        is sorted (whichever comes last)."""
        rec = self.orders.get(order_id)
        if rec is None or rec.lines_open > 0:
            return []
        if self.sortation is not None and not self.sortation.all_sorted(order_id):
            return []
        if self.parcel_pending(order_id):
            return []  # a mixed site: its parcel is on its way to a chute
        self.counters["orders_completed"] += 1
        return self.set_status(now, order_id, "complete")

    def _finish(self, order_id: str, status: str) -> None:
        """The order reached a final status: it leaves the open records and the sortation's
        (memory stays flat over a long shift) and joins the window of recent ids that refuses replays."""
        self.orders.pop(order_id, None)
        if self.sortation is not None:
            self.sortation.forget(order_id)
        self._finished_counts[status] += 1
        self._finished[order_id] = None
        if len(self._finished) > RECENT_FINISHED_ORDERS:
            self._finished.popitem(last=False)
