"""``bulletyard up`` as a user runs it: real processes on the secure broker, ready, fed, stopped.

The test plays the controller (``--without controller``, so orders end in seconds; the real
service under ``up``'s process set is exercised by ``test_controller_faults``): it answers every
WMS order with ``received`` then ``complete`` through the broker, so the feeder finishes and
``--exit-when-done`` ends the run. After ``up`` has stopped everything, the
broker is started again on the same persistent folder: every vehicle's and the sorter's retained
connection must say OFFLINE, which shows they were stopped cleanly, before the broker.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from bulletyard.secure_broker import SecureBrokerSetup
from bulletyard.supervisor import MosquittoProcess, bulletyard_argv
from tests.broker import require_mosquitto
from tests.e2e.clients import collect_until, login

pytestmark = pytest.mark.timeout(150)
ROBOTS = 3


def _lines(proc: subprocess.Popen[str]) -> queue.Queue[str]:
    q: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            q.put(line.rstrip("\n"))
        q.put("<eof>")

    threading.Thread(target=pump, daemon=True).start()
    return q


def _wait_line(q: queue.Queue[str], prefix: str, timeout_s: float, seen: list[str]) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            line = q.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        seen.append(line)
        if line.startswith(prefix):
            return line
        if line == "<eof>":
            break
    raise AssertionError(f"no line starting {prefix!r}; output so far:\n" + "\n".join(seen))


def _answer_orders(setup: SecureBrokerSetup, stop: threading.Event, answered: list[str]) -> None:
    """A stand-in controller: every order gets received, then complete."""
    c = login(setup, "controller", client_id="fake-controller")
    c.connect()
    c.subscribe(f"bulletyard/v1/{setup.site}/orders", qos=1)
    header = 0
    while not stop.is_set():
        c.wait(0.2)
        for msg in c.drain():
            order_id = json.loads(msg.payload)["orderId"]
            for status in ("received", "complete"):
                c.publish(f"bulletyard/v1/{setup.site}/orderStatus", json.dumps(
                    {"headerId": header, "timestamp": "2026-11-11T00:00:00.000Z", "version": "1.0.0",
                     "orderId": order_id, "status": status}).encode(), qos=1)
                header += 1
            answered.append(order_id)
    c.close()


def test_up_starts_everything_feeds_orders_and_stops_cleanly(tmp_path: Path) -> None:
    require_mosquitto()
    run = tmp_path / "up"
    proc = subprocess.Popen(
        bulletyard_argv("up", "--layout", "small-fc", "--robots", str(ROBOTS), "--dir", str(run),
                        "--without", "controller", "--orders", "4", "--rate", "4", "--exit-when-done",
                        "--ready-timeout", "60"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    seen: list[str] = []
    stop = threading.Event()
    answered: list[str] = []
    try:
        q = _lines(proc)
        _wait_line(q, "broker ready", 30, seen)
        setup = SecureBrokerSetup.load(run / "broker")
        fake = threading.Thread(target=_answer_orders, args=(setup, stop, answered), daemon=True)
        fake.start()
        _wait_line(q, "fleet ready: 3 vehicles ONLINE", 60, seen)
        _wait_line(q, "sorter ready", 60, seen)
        feeder = json.loads(_wait_line(q, "feeder: ", 90, seen).removeprefix("feeder: "))
        assert proc.wait(timeout=30) == 0, "\n".join(seen)
    finally:
        stop.set()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    assert feeder["outcome"] == {"complete": 4}
    assert feeder["duplicate_terminal"] == 0
    assert sorted(answered) == ["W00001", "W00002", "W00003", "W00004"]
    stopped = next(line for line in seen if line.startswith("stopped: "))
    assert stopped == "stopped: feeder 0, sorter 0, fleet 0, broker 0"

    # every participant said OFFLINE while the broker was still up (retained, persisted)
    broker = MosquittoProcess(setup.config_file, setup.tls_port, tmp_path / "again.log")
    broker.start_and_wait()
    try:
        monitor = login(setup, "monitor")
        monitor.connect()
        monitor.subscribe("uagv/v2/+/+/connection", qos=1)
        monitor.subscribe("bulletyard/v1/+/sorter/+/connection", qos=1)
        got = collect_until(monitor, lambda g: len(g) >= ROBOTS + 1, 10)
        monitor.close()
        states = {e.topic: json.loads(e.payload)["connectionState"] for e in got}
        assert len(states) == ROBOTS + 1
    finally:
        broker.stop()
    assert states.pop("bulletyard/v1/site1/sorter/sorter-1/connection") == "OFFLINE"
    assert set(states.values()) == {"OFFLINE"}, states


def test_up_refuses_bad_input_with_one_line() -> None:
    done = subprocess.run(bulletyard_argv("up", "--layout", "no-such-layout", "--robots", "2",
                                          "--without", "controller"),
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "no-such-layout" in done.stderr
    done = subprocess.run(bulletyard_argv("up", "--layout", "small-fc", "--robots", "0"),
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "--robots" in done.stderr
