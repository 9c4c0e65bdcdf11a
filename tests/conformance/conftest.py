"""The ``bus`` fixture: one object giving connected clients on each transport under test.

Parametrized over the in-process broker and a real Mosquitto (MQTT 3.1.1 and MQTT 5), so every
test in this folder runs three times. Waiting is on deadlines (``Transport.wait``), never sleeps.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bus.inproc import InProcBroker
from bus.mqtt import MqttTransport
from bus.transport import Envelope
from tests.broker import MosquittoBroker
from tests.bus_waits import TIMEOUT_S


class BusUnderTest:
    """Makes clients of one broker (in-process or Mosquitto) and closes them after the test."""

    def __init__(self, kind: str, mosquitto: MosquittoBroker | None = None) -> None:
        self.kind = kind
        self._made: list = []
        self.mosquitto = mosquitto
        self.inproc: InProcBroker | None = InProcBroker() if kind == "inproc" else None

    def client(self, client_id: str, *, clean_session: bool = True):  # noqa: ANN201 - a Transport
        """A new, not yet connected client."""
        if self.inproc is not None:
            made = self.inproc.client(client_id, clean_session=clean_session)
        else:
            protocol = "5" if self.kind == "mqtt5" else "3.1.1"
            made = MqttTransport(
                self.mosquitto.url, client_id, protocol=protocol, clean_session=clean_session,
                reconnect_min_s=0.1, reconnect_max_s=0.5, connect_timeout_s=TIMEOUT_S,
            )
        self._made.append(made)
        return made

    def connected(self, client_id: str, *, will: Envelope | None = None, clean_session: bool = True):  # noqa: ANN201
        """A client already connected (with ``will`` registered)."""
        made = self.client(client_id, clean_session=clean_session)
        made.connect(will)
        return made

    def restart_broker(self) -> None:
        """Restart the broker on the same address; clients must reconnect by themselves."""
        if self.inproc is not None:
            self.inproc.restart()
        else:
            self.mosquitto.restart()

    def close(self) -> None:
        for made in self._made:
            try:
                made.close(clean=False)
            except Exception:  # noqa: BLE001 - teardown must not mask the test's own failure
                pass


@pytest.fixture(params=["inproc", "mqtt311", "mqtt5"])
def bus(request: pytest.FixtureRequest) -> Iterator[BusUnderTest]:
    """Clients on the in-process broker, or on the ``broker`` fixture's Mosquitto (MQTT 3.1.1 or 5)."""
    mosquitto = None if request.param == "inproc" else request.getfixturevalue("broker")
    made = BusUnderTest(request.param, mosquitto)
    try:
        yield made
    finally:
        made.close()
