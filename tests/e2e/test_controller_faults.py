"""Crashes with the real controller service: kill -9 the controller or the fleet mid-run.

Each run is small (small-fc, three vehicles, four one-line orders) and bounded by deadlines.
Orders are counted from the WMS ``orderStatus`` topic by a ``monitor`` login: every order must
end ``complete`` exactly once.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from bulletyard.system import System
from tests.e2e.clients import login
from tests.e2e.running import SERIALS, running_system

pytestmark = pytest.mark.timeout(300)
ORDERS = 4
RUN_DEADLINE_S = 240.0
SMALL_ORDERS = ["--max-lines", "1"]
PARTS = ("broker", "controller", "fleet", "sorter", "feeder")


class StatusCounter:
    """Terminal statuses per order from the orderStatus topic (monitor login)."""

    def __init__(self, system: System) -> None:
        self.client = login(system.setup, "monitor", client_id="status-counter", clean_session=False)
        self.client.connect()
        self.client.subscribe(f"bulletyard/v1/{system.setup.site}/orderStatus", qos=1)
        self.terminal: dict[str, list[str]] = {}

    def pump(self, timeout_s: float) -> None:
        self.client.wait(timeout_s)
        for msg in self.client.drain():
            data = json.loads(msg.payload)
            if data["status"] in ("complete", "failed", "cancelled", "refused"):
                self.terminal.setdefault(data["orderId"], []).append(data["status"])

    def done(self) -> bool:
        return len(self.terminal) >= ORDERS


def _run_until_done(counter: StatusCounter, system: System, actions: dict[float, str]) -> None:
    start = time.monotonic()
    pending = sorted(actions.items())
    while not counter.done() and time.monotonic() - start < RUN_DEADLINE_S:
        if pending and time.monotonic() - start >= pending[0][0]:
            _, action = pending.pop(0)
            name, verb = action.split(":")
            child = system.child(name)
            if verb == "kill":
                child.kill()
            else:
                child.start()
        counter.pump(0.2)


def test_controller_killed_twice_and_fleet_once_every_order_completes_exactly_once(tmp_path: Path) -> None:
    """kill -9 the controller twice and the fleet process once, at seeded random moments, in one run.

    The controller restarts on its journal; the fleet's vehicles go CONNECTIONBROKEN by their wills,
    their trips go back to the pool, and they rejoin when the fleet process is started again.
    """
    rng = np.random.default_rng(10)
    t1, t2, t3 = sorted(rng.uniform(3, 25, size=3))
    with running_system(tmp_path, parts=PARTS, orders=ORDERS, feeder_args=SMALL_ORDERS) as system:
        counter = StatusCounter(system)
        watcher = login(system.setup, "monitor", client_id="will-watcher")
        watcher.connect()
        watcher.subscribe("uagv/v2/bulletyard/+/connection", qos=1)
        _run_until_done(
            counter,
            system,
            {
                t1: "controller:kill",
                t1 + 1: "controller:start",
                t2 + 2: "fleet:kill",
                t2 + 5: "fleet:start",
                t3 + 6: "controller:kill",
                t3 + 7: "controller:start",
            },
        )
        states = [json.loads(m.payload)["connectionState"] for m in watcher.drain()]
        watcher.close()
        assert system.child("controller").starts == 3
        assert system.child("fleet").starts == 2
    assert states.count("CONNECTIONBROKEN") >= len(SERIALS)
    assert counter.terminal == {f"W{i:05d}": ["complete"] for i in range(1, ORDERS + 1)}
