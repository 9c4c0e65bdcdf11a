"""Interoperability: ``bulletyard serve`` drives vehicles it did not write (issue 21).

The vehicles are the open-source ``vda-5050-lib`` (npm) virtual AGV: its AgvController with its
VirtualAgvAdapter, VDA 5050 2.0, its own manufacturer and its own predefined actions. The
controller runs on ``small-fc`` with its built-in defaults; orders come in on the WMS topic.

Judged: the three vehicles join, every order reaches ``complete`` (exactly once), no vehicle is
lost. A failure names what the vehicles refused (their own error messages), so the report says
why. Both failed before the controller learnt vehicle profiles (see ``docs/vehicles.md`` for what
the vehicle refused at each step); both pass since main ``90cd7b6``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from bulletyard.feeder import make_orders
from tests.integration.serve_process import Wms, bulletyard, near_pods, serve_argv, stop
from tests.interop.virtual_agv import VirtualAgvs, vehicle_args
from warehouse_maps.catalog import load_layout

pytestmark = [pytest.mark.broker, pytest.mark.slow, pytest.mark.interop, pytest.mark.timeout(900)]

MANUFACTURER = "vda5050lib"
SERIALS = ["vagv-1", "vagv-2", "vagv-3"]
JOIN_DEADLINE_S = 60.0


def service_log(path: Path) -> list[dict]:
    """The service's JSON log lines so far."""
    return [json.loads(x) for x in path.read_text().splitlines() if x.startswith("{")]


def joined(log: Path) -> set[str]:
    """Serials the controller announced as joined."""
    return {s for x in service_log(log) for s in SERIALS if x["msg"].startswith(f"vehicle {s} joined")}


def lost(log: Path) -> list[str]:
    """The controller's 'vehicle ... lost' lines."""
    return [x["msg"] for x in service_log(log) if x["msg"].startswith("vehicle ") and " lost" in x["msg"]]


def why(agvs: VirtualAgvs, wms: Wms, log: Path) -> str:
    """What went wrong, from both sides: the vehicles' refusals and the controller's warnings."""
    refusals = {(r["error"]["errorType"], r["error"]["errorDescription"]) for r in agvs.rejections()}
    warnings = [x["msg"] for x in service_log(log) if x["level"] in ("WARNING", "ERROR")][:5]
    return (f"vehicle refusals {sorted(refusals)[:4]}; vehicle crashes {agvs.crashed()}; "
            f"controller warnings {warnings}; "
            f"last statuses {[(s['orderId'], s['status'], s.get('reason')) for s in wms.statuses[-4:]]}")


Feed = list[tuple[str, tuple[str, ...], float]]
"""``(orderId, SKUs, send_at_s)`` per order; seconds after the vehicles joined."""


def run_orders(broker, tmp_path: Path, orders: Feed, deadline_s: float) -> None:
    """Serve small-fc, start three virtual AGVs, send ``(orderId, skus, send_at_s)``, judge the outcome."""
    layout = load_layout("small-fc")
    log = tmp_path / "serve.log"
    agvs = VirtualAgvs(broker.port, MANUFACTURER, vehicle_args(layout, SERIALS), tmp_path / "vehicles")
    # built-in defaults, except the metrics port: a free one, so parallel runs do not collide
    service = bulletyard(*serve_argv(broker.url, tmp_path / "j.sqlite", "--metrics-port", "0"), log_path=log)
    wms = Wms(broker.url)
    try:
        wms.wait_for(lambda: joined(log) == set(SERIALS) or service.poll() is not None, JOIN_DEADLINE_S)
        assert service.poll() is None, f"bulletyard serve exited: {log.read_text()[-500:]}"
        assert joined(log) == set(SERIALS), (
            f"vehicles of manufacturer {MANUFACTURER!r} (vda-5050-lib {agvs.version}) never joined: "
            f"joined {sorted(joined(log))}; {why(agvs, wms, log)}")
        start = time.monotonic()
        pending = sorted(orders, key=lambda o: o[2])
        ids = {o[0] for o in orders}
        end = start + deadline_s
        while pending or not ids <= set(wms.terminal()):
            now = time.monotonic()
            while pending and pending[0][2] <= now - start:
                oid, skus, _ = pending.pop(0)
                wms.order(oid, *skus)
            assert not lost(log), f"a vehicle was lost: {lost(log)}; {why(agvs, wms, log)}"
            assert now < end, f"orders not terminal after {deadline_s} s: {why(agvs, wms, log)}"
            next_send = start + pending[0][2] if pending else end
            wms.pump(max(0.0, min(0.5, next_send - now)))
        wms.pump(1.0)  # a late second terminal status would show here
        terminal = wms.terminal()
        assert terminal == {oid: ["complete"] for oid in ids}, f"{terminal}; {why(agvs, wms, log)}"
        assert not lost(log), f"a vehicle was lost: {lost(log)}"
    finally:
        stop(service)
        agvs.stop()
        wms.close()


def test_three_virtual_agvs_complete_three_orders(broker, tmp_path: Path) -> None:
    pods = near_pods(load_layout("small-fc"), 3)
    run_orders(broker, tmp_path, [(f"I{i}", (pod,), 0.0) for i, pod in enumerate(pods)], deadline_s=300.0)


def test_three_virtual_agvs_complete_a_busy_feed_of_twelve_orders_at_1_per_s(broker, tmp_path: Path) -> None:
    feed = make_orders(load_layout("small-fc"), 12, np.random.default_rng(21), rate_per_s=1.0)
    orders = [(o.order_id, tuple(sku for sku, _ in o.lines), o.send_at_s) for o in feed]
    run_orders(broker, tmp_path, orders, deadline_s=600.0)
