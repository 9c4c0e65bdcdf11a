"""Bad input from real clients to the controller service, over the secure broker.

``mosquitto_pub`` sends malformed JSON, schema-invalid messages, empty and huge payloads as a
vehicle on its own ``state``/``factsheet`` topics (what a buggy vehicle could do; the ACLs allow
it) and as the WMS on the orders topic, three times over. The controller must keep serving (a
valid order is still received and answered), refuse every bad order with a reason on the status
topic, log each kind of bad vehicle message once (then only count it), and never print a
traceback.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from bulletyard.system import System
from tests.e2e.clients import collect_until, login, mosquitto_login
from tests.e2e.running import running_system

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(shutil.which("mosquitto_pub") is None, reason="mosquitto_pub is not installed"),
]
BIG_BYTES = 3 * 1024 * 1024


def _pub(system: System, user: str, topic: str, payload: list[str]) -> None:
    s = system.setup
    argv = ["mosquitto_pub", "-h", s.host, "-p", str(s.tls_port), "--cafile", str(s.ca_file),
            "-q", "1", "-t", topic, *payload]
    env = mosquitto_login(s, user, system.folder)
    done = subprocess.run(argv, capture_output=True, timeout=30, check=False, env=env)
    assert done.returncode == 0, done.stderr


def test_controller_refuses_bad_messages_logs_each_once_and_keeps_serving(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b'{"x": "' + b"a" * BIG_BYTES + b'"}')
    with running_system(tmp_path, parts=("broker", "controller", "fleet")) as system:
        site = system.setup.site
        wms = login(system.setup, "wms", client_id="bad-input-wms")
        wms.connect()
        wms.subscribe(f"bulletyard/v1/{site}/orderStatus", qos=1)
        vehicle = [
            ("uagv/v2/bulletyard/agv-0001/state", ["-m", "{not json"]),
            ("uagv/v2/bulletyard/agv-0001/state", ["-m", '{"orderId": 5, "nodeStates": "x"}']),
            ("uagv/v2/bulletyard/agv-0001/state", ["-f", str(big)]),
            ("uagv/v2/bulletyard/agv-0001/factsheet", ["-m", "[]"]),
        ]
        orders = [
            ["-m", "{not json"],
            ["-m", '{"orderId": "X1", "lines": "none"}'],
            ["-f", str(big)],
        ]
        for _ in range(3):
            for topic, payload in vehicle:
                _pub(system, "agv-0001", topic, payload)
            for payload in orders:
                _pub(system, "wms", f"bulletyard/v1/{site}/orders", payload)
        good = {"headerId": 0, "timestamp": "2026-11-11T00:00:00.000Z", "version": "1.0.0",
                "orderId": "GOOD-1", "lines": [{"sku": "P1", "quantity": 1}]}
        wms.publish(f"bulletyard/v1/{site}/orders", json.dumps(good).encode(), qos=1)

        def heard_good(got) -> bool:  # noqa: ANN001
            return any(json.loads(e.payload)["orderId"] == "GOOD-1" for e in got)

        statuses = [json.loads(e.payload) for e in collect_until(wms, heard_good, 60)]
        wms.close()
        controller = system.child("controller")
        assert controller.alive(), controller.log_tail()
        log_text = (system.logs / "controller.log").read_text()

    refused = [s for s in statuses if s["status"] == "refused"]
    assert len(refused) == 3 * len(orders), statuses
    assert all(s["reason"].startswith("malformed") for s in refused), refused
    assert any("exceeds" in s["reason"] for s in refused)  # the huge one names its size
    assert {"orderId": "GOOD-1", "status": "received"}.items() <= next(
        s for s in statuses if s["orderId"] == "GOOD-1").items()
    rejected = [line for line in log_text.splitlines() if "rejected message on" in line]
    assert rejected, "the controller logged none of the bad vehicle messages"
    assert len(rejected) == len({line.split("rejected message on", 1)[1] for line in rejected}), rejected
    assert "Traceback" not in log_text
