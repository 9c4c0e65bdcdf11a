"""Real processes for the ``bulletyard serve`` tests: the service, a simulated fleet, a WMS client.

Why a module: the service tests start the same three parts in several ways (clean stop, kill and
restart). Processes log to files under the test's folder so a failure can be read afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bus.clock import WallClock, iso_timestamp
from bus.mqtt import MqttTransport
from bus.topics import wms_order_status_topic, wms_orders_topic
from warehouse_maps.layout import Layout, PlaceKind

REPO = Path(__file__).resolve().parents[2]
TERMINAL = ("complete", "failed", "cancelled", "refused")


def bulletyard(*argv: str, log_path: Path) -> subprocess.Popen:
    """``python -m bulletyard ARGV`` in its own process group, stdout and stderr to ``log_path``."""
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
    with open(log_path, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bulletyard", *argv],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def serve_argv(url: str, db: Path, *extra: str) -> list[str]:
    """The service on ``small-fc`` with a journal, JSON log lines and no metrics port unless given."""
    # no metrics port unless given: the default 9108 may be taken by another service on the machine
    return ["serve", "--broker", url, "--layout", "small-fc", "--db", str(db), "--log-format", "json",
            "--metrics-port", "-1", *extra]


def fleet_argv(url: str, count: int) -> list[str]:
    """``count`` kinematic vehicles on ``small-fc`` (state every 5 s at least, no visualization)."""
    return ["robots", "--broker", url, "--layout", "small-fc", "--count", str(count),
            "--state-interval", "5", "--visualization-interval", "0"]


def stop(proc: subprocess.Popen, timeout_s: float = 10.0) -> int | None:
    """SIGKILL the process group if it still runs; its exit status."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, 9)
        except ProcessLookupError:
            pass
    try:
        return proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return None


def near_pods(layout: Layout, n: int) -> list[str]:
    """The ``n`` storage places closest to a pick station: orders on them finish soonest."""
    stations = [p.cell for p in layout.of_kind(PlaceKind.PICK_STATION)]
    pods = layout.of_kind(PlaceKind.STORAGE)
    nearest = sorted(pods, key=lambda p: min(layout.grid.distance(p.cell, s) for s in stations))
    return [p.id for p in nearest[:n]]


class Wms:
    """A warehouse management system client: sends orders, records every order status it hears."""

    def __init__(self, url: str, site: str = "site1", client_id: str = "wms-test") -> None:
        self.site = site
        self.statuses: list[dict] = []
        self.transport = MqttTransport(url, client_id, clean_session=False)
        self.transport.connect()
        self.transport.subscribe(wms_order_status_topic(site), qos=1)
        self.transport.wait_ready(10.0)
        self._header = 0

    def wait_controller(self, timeout_s: float = 60.0) -> None:
        """Block until the service is subscribed: it asks the vehicles for their state once it is."""
        probe = MqttTransport(self.transport.url, f"{self.transport.client_id}-probe")
        probe.connect()
        try:
            probe.subscribe("uagv/v2/bulletyard/+/instantActions", qos=0)
            deadline = time.monotonic() + timeout_s
            while not any(b"stateRequest" in e.payload for e in probe.drain()):
                assert time.monotonic() < deadline, "the service never asked a vehicle for its state"
                probe.wait(0.2)
        finally:
            probe.close()

    def order(self, order_id: str, *skus: str) -> None:
        """Send a valid order with one line per SKU."""
        body = {"headerId": self._header, "timestamp": iso_timestamp(WallClock().now()), "version": "1.0.0",
                "orderId": order_id, "lines": [{"sku": s, "quantity": 1} for s in skus]}
        self._header += 1
        self.raw(json.dumps(body).encode())

    def raw(self, payload: bytes) -> None:
        """Send any bytes on the orders topic (QoS 1)."""
        self.transport.publish(wms_orders_topic(self.site), payload, qos=1)

    def pump(self, timeout_s: float) -> None:
        """Wait up to ``timeout_s`` for status messages and record them."""
        if self.transport.wait(timeout_s):
            self.statuses += [json.loads(e.payload) for e in self.transport.drain()]

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float) -> bool:
        """Pump until ``predicate()`` holds or the deadline passes."""
        deadline = time.monotonic() + timeout_s
        while not predicate():
            if time.monotonic() > deadline:
                return False
            self.pump(0.2)
        return True

    def terminal(self) -> dict[str, list[str]]:
        """orderId -> every terminal status heard for it, in order."""
        out: dict[str, list[str]] = {}
        for s in self.statuses:
            if s["status"] in TERMINAL:
                out.setdefault(s["orderId"], []).append(s["status"])
        return out

    def reason(self, order_id: str, status: str = "refused") -> str:
        """The reason given with ``status`` for ``order_id`` ('' if never heard)."""
        heard = (s["reason"] for s in self.statuses if s["orderId"] == order_id and s["status"] == status)
        return next(heard, "")

    def close(self) -> None:
        """Disconnect."""
        self.transport.close()
