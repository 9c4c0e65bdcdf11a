"""A controller killed mid-run and restarted on the same SQLite journal finishes every accepted
order exactly once (status ``complete`` published once per order over both lives)."""

from __future__ import annotations

import numpy as np
import pytest

from bus.inproc import InProcBroker
from controller.config import ControllerConfig
from controller.core import Controller
from controller.journal import Journal, Retention
from tests.unit.controller.fake_vehicle import FakeVehicle
from tests.unit.controller.harness import LockStep, with_wms
from tests.unit.controller.test_controller_orders import order, small_layout, submit

# the journal's retention at its harshest (no audit trail kept, a sweep after every record) must
# not lose what a restart of an open order reads
HARSHEST = Retention(events_max_rows=0, events_max_age_s=0.0, sweep_every=1)


@pytest.mark.parametrize("retention", [None, HARSHEST], ids=["default-retention", "harshest-retention"])
def test_restart_from_journal_completes_each_order_once(tmp_path, retention: Retention | None) -> None:
    db = tmp_path / "journal.sqlite"
    layout = small_layout()
    broker = InProcBroker()
    journal = Journal(db, retention=retention)
    assert journal.journal_mode() == "wal"
    ctl = Controller(ControllerConfig(), layout, np.random.default_rng(0), journal=journal)
    vehicles = [FakeVehicle(f"agv-{i + 1:04d}", layout.cell_centre_m((i, 2))) for i in range(3)]
    loop = LockStep(broker, ctl, vehicles)
    statuses = with_wms(loop, broker)
    ids = [f"o{i}" for i in range(8)]
    for i, oid in enumerate(ids):
        submit(loop, order(oid, ["S1", "S2", "S3"][i % 3]))

    def n_complete() -> int:
        loop.wms.dispatch()
        return sum(1 for s in statuses if s["status"] == "complete")

    def pod_on_a_robot() -> bool:
        return any(ctl.executor.robots[s].exec_stop > 0 for s in ctl.executor.robots)

    assert loop.run_until(lambda: n_complete() >= 2 and pod_on_a_robot(), 300)  # kill with a pod on a robot
    # kill: the old controller vanishes without any clean-up (its transport drops, journal not closed)
    loop.ctl_t.close(clean=False)
    journal2 = Journal(db, retention=retention)
    assert journal2.epoch == journal.epoch + 1
    ctl2 = Controller(ControllerConfig(), layout, np.random.default_rng(0), journal=journal2)
    assert ctl2.counters["recovered_orders"] >= 1
    loop.controller = ctl2
    loop.ctl_t = broker.client("controller-2")
    loop.ctl_t.connect()
    for topic_filter, qos in ctl2.subscriptions():
        loop.ctl_t.subscribe(topic_filter, qos=qos)  # retained connection messages rebuild the fleet
    loop._publish(loop.ctl_t, ctl2.on_connect(loop.now))
    assert loop.run_until(lambda: n_complete() >= len(ids), 900), ctl2.order_counts()
    completes = sorted(s["orderId"] for s in statuses if s["status"] == "complete")
    assert completes == sorted(ids)
    assert journal2.status_counts() == {"complete": len(ids)}
    assert loop.collisions == 0
