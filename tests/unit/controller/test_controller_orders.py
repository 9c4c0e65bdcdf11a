"""Controller end to end on a small layout: orders in, pod trips driven by fake vehicles, status out.

Layout (S storage/pod, P pick station, p parking):

    S . S . S . . .
    . . . . . . . .
    p p p C . P . .
    . . . . . . . .
"""

from __future__ import annotations

import json

import numpy as np

from bus.inproc import InProcBroker
from bus.topics import wms_orders_topic
from controller.config import ControllerConfig
from controller.core import Controller
from controller.journal import Journal
from controller.orders.stock import dedicated_stock
from tests.unit.controller.fake_vehicle import FakeVehicle
from tests.unit.controller.harness import LockStep, with_wms
from warehouse_maps.grid import Grid
from warehouse_maps.layout import Layout, Place, PlaceKind

ROWS = ["........"] * 4


def small_layout() -> Layout:
    places = (
        Place("S1", PlaceKind.STORAGE, (0, 0)),
        Place("S2", PlaceKind.STORAGE, (2, 0)),
        Place("S3", PlaceKind.STORAGE, (4, 0)),
        Place("P1", PlaceKind.PICK_STATION, (5, 2)),
        Place("p1", PlaceKind.PARKING, (0, 2)),
        Place("p2", PlaceKind.PARKING, (1, 2)),
        Place("p3", PlaceKind.PARKING, (2, 2)),
        Place("C1", PlaceKind.CHARGER, (3, 2)),
    )
    return Layout("test", Grid.from_rows(ROWS), places, 1.0, ())


def order(order_id: str, *skus: str) -> bytes:
    return json.dumps(
        {
            "headerId": 0,
            "timestamp": "2026-11-11T00:00:00.000Z",
            "version": "1.0.0",
            "orderId": order_id,
            "lines": [{"sku": s, "quantity": 1} for s in skus],
        }
    ).encode()


def make(
    n_vehicles: int = 2, broker: InProcBroker | None = None, journal: Journal | None = None,
    layout: Layout | None = None, **cfg
) -> tuple[LockStep, list[dict]]:
    layout = layout or small_layout()
    ctl = Controller(  # one SKU per pod: these tests follow a SKU to its one pod
        ControllerConfig(**cfg), layout, np.random.default_rng(0), journal=journal,
        inventory=dedicated_stock(layout),
    )
    broker = broker or InProcBroker()
    vehicles = [FakeVehicle(f"agv-{i + 1:04d}", layout.cell_centre_m((i, 2))) for i in range(n_vehicles)]
    loop = LockStep(broker, ctl, vehicles)
    statuses = with_wms(loop, broker)
    return loop, statuses


def submit(loop: LockStep, payload: bytes) -> None:
    loop.wms.publish(wms_orders_topic("site1"), payload, qos=1)


def final_status(statuses: list[dict], order_id: str) -> str | None:
    found = [s["status"] for s in statuses if s["orderId"] == order_id]
    return found[-1] if found else None


def test_orders_complete_exactly_once() -> None:
    loop, statuses = make(2)
    for i, sku in enumerate(["S1", "S2", "S3", "S1"]):
        submit(loop, order(f"o{i}", sku))

    def done() -> bool:
        loop.wms.dispatch()
        return all(final_status(statuses, f"o{i}") == "complete" for i in range(4))

    assert loop.run_until(done, 400), (loop.controller.order_counts(), statuses[-5:])
    completes = [s["orderId"] for s in statuses if s["status"] == "complete"]
    assert sorted(completes) == ["o0", "o1", "o2", "o3"]
    assert loop.controller.order_counts() == {"complete": 4}


def test_no_collision_in_normal_run() -> None:
    loop, statuses = make(3)
    for i, sku in enumerate(["S1", "S2", "S3"]):
        submit(loop, order(f"o{i}", sku))
    loop.run_until(lambda: loop.controller.order_counts() == {"complete": 3}, 400)
    assert loop.controller.order_counts() == {"complete": 3}
    assert loop.collisions == 0


def test_finished_orders_leave_memory_and_a_replay_is_still_refused(monkeypatch, tmp_path) -> None:
    """Over a long shift only open orders are kept; a finished order's id stays refused, from the
    window of recent ids and, beyond it, from the journal."""
    import controller.ledger as ledger

    monkeypatch.setattr(ledger, "RECENT_FINISHED_ORDERS", 1)
    loop, statuses = make(2, journal=Journal(tmp_path / "j.sqlite"))
    ctl = loop.controller
    for i, sku in enumerate(["S1", "S2", "S3"]):
        submit(loop, order(f"o{i}", sku))

    def done() -> bool:
        loop.wms.dispatch()
        return all(final_status(statuses, f"o{i}") == "complete" for i in range(3))

    assert loop.run_until(done, 400), (ctl.order_counts(), statuses[-5:])
    assert ctl.ledger.orders == {}  # nothing finished is held
    recent = list(ctl.ledger._finished)
    assert len(recent) == 1  # the window keeps the latest only (patched to 1)
    older = next(f"o{i}" for i in range(3) if f"o{i}" not in recent)
    assert ctl.order_counts() == {"complete": 3}
    for oid in (recent[0], older):  # one from the window, one from the journal
        submit(loop, order(oid, "S1"))
        loop.run_until(lambda oid=oid: (loop.wms.dispatch(), final_status(statuses, oid) == "refused")[1], 5)
        assert final_status(statuses, oid) == "refused"
    assert ctl.order_counts() == {"complete": 3}
