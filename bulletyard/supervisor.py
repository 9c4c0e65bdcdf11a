"""Child processes for ``bulletyard up`` and the end-to-end tests: start, watch, stop in reverse order.

A :class:`ManagedProcess` is one child (``mosquitto`` or ``python -m bulletyard ...``) with its
output in a log file. Stopping sends SIGTERM and waits up to a deadline, then SIGKILL, so a
stuck child can never hang the caller. :class:`ProcessSupervisor` starts children in order and stops
them in the reverse order (the fleet before the controller before the broker), which lets each
one say goodbye on the bus (OFFLINE connection messages) while the broker is still up.

:class:`MosquittoProcess` knows the broker is ready when its port accepts a TCP connection;
everything else is declared ready by watching the bus (see ``bulletyard.readiness``), never by
sleeping.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

MOSQUITTO_PATHS = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/usr/bin/mosquitto")


class SupervisorError(RuntimeError):
    """A child could not be started or did not become ready in time (names it and its log)."""


def find_mosquitto() -> str:
    """Path of the ``mosquitto`` binary; a clear error when it is not installed."""
    found = shutil.which("mosquitto")
    if found:
        return found
    for candidate in MOSQUITTO_PATHS:
        if os.access(candidate, os.X_OK):
            return candidate
    raise SupervisorError("mosquitto is not installed (apt-get install -y mosquitto mosquitto-clients)")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def bulletyard_argv(*args: str) -> list[str]:
    """``python -m bulletyard ARGS`` with this interpreter (the children import the same code)."""
    return [sys.executable, "-m", "bulletyard", *args]


class ManagedProcess:
    """One child process whose stdout and stderr go to ``log_path``.

    Args:
        name: short name for messages (``broker``, ``controller``, ``fleet``...).
        argv: the command.
        log_path: file the child's output is appended to.
        env: extra environment variables.
        cwd: working directory (default: the caller's).
        stop_signal_name: what :meth:`stop` sends first: ``SIGTERM`` (default) or ``SIGINT`` for
            Python commands that say goodbye on Ctrl-C (KeyboardInterrupt).
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        stop_signal_name: str = "SIGTERM",
    ) -> None:
        self.stop_signal = signal.Signals[stop_signal_name]
        self.name = name
        self.argv = list(argv)
        self.log_path = Path(log_path)
        self.env = dict(env or {})
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def pid(self) -> int | None:
        """Process id while running."""
        return None if self.proc is None else self.proc.pid

    def alive(self) -> bool:
        """True while the child runs."""
        return self.proc is not None and self.proc.poll() is None

    @property
    def returncode(self) -> int | None:
        """Exit status once it ended (negative: killed by that signal)."""
        return None if self.proc is None else self.proc.poll()

    def start(self) -> None:
        """Start the child (its own process group, so Ctrl-C in a terminal reaches only us)."""
        if self.alive():
            raise SupervisorError(f"{self.name} is already running (pid {self.pid})")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        with open(self.log_path, "ab") as log:
            try:
                self.proc = subprocess.Popen(
                    self.argv,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd=self.cwd,
                    start_new_session=True,
                )
            except OSError as err:
                raise SupervisorError(f"cannot start {self.name} ({self.argv[0]}): {err}") from err
        self.starts += 1

    def check_running(self) -> None:
        """Raise :class:`SupervisorError` with the end of the log if the child has exited."""
        if self.proc is not None and self.proc.poll() is not None:
            raise SupervisorError(
                f"{self.name} exited with status {self.proc.returncode}; "
                f"last lines of {self.log_path}:\n{self.log_tail()}"
            )

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the child's log."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout_s: float = 10.0) -> int | None:
        """The stop signal, wait up to ``timeout_s``, then SIGKILL. Returns the exit status."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            try:
                proc.send_signal(self.stop_signal)
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode

    def kill(self) -> None:
        """SIGKILL now (a crash: no goodbye on the bus) and reap the child."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()


class MosquittoProcess(ManagedProcess):
    """Mosquitto on a config file; ready when ``port`` on ``host`` accepts TCP connections."""

    def __init__(self, config_file: Path, port: int, log_path: Path, *, host: str = "127.0.0.1") -> None:
        super().__init__("broker", [find_mosquitto(), "-c", str(config_file)], log_path)
        self.host = host
        self.port = port

    def start_and_wait(self, timeout_s: float = 10.0) -> None:
        """Start and wait for the listener; an error with the broker's log if it dies or stays deaf."""
        self.start()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.check_running()
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                try:  # wait on the process itself: returns early if it dies
                    self.proc.wait(timeout=0.05)  # type: ignore[union-attr]
                except subprocess.TimeoutExpired:
                    pass
        self.stop()
        raise SupervisorError(
            f"mosquitto did not listen on {self.host}:{self.port} within {timeout_s} s; "
            f"log {self.log_path}:\n{self.log_tail()}"
        )


class ProcessSupervisor:
    """Children started in order and stopped in reverse order."""

    def __init__(self) -> None:
        self.children: list[ManagedProcess] = []

    def add(self, child: ManagedProcess) -> ManagedProcess:
        """Remember ``child`` (start it yourself, so readiness checks can sit between starts)."""
        self.children.append(child)
        return child

    def check(self) -> None:
        """Raise :class:`SupervisorError` if any started child has exited."""
        for child in self.children:
            child.check_running()

    def stop_all(self, timeout_s: float = 10.0) -> dict[str, int | None]:
        """Stop every child, last started first; returns each one's exit status."""
        statuses: dict[str, int | None] = {}
        for child in reversed(self.children):
            statuses[child.name] = child.stop(timeout_s)
        return statuses
