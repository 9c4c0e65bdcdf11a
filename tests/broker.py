"""A real Mosquitto broker for tests: free loopback port, generated config, started and stopped.

The config listens on 127.0.0.1 only and keeps persistence off (or in the test's own temp
folder when a test asks for it), so nothing is written where the ``mosquitto`` user cannot
write. Readiness is detected by connecting to the port before a deadline, never by sleeping.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

SEARCH_PATHS = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/usr/bin/mosquitto")


def find_mosquitto() -> str | None:
    """Path of the ``mosquitto`` binary, or None."""
    found = shutil.which("mosquitto")
    if found:
        return found
    for candidate in SEARCH_PATHS:
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def require_mosquitto() -> str:
    """The broker binary; skips locally when absent, fails loudly under CI."""
    path = find_mosquitto()
    if path is None:
        message = "mosquitto is not installed (apt-get install -y mosquitto)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}: broker tests must not skip in CI")
        pytest.skip(message)
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` different TCP ports on 127.0.0.1, free right now: all are held open until the
    last is chosen (one at a time, the system may hand out the same port twice)."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            s = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            s.bind(("127.0.0.1", 0))
            ports.append(int(s.getsockname()[1]))
        return ports


class MosquittoBroker:
    """One Mosquitto process with a generated config in ``workdir``.

    Args:
        workdir: a temp folder owned by the test.
        port: loopback port; a free one by default. Kept across :meth:`restart`.
        persistence: keep QoS 1 sessions across restarts (file in ``workdir``).
        extra_config: lines appended to the generated config (TLS, auth, ACLs).
    """

    def __init__(
        self,
        workdir: Path,
        *,
        port: int | None = None,
        persistence: bool = False,
        extra_config: str = "",
        listener_config: str | None = None,
    ) -> None:
        self.binary = require_mosquitto()
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.persistence = persistence
        self.extra_config = extra_config
        self.listener_config = listener_config
        self.config_path = self.workdir / "mosquitto.conf"
        self.log_path = self.workdir / "mosquitto.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``mqtt://127.0.0.1:PORT``."""
        return f"mqtt://127.0.0.1:{self.port}"

    def write_config(self) -> None:
        lines = []
        if self.listener_config is not None:
            lines.append(self.listener_config)
        else:
            lines += [f"listener {self.port} 127.0.0.1", "allow_anonymous true"]
        if self.persistence:
            lines += ["persistence true", f"persistence_location {self.workdir}/"]
        else:
            lines.append("persistence false")
        lines += ["log_dest stderr", "log_type error", "log_type warning", "max_queued_messages 100000"]
        if self.extra_config:
            lines.append(self.extra_config)
        self.config_path.write_text("\n".join(lines) + "\n")
        os.chmod(self.workdir, 0o777)  # mosquitto may drop to its own user when run as root

    def start(self, timeout_s: float = 10.0) -> None:
        """Start the broker and wait until its port accepts connections."""
        self.write_config()
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [self.binary, "-c", str(self.config_path)], stdout=log, stderr=log
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.log_path.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                try:  # wait briefly on the process itself: returns early if it dies
                    self.proc.wait(timeout=0.02)
                except subprocess.TimeoutExpired:
                    pass
        raise RuntimeError(f"mosquitto did not listen on {self.port} within {timeout_s} s")

    def stop(self) -> None:
        """Stop the broker (SIGTERM, then SIGKILL after 5 s)."""
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        """Stop and start on the same port (clients must reconnect and resubscribe)."""
        self.stop()
        self.start()
