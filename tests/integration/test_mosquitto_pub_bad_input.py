"""Garbage from the real ``mosquitto_pub`` client never stops a subscriber from serving.

A small responder (MqttTransport + Inbox, as every agent does it) answers each valid state with
an ack. The stock command-line client sends non-JSON, wrong types, a missing field, an unknown
enum value, a 10 MB payload and a state for an unknown robot, then one valid state: every bad one
is rejected and counted under its reason, and the valid one is answered.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from enum import StrEnum
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from bus.inbox import Inbox, Rejected, RejectReason, known_vda_vehicles
from bus.mqtt import MqttTransport
from bus.topics import vda_filter, vda_topic
from tests.broker import MosquittoBroker
from tests.bus_waits import receive

pytestmark = pytest.mark.broker


class Mode(StrEnum):
    AUTOMATIC = "AUTOMATIC"
    MANUAL = "MANUAL"


class MiniState(BaseModel):
    """Enough of a VDA 5050 state to exercise each kind of bad input."""

    model_config = ConfigDict(frozen=True)
    headerId: int  # noqa: N815 - wire name
    serialNumber: str  # noqa: N815
    operatingMode: Mode  # noqa: N815


def mosquitto_pub(broker: MosquittoBroker, topic: str, payload: bytes, tmp_path: Path) -> None:
    """Publish with the real command-line client (QoS 1: returns after the broker's PUBACK)."""
    binary = shutil.which("mosquitto_pub")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("mosquitto_pub (package mosquitto-clients) is needed under CI")
        pytest.skip("mosquitto_pub is not installed (mosquitto-clients)")
    body = tmp_path / "payload.bin"
    body.write_bytes(payload)
    command = [binary, "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1", "-t", topic, "-f", str(body)]
    subprocess.run(command, check=True, capture_output=True, timeout=60)


def test_bad_input_is_rejected_and_the_next_valid_message_is_served(
    broker: MosquittoBroker, tmp_path: Path
) -> None:
    serial = "agv-0001"
    state_topic = vda_topic("bulletyard", serial, "state")
    inbox = Inbox({vda_filter("state"): MiniState},
                  topic_check=known_vda_vehicles({serial}, manufacturer="bulletyard"))
    responder = MqttTransport(broker.url, "responder")
    observer = MqttTransport(broker.url, "observer")
    responder.connect()
    observer.connect()
    try:
        responder.subscribe(vda_filter("state"), qos=1)
        observer.subscribe("test/ack/+", qos=1)
        garbage = [
            (state_topic, b"this is not json"),
            (state_topic, b'{"headerId": "seven", "serialNumber": "agv-0001", "operatingMode": "MANUAL"}'),
            (state_topic, b'{"serialNumber": "agv-0001", "operatingMode": "MANUAL"}'),
            (state_topic, b'{"headerId": 1, "serialNumber": "agv-0001", "operatingMode": "TELEPORT"}'),
            (state_topic, b'{"headerId": 1, "pad": "' + b"x" * (10 * 1024 * 1024) + b'"}'),
            (vda_topic("bulletyard", "agv-9999", "state"),
             b'{"headerId": 1, "serialNumber": "agv-9999", "operatingMode": "MANUAL"}'),
        ]
        for topic, payload in garbage:
            mosquitto_pub(broker, topic, payload, tmp_path)
        valid = {"headerId": 2, "serialNumber": serial, "operatingMode": "AUTOMATIC"}
        mosquitto_pub(broker, state_topic, json.dumps(valid).encode(), tmp_path)

        served: list[MiniState] = []
        deadline = time.monotonic() + 30
        while not served and time.monotonic() < deadline:
            responder.wait(deadline - time.monotonic())
            for message in responder.drain():
                result = inbox.decode(message)
                if isinstance(result, Rejected):
                    continue
                served.append(result)
                responder.publish(f"test/ack/{result.serialNumber}", str(result.headerId).encode(), qos=1)

        assert [s.headerId for s in served] == [2]
        assert dict(inbox.rejections) == {
            RejectReason.NOT_JSON: 1,
            RejectReason.WRONG_TYPE: 1,
            RejectReason.MISSING_FIELD: 1,
            RejectReason.UNKNOWN_VALUE: 1,
            RejectReason.TOO_LARGE: 1,
            RejectReason.UNKNOWN_TOPIC: 1,
        }
        acks = receive(observer, 1)
        assert [(m.topic, m.payload) for m in acks] == [("test/ack/agv-0001", b"2")]
        assert responder.connected
    finally:
        responder.close()
        observer.close()
