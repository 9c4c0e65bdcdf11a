"""``bulletyard up`` on a layout with a conveyor sorter: the controller drives it without being told.

Real processes on the generated secure broker: ``bulletyard serve`` with no config file, the
simulated fleet, the layout's sorting line (``bulletyard sorter --layout``: the stations' conveyor
puts each picked unit on the sorter) and the WMS feeder. Every fed order (each has a destination)
must go picked -> sorted -> complete exactly once; an order sent without a destination completes
when picked and is never sorted. No process may carry a broker password on its command line.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from bulletyard.secure_broker import generate_secure_broker
from bulletyard.supervisor import ProcessSupervisor, free_port
from bulletyard.system import System
from bus.clock import WallClock, iso_timestamp
from tests.broker import require_mosquitto
from tests.e2e.clients import collect_until, login
from warehouse_maps import load_layout

pytestmark = pytest.mark.timeout(300)
LAYOUT = str(Path(__file__).resolve().parents[1] / "assets" / "layouts" / "small-fc-sorter.yaml")
ORDERS = 3


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")


def test_up_sorts_orders_by_default_and_completes_orders_without_destination(tmp_path: Path) -> None:
    require_mosquitto()
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make the broker's certificates")
    setup = generate_secure_broker(tmp_path / "broker", robots=3, tls_port=free_port(), station_line=True)
    system = System(setup, tmp_path, layout=LAYOUT, robots=3, orders=ORDERS, rate_per_s=1.0,
                    sorting_line=True, transit_s=2.0,
                    fleet_args=["--visualization-interval", "0", "--state-interval", "5"])
    supervisor = ProcessSupervisor()
    try:
        system.start(supervisor, only=["broker", "controller", "fleet", "sorter"])
        assert "sortation on" in (system.logs / "controller.log").read_text()
        monitor = login(setup, "monitor", client_id="test-monitor")
        monitor.connect()
        monitor.subscribe(f"bulletyard/v1/{setup.site}/orderStatus", qos=1)
        wms = login(setup, "wms", client_id="test-wms")
        wms.connect()
        sku = load_layout(LAYOUT).of_kind("storage")[-1].id
        wms.publish(f"bulletyard/v1/{setup.site}/orders", json.dumps(
            {"headerId": 0, "timestamp": iso_timestamp(WallClock().now()), "version": "1.0.0",
             "orderId": "NO-DEST", "lines": [{"sku": sku, "quantity": 1}]}).encode(), qos=1)
        system.start(supervisor, only=["feeder"])
        feeder = system.child("feeder")

        def all_final(got: list) -> bool:
            done = {json.loads(e.payload)["orderId"] for e in got
                    if json.loads(e.payload)["status"] in ("complete", "failed", "refused")}
            return len(done) == ORDERS + 1

        got = collect_until(monitor, all_final, 240)
        deadline = time.monotonic() + 30
        while feeder.alive() and time.monotonic() < deadline:
            monitor.wait(0.5)
        passwords = [a.password for a in setup.accounts.values()]
        for name, child in system.children.items():
            if child.alive():
                assert not [p for p in passwords if p in _cmdline(child.pid)], name  # type: ignore[arg-type]
        monitor.close()
        wms.close()
    finally:
        system.close()
        supervisor.stop_all(10)
    history: dict[str, list[str]] = {}
    for e in got:
        body = json.loads(e.payload)
        history.setdefault(body["orderId"], []).append(body["status"])
    assert history.pop("NO-DEST")[-1] == "complete"
    assert "sorted" not in history.get("NO-DEST", [])
    assert len(history) == ORDERS, history
    for order_id, statuses in history.items():
        assert statuses.count("complete") == 1, (order_id, statuses)
        assert statuses.index("picked") < statuses.index("sorted") < statuses.index("complete"), statuses
    assert system.feeder_summary()["outcome"] == {"complete": ORDERS}  # type: ignore[index]
