"""The WMS order feeder: schedule, status counting, exactly-once bookkeeping, bad status input."""

from __future__ import annotations

import json

import numpy as np

from bulletyard.feeder import OrderFeeder, make_orders
from bus.clock import SIM_EPOCH, Instant, seconds
from bus.transport import Envelope
from warehouse_maps import load_layout

STATUS = "bulletyard/v1/site1/orderStatus"


def _status(order_id: str, status: str) -> Envelope:
    payload = {"headerId": 0, "timestamp": "2026-11-11T00:00:00.000Z", "version": "1.0.0",
               "orderId": order_id, "status": status}
    return Envelope(STATUS, json.dumps(payload).encode(), 1)


def test_orders_are_seeded_valid_and_spaced_by_the_rate() -> None:
    layout = load_layout("small-fc")
    a = make_orders(layout, 10, np.random.default_rng(3), rate_per_s=2.0)
    b = make_orders(layout, 10, np.random.default_rng(3), rate_per_s=2.0)
    c = make_orders(layout, 10, np.random.default_rng(4), rate_per_s=2.0)
    assert a == b
    assert a != c
    storage = {p.id for p in layout.of_kind("storage")}
    assert all(sku in storage for o in a for sku, _ in o.lines)
    assert [o.send_at_s for o in a] == [i / 2.0 for i in range(10)]


def test_feeder_sends_on_schedule_and_counts_each_order_once() -> None:
    orders = make_orders(load_layout("small-fc"), 3, np.random.default_rng(1), rate_per_s=1.0)
    feeder = OrderFeeder("site1", orders, SIM_EPOCH)
    assert [json.loads(e.payload)["orderId"] for e in feeder.tick(SIM_EPOCH)] == ["W00001"]
    assert feeder.next_wakeup() == Instant(SIM_EPOCH + seconds(1))
    sent = feeder.tick(Instant(SIM_EPOCH + seconds(5)))
    assert [e.qos for e in sent] == [1, 1]
    assert feeder.all_sent()
    assert feeder.next_wakeup() is None
    for oid in ("W00001", "W00002", "W00003"):
        feeder.handle(SIM_EPOCH, _status(oid, "received"))
        feeder.handle(SIM_EPOCH, _status(oid, "complete"))
    assert feeder.done()
    feeder.handle(SIM_EPOCH, _status("W00002", "complete"))  # a second terminal status: not exactly once
    feeder.handle(SIM_EPOCH, _status("X1", "complete"))
    feeder.handle(SIM_EPOCH, Envelope(STATUS, b"{not json", 1))
    feeder.handle(SIM_EPOCH, Envelope(STATUS, b'{"orderId": 5, "status": "complete"}', 1))
    summary = feeder.summary()
    assert summary["outcome"] == {"complete": 3}
    assert summary["duplicate_terminal"] == 1
    assert summary["unknown_orders"] == 1
    assert summary["bad_status"] == 2
