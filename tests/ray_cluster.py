"""A real local Ray cluster for tests: a head on 127.0.0.1 with free ports, stopped after.

``ray start --head --block`` runs in its own process group, so stopping it never touches another
Ray on the machine (``ray stop`` would stop every one). Readiness is a connection to the client
port and the head's node seen by ``ray status``, before a deadline, never a sleep. The head is kept
small: two CPUs, an 80 MB object store, no dashboard.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.broker import free_ports

START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 10.0  # grace for a clean stop before SIGKILL


def ray_cli() -> str:
    """The ``ray`` command of this Python; fails under CI when Ray is missing, skips locally."""
    path = Path(sys.executable).parent / "ray"
    if path.exists():
        return str(path)
    found = shutil.which("ray")
    if found:
        return found
    message = "Ray is not installed (pip install 'bulletyard[sweep]')"
    if os.environ.get("CI"):
        pytest.fail(f"{message}: the sweep test must not skip in CI")
    pytest.skip(message)


class LocalRayCluster:
    """One Ray head on loopback; :attr:`address` is its ``ray://`` client address."""

    def __init__(self, cpus: int = 2) -> None:
        self.cpus = cpus
        # Ray puts unix sockets under its temp dir: keep the path short (108-byte socket limit).
        self.temp_dir = Path(tempfile.mkdtemp(prefix="by-ray-", dir="/tmp"))
        #: every port the head listens on, all different (Ray refuses a port named twice)
        self.ports = free_ports(8)
        self.gcs_port, self.client_port = self.ports[:2]
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.temp_dir / "ray-start.log"
        token_path = self.temp_dir / "auth_token"
        token_path.write_text(secrets.token_hex(32))
        token_path.chmod(0o600)
        #: Environment of the head and of every client: token authentication with this test's
        #: own token (Ray's client sends the token only when the mode is set explicitly).
        self.env = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token_path)}

    @property
    def address(self) -> str:
        """Client address for ``--address``."""
        return f"ray://127.0.0.1:{self.client_port}"

    def start(self) -> None:
        """Start the head and wait until its client port accepts connections."""
        ports = {
            "--port": self.gcs_port,
            "--ray-client-server-port": self.client_port,
        }
        others = ["--node-manager-port", "--object-manager-port", "--dashboard-agent-grpc-port",
                  "--dashboard-agent-listen-port", "--metrics-export-port", "--runtime-env-agent-port"]
        ports.update(zip(others, self.ports[2:], strict=True))
        cmd = [ray_cli(), "start", "--head", "--block", "--node-ip-address", "127.0.0.1",
               f"--num-cpus={self.cpus}", "--object-store-memory=80000000", "--include-dashboard=false",
               "--disable-usage-stats", f"--temp-dir={self.temp_dir}"]
        cmd += [f"{k}={v}" for k, v in ports.items()]
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                         env={**os.environ, **self.env})
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ray start exited {self.proc.returncode}: {self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.client_port), timeout=0.5):
                    pass
            except OSError:
                _wait_briefly(self.proc)
                continue
            if self._node_ready(deadline):
                return
        self.stop()
        raise RuntimeError(f"Ray head not ready in {START_TIMEOUT_S:.0f} s: {self.log()}")

    def _node_ready(self, deadline: float) -> bool:
        """True once ``ray status`` sees the head's node with its CPUs: the client port opens
        before the node has registered, and a client's server started then can fail."""
        try:
            status = subprocess.run([ray_cli(), "status", f"--address=127.0.0.1:{self.gcs_port}"],
                                    capture_output=True, text=True, env={**os.environ, **self.env},
                                    timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return False
        return status.returncode == 0 and f"/{self.cpus}.0 CPU" in status.stdout

    def log(self) -> str:
        """The tail of ``ray start``'s output (for error messages)."""
        return self.log_path.read_text(errors="replace")[-2000:] if self.log_path.exists() else ""

    def client_server_logs(self) -> str:
        """The tails of the head's client-server logs (its proxy and one server per client), so a
        failed connection says what the head saw."""
        logs = sorted((self.temp_dir / "session_latest" / "logs").glob("ray_client_server*"))
        return "\n".join(f"--- {p.name}:\n{p.read_text(errors='replace')[-1500:]}" for p in logs
                         if p.is_file() and p.stat().st_size)

    def stop(self) -> None:
        """Stop the head's whole process group: SIGTERM, wait for ``ray start`` to end (it stops
        its processes), then SIGKILL whatever of the group is left (workers, stragglers)."""
        if self.proc is not None:
            pgid = self.proc.pid
            _signal_group(pgid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                pass
            _signal_group(pgid, signal.SIGKILL)
            self.proc.wait(timeout=STOP_TIMEOUT_S)
            self.proc = None
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def _wait_briefly(proc: subprocess.Popen[bytes]) -> None:
    """Wait up to 0.2 s on the process (returns early if it exits): a deadline, not a sleep."""
    try:
        proc.wait(timeout=0.2)
    except subprocess.TimeoutExpired:
        pass
