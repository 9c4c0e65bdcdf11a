"""The ``broker`` fixture really runs a broker: Mosquitto's own clients talk through it.

Waits are deadlines on process output (the subscriber's SUBACK line, then its message), never
sleeps.
"""

from __future__ import annotations

import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.broker import MosquittoBroker

DEADLINE_S = 15.0

pytestmark = pytest.mark.broker


def _client(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (apt-get install -y mosquitto-clients)")
    return path


class LineReader:
    """Collects a process's stdout lines on a thread so the test can wait with a deadline."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()
        assert proc.stdout is not None
        self._thread = threading.Thread(target=self._pump, args=(proc.stdout,), daemon=True)
        self._thread.start()

    def _pump(self, stream: Iterator[str]) -> None:
        for line in stream:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for(self, predicate: str, deadline: float) -> list[str]:
        """Lines up to and including the first that contains ``predicate``; fails at the deadline."""
        seen = []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"no line containing {predicate!r} before the deadline; saw {seen}")
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                pytest.fail(f"process ended before printing {predicate!r}; saw {seen}")
            seen.append(line)
            if predicate in line:
                return seen


def _subscribe(broker: MosquittoBroker, topic: str, *extra: str) -> subprocess.Popen[str]:
    """``mosquitto_sub -d`` for one message; ``stdbuf -oL`` so its SUBACK line is not stuck in a buffer."""
    line_buffered = [stdbuf, "-oL"] if (stdbuf := shutil.which("stdbuf")) else []
    return subprocess.Popen(
        [*line_buffered, _client("mosquitto_sub"), "-h", "127.0.0.1", "-p", str(broker.port), "-t", topic,
         "-v", "-d", "-C", "1", "-W", str(int(DEADLINE_S)), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def _publish(broker: MosquittoBroker, topic: str, message: str, *extra: str) -> None:
    subprocess.run(
        [_client("mosquitto_pub"), "-h", "127.0.0.1", "-p", str(broker.port), "-t", topic, "-m", message,
         *extra],
        check=True, timeout=DEADLINE_S, capture_output=True,
    )


def test_publish_reaches_a_subscriber(broker: MosquittoBroker) -> None:
    deadline = time.monotonic() + DEADLINE_S
    sub = _subscribe(broker, "bulletyard/test/+")
    try:
        reader = LineReader(sub)
        reader.wait_for("Client", deadline)  # any debug line: the client is up
        reader.wait_for("SUBACK", deadline)
        _publish(broker, "bulletyard/test/one", "hello through the fixture", "-q", "1")
        lines = reader.wait_for("bulletyard/test/one hello through the fixture", deadline)
        assert lines[-1].endswith("bulletyard/test/one hello through the fixture")
        assert sub.wait(timeout=max(0.1, deadline - time.monotonic())) == 0
    finally:
        if sub.poll() is None:
            sub.kill()
            sub.wait()


def test_retained_message_waits_for_a_late_subscriber(broker: MosquittoBroker) -> None:
    _publish(broker, "bulletyard/test/retained", "still here", "-r")
    deadline = time.monotonic() + DEADLINE_S
    sub = _subscribe(broker, "bulletyard/test/#")
    try:
        lines = LineReader(sub).wait_for("still here", deadline)
        assert lines[-1] == "bulletyard/test/retained still here"
    finally:
        if sub.poll() is None:
            sub.kill()
            sub.wait()


def test_broker_writes_its_config_in_the_test_folder(broker: MosquittoBroker, tmp_path: Path) -> None:
    config = broker.config_path.read_text()
    assert f"listener {broker.port} 127.0.0.1" in config
    assert broker.config_path.is_relative_to(tmp_path)
    assert broker.proc is not None
    assert broker.proc.poll() is None
