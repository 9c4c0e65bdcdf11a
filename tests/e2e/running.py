"""A running local system (broker, fleet, sorter as real processes) for the process-level tests."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

from bulletyard.secure_broker import generate_secure_broker
from bulletyard.supervisor import ProcessSupervisor, free_port
from bulletyard.system import System
from bus.mqtt import MqttTransport
from tests.broker import require_mosquitto
from tests.e2e.clients import login

SERIALS = ("agv-0001", "agv-0002", "agv-0003")


@contextmanager
def running_system(
    folder: Path,
    *,
    parts: Sequence[str] = ("broker", "fleet", "sorter"),
    env: dict[str, dict[str, str]] | None = None,
    tls_port: int | None = None,
    fleet_args: Sequence[str] = (),
    feeder_args: Sequence[str] = (),
    orders: int = 6,
) -> Iterator[System]:
    """Start the parts (each ready on the bus) and stop them all afterwards, whatever happens."""
    require_mosquitto()
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make the broker's certificates")
    setup = generate_secure_broker(
        folder / "broker", robots=len(SERIALS), tls_port=tls_port or free_port(), persistence=True
    )
    system = System(
        setup,
        folder,
        layout="small-fc",
        robots=len(SERIALS),
        parts=parts,
        ready_timeout_s=60,
        fleet_args=["--visualization-interval", "0", "--state-interval", "5", *fleet_args],
        env=env,
        orders=orders,
        feeder_args=feeder_args,
        rate_per_s=1.0,
    )
    supervisor = ProcessSupervisor()
    try:
        system.start(supervisor)
        yield system
    finally:
        system.close()
        supervisor.stop_all(10)


def state_request(serial: str, action_id: str) -> bytes:
    """A valid VDA 5050 instantActions message asking ``serial`` for its state."""
    return json.dumps(
        {
            "headerId": 1,
            "timestamp": "2026-11-28T00:00:00.000Z",
            "version": "2.1.0",
            "manufacturer": "bulletyard",
            "serialNumber": serial,
            "actions": [{"actionType": "stateRequest", "actionId": action_id, "blockingType": "NONE"}],
        }
    ).encode()


def controller_login(system: System, client_id: str = "test-controller") -> MqttTransport:
    """A connected client with the controller's rights, subscribed to every vehicle state."""
    c = login(system.setup, "controller", client_id=client_id, reconnect_min_s=0.1, reconnect_max_s=0.5)
    c.connect()
    c.subscribe("uagv/v2/bulletyard/+/state", qos=0)
    c.subscribe("uagv/v2/bulletyard/+/connection", qos=1)
    return c


def answering(c: MqttTransport, serials: Sequence[str], tag: str, timeout_s: float = 10.0) -> set[str]:
    """Ask each vehicle for its state (instant action), return those that answered in time."""
    import time

    for serial in serials:
        c.publish(f"uagv/v2/bulletyard/{serial}/instantActions", state_request(serial, f"{tag}-{serial}"))
    answered: set[str] = set()
    deadline = time.monotonic() + timeout_s
    while answered != set(serials) and time.monotonic() < deadline:
        c.wait(0.2)
        for msg in c.drain():
            if msg.topic.endswith("/state") and f'"{tag}-' in msg.payload.decode(errors="replace"):
                answered.add(msg.topic.split("/")[3])
    return answered
