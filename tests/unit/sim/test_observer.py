"""The KPI observer learns order outcomes from the WMS status topic and keeps open orders only."""

from __future__ import annotations

import json

from bus.clock import SIM_EPOCH, Instant, seconds
from bus.topics import wms_order_status_topic
from bus.transport import Envelope
from sim.kpi import KpiCollector
from sim.observer import KpiObserver


def _status(order_id: str, status: str, **extra: str) -> Envelope:
    body = {"orderId": order_id, "status": status, **extra}
    return Envelope(wms_order_status_topic("site1"), json.dumps(body).encode(), qos=1)


def test_an_ended_order_is_counted_and_forgotten() -> None:
    kpi = KpiCollector()
    observer = KpiObserver(kpi, "site1", SIM_EPOCH)
    kpi.order_arrived("o1", 0.0, 1)
    kpi.order_arrived("o2", 0.0, 1)
    for t_s, order_id, status in [(1, "o1", "picking"), (2, "o2", "picking"), (30, "o1", "complete"),
                                  (40, "o2", "failed")]:
        observer.handle(Instant(SIM_EPOCH + seconds(t_s)), _status(order_id, status, reason="x"))
        if t_s == 2:
            assert observer.statuses == {"o1": "picking", "o2": "picking"}
    assert observer.statuses == {}  # a shift of many hours keeps only the open orders
    assert observer.ended == {"complete": 1, "failed": 1}
    assert list(kpi.cycle_times_s) == [30.0]
    assert sum(kpi.failed.values()) == 1


def test_history_keeps_every_status_when_asked() -> None:
    observer = KpiObserver(KpiCollector(), "site1", SIM_EPOCH)
    observer.history = {}
    for status in ("picking", "picked", "complete"):
        observer.handle(SIM_EPOCH, _status("o1", status))
    assert observer.history == {"o1": ["picking", "picked", "complete"]}
    assert observer.statuses == {}
