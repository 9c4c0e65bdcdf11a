"""Fixtures for the end-to-end tests: a secure Mosquitto (TLS, passwords, ACLs) on free loopback ports."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bulletyard.secure_broker import SecureBrokerSetup, generate_secure_broker
from bulletyard.supervisor import MosquittoProcess
from tests.broker import free_ports, require_mosquitto


@dataclass
class SecureBroker:
    """A running broker and its generated setup."""

    setup: SecureBrokerSetup
    process: MosquittoProcess

    def restart(self) -> None:
        """Stop (SIGTERM) and start again on the same ports."""
        self.process.stop()
        self.process.start_and_wait()


def start_secure_broker(folder: Path, *, robots: int = 3, plain: bool = False,
                        persistence: bool = False) -> SecureBroker:
    """Generate a setup in ``folder`` and start Mosquitto on it."""
    require_mosquitto()
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make the broker's certificates")
    tls_port, plain_port = free_ports(2)  # different: one at a time they may come out the same
    setup = generate_secure_broker(folder, robots=robots, tls_port=tls_port,
                                   plain_port=plain_port if plain else None, persistence=persistence)
    process = MosquittoProcess(setup.config_file, setup.tls_port, folder / "mosquitto.log")
    process.start_and_wait()
    return SecureBroker(setup, process)


@pytest.fixture
def secure_broker(tmp_path: Path) -> Iterator[SecureBroker]:
    """Secure Mosquitto with three robots, a plaintext listener too (for the refusal tests)."""
    b = start_secure_broker(tmp_path / "broker", plain=True)
    try:
        yield b
    finally:
        b.process.stop()
