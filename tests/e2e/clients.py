"""MQTT clients logged in with the accounts of a generated secure setup, and waiting helpers."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from bulletyard.broker_login import private_folder, write_private
from bulletyard.secure_broker import SecureBrokerSetup
from bus.mqtt import MqttTransport
from bus.transport import Envelope


def login(setup: SecureBrokerSetup, username: str, *, client_id: str | None = None,
          **kwargs: object) -> MqttTransport:
    """A TLS client (not yet connected) with ``username``'s password and the setup's CA."""
    account = setup.account(username)
    return MqttTransport(setup.tls_url, client_id or username, username=username, password=account.password,
                         ca_file=str(setup.ca_file), connect_timeout_s=5, **kwargs)  # type: ignore[arg-type]


def mosquitto_login(setup: SecureBrokerSetup, username: str, folder: Path) -> dict[str, str]:
    """Environment for ``mosquitto_pub`` logged in as ``username`` without ``-P`` on its command line.

    The Mosquitto clients read default options from ``$XDG_CONFIG_HOME/mosquitto_pub``; the login
    goes there, in a 0600 file, so ``ps`` never shows the password.
    """
    config = private_folder(folder / f"mosquitto-login-{username}")
    write_private(config / "mosquitto_pub", f"-u {username}\n-P {setup.account(username).password}\n")
    return {**os.environ, "XDG_CONFIG_HOME": str(config)}


def collect_until(transport: MqttTransport, done: Callable[[list[Envelope]], bool],
                  timeout_s: float) -> list[Envelope]:
    """Drain ``transport`` into a list until ``done(list)`` holds or the deadline passes."""
    got: list[Envelope] = []
    deadline = time.monotonic() + timeout_s
    while True:
        got += transport.drain()
        if done(got):
            return got
        left = deadline - time.monotonic()
        if left <= 0:
            return got
        transport.wait(min(left, 0.5))


def topics(envelopes: list[Envelope]) -> list[str]:
    """Topics in arrival order."""
    return [e.topic for e in envelopes]
