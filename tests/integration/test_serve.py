"""``bulletyard serve`` as a real process on Mosquitto with a real simulated fleet process.

Covers: orders complete, bad orders are refused with a reason (malformed, duplicate, impossible),
Prometheus metrics are served, SIGTERM stops cleanly with exit 0, no password reaches the log,
and a SIGKILLed service restarted on the same journal completes every order exactly once,
including an order sent while it was down (its MQTT session is persistent). Bad command lines
exit 2 with one line and no traceback.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.broker import free_port
from tests.integration.serve_process import REPO, Wms, bulletyard, fleet_argv, near_pods, serve_argv, stop
from warehouse_maps.catalog import load_layout

pytestmark = [pytest.mark.broker, pytest.mark.timeout(300)]
ORDER_DEADLINE_S = 180.0


def test_serve_completes_refuses_reports_metrics_and_stops_on_sigterm(broker, tmp_path: Path) -> None:
    pods = near_pods(load_layout("small-fc"), 2)
    port = free_port()
    log = tmp_path / "serve.log"
    password_file = tmp_path / "password"  # the password is never on the command line
    password_file.write_text("Sekr1t@x\n")
    login = ["--username", "controller", "--password-file", str(password_file)]
    service = bulletyard(*serve_argv(broker.url, tmp_path / "j.sqlite", "--metrics-port", str(port), *login),
                         log_path=log)
    fleet = bulletyard(*fleet_argv(broker.url, 3), log_path=tmp_path / "fleet.log")
    wms = Wms(broker.url)
    try:
        wms.wait_controller()
        wms.order("A", pods[0])
        wms.order("B", pods[1])
        wms.raw(b"{not json")
        wms.raw(json.dumps({"orderId": "C", "lines": [{"sku": pods[0], "quantity": 0}]}).encode())
        wms.order("D", "no-such-sku")
        wms.order("A", pods[0])
        def both_complete() -> bool:
            t = wms.terminal()
            return "complete" in t.get("A", []) and "complete" in t.get("B", [])

        done = wms.wait_for(both_complete, ORDER_DEADLINE_S)
        assert done, f"orders did not complete: {wms.statuses[-6:]}"
        terminal = wms.terminal()
        assert terminal["A"] == ["refused", "complete"] or terminal["A"] == ["complete", "refused"]
        assert wms.reason("A").startswith("duplicate")
        assert terminal["B"] == ["complete"]
        assert wms.reason("").startswith("malformed: message: Invalid JSON")
        assert wms.reason("C").startswith("malformed: headerId: Field required")
        assert "lines.0.quantity: Input should be greater than or equal to 1" in wms.reason("C")
        assert wms.reason("D").startswith("impossible: lines[0].sku 'no-such-sku'")

        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        assert 'bulletyard_orders{state="complete"} 2' in text
        # only D became an order; A's duplicate and the two malformed ones are refused messages
        assert 'bulletyard_orders{state="refused"} 1' in text
        assert 'bulletyard_events_total{event="orders_refused"} 4' in text
        assert 'bulletyard_robots{state="idle"}' in text
        assert "bulletyard_reaction_seconds_count" in text
        assert int(text.split("\nprocess_resident_memory_bytes ")[1].split()[0]) > 10 * 2**20

        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=20) == 0
        lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
        assert any(x["msg"].startswith("stopped: orders") for x in lines)
        assert "Sekr1t" not in log.read_text()
        assert "sortation off" in log.read_text()  # small-fc has no sorter
    finally:
        stop(service)
        stop(fleet)
        wms.close()


def test_serve_killed_and_restarted_on_its_journal_completes_each_order_once(broker, tmp_path: Path) -> None:
    pods = near_pods(load_layout("small-fc"), 4)
    db = tmp_path / "j.sqlite"
    log = tmp_path / "serve.log"
    service = bulletyard(*serve_argv(broker.url, db), log_path=log)
    fleet = bulletyard(*fleet_argv(broker.url, 3), log_path=tmp_path / "fleet.log")
    wms = Wms(broker.url)
    try:
        wms.wait_controller()
        for i, pod in enumerate(pods[:3]):
            wms.order(f"K{i}", pod)
        assert wms.wait_for(lambda: any(s["status"] == "picking" for s in wms.statuses), ORDER_DEADLINE_S)
        stop(service)  # SIGKILL: no clean-up at all
        wms.order("K3", pods[3])  # sent while the service is down: the broker keeps it for the session
        service = bulletyard(*serve_argv(broker.url, db), log_path=log)
        ids = {f"K{i}" for i in range(4)}
        assert wms.wait_for(lambda: ids <= set(wms.terminal()), ORDER_DEADLINE_S), wms.statuses[-6:]
        wms.pump(1.0)  # a late duplicate would show up here
        assert wms.terminal() == {oid: ["complete"] for oid in sorted(ids)}
    finally:
        stop(service)
        stop(fleet)
        wms.close()


CLOSED = ["--broker", "mqtt://127.0.0.1:1", "--layout", "small-fc"]


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--broker", "http://x:1", "--layout", "small-fc"], "unsupported scheme"),
        (["--broker", "mqtt://127.0.0.1:1", "--layout", "no-such-layout"], "no-such-layout"),
        ([*CLOSED, "--config", "missing.yaml"], "missing.yaml"),
        ([*CLOSED, "--password-file", "nope"], "nope"),
        (["--broker", "mqtt://u:pw123@127.0.0.1:1", "--layout", "small-fc", "--metrics-port", "-1"],
         "cannot reach"),
        (["--broker", "mqtt://u:pw@123@127.0.0.1:1", "--layout", "small-fc", "--metrics-port", "-1"],
         "cannot reach"),
        ([*CLOSED, "--sortation", "on"], "has no sorter"),
        ([*CLOSED, "--metrics-host", "192.0.2.1", "--metrics-port", "0"], "metrics: cannot listen"),
    ],
)
def test_serve_bad_command_line_is_one_line_and_exit_2(argv: list[str], needle: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bulletyard", "serve", *argv],
        cwd=tmp_path,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert "pw123" not in result.stderr
    assert "123@" not in result.stderr  # a password holding '@' is hidden whole
