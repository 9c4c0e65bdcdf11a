"""Differential check: the same random publish/subscribe script on the in-process broker and on
Mosquitto (MQTT 3.1.1) must deliver the same messages.

Each script has two live subscribers and a late one (retained messages), one filter each, and a
publisher sending 40 messages with random topics, payloads (some empty), QoS and retain flags.
Per subscriber, the messages of each delivered QoS level must match in order (MQTT orders each
level on its own); the late subscriber's retained set must match as a set.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bus.inproc import InProcBroker
from bus.mqtt import MqttTransport
from tests.broker import MosquittoBroker
from tests.bus_waits import receive_until

pytestmark = pytest.mark.broker

TOPICS = ["a", "a/b", "a/c", "a/b/c", "b", "b/x", "a//b", "c/a/b"]
FILTERS = ["#", "a/#", "a/+", "+/+", "+", "a/b", "+/b/#", "a/+/b", "+/a/+", "b/#"]
PAYLOADS = [b"", b"1", b"22", b"333"]


def script(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    pick = lambda seq: seq[int(rng.integers(len(seq)))]  # noqa: E731
    return {
        "subs": [(pick(FILTERS), int(rng.integers(2))) for _ in range(2)],
        "late": (pick(FILTERS), int(rng.integers(2))),
        "publishes": [(pick(TOPICS), pick(PAYLOADS), int(rng.integers(2)), bool(rng.random() < 0.4))
                      for _ in range(40)],
    }


def play(make, plan: dict) -> list:  # noqa: ANN001 - make(client_id) -> connected transport
    subs = []
    for i, (topic_filter, qos) in enumerate(plan["subs"] + [plan["late"]]):
        subs.append((make(f"s{i}"), topic_filter, qos))
    live, late = subs[:2], subs[2]
    for client, topic_filter, qos in live:
        client.subscribe(topic_filter, qos=qos)
        client.subscribe("zz/barrier/+", qos=1)
    pub = make("pub")
    for topic, payload, qos, retain in plan["publishes"]:
        pub.publish(topic, payload, qos=qos, retain=retain)
    pub.publish("zz/barrier/0", b"", qos=0)
    pub.publish("zz/barrier/1", b"", qos=1)
    assert pub.flush(10)
    seen = []
    for client, _, _ in live:
        got = receive_until(client, "zz/barrier/0")
        if not any(m.topic == "zz/barrier/1" for m in got):
            got += receive_until(client, "zz/barrier/1")
        got = [m for m in got if not m.topic.startswith("zz/")]
        seen.append({q: [(m.topic, m.payload, m.retain) for m in got if m.qos == q] for q in (0, 1)})
    client, topic_filter, qos = late
    client.subscribe(topic_filter, qos=qos)
    client.subscribe("zz/barrier/+", qos=1)
    pub.publish("zz/barrier/1", b"", qos=1)
    got = [m for m in receive_until(client, "zz/barrier/1") if not m.topic.startswith("zz/")]
    seen.append(sorted((m.topic, m.payload, m.qos, m.retain) for m in got))
    return seen


@pytest.mark.parametrize("seed", range(10))
def test_inproc_and_mosquitto_deliver_the_same(seed: int, tmp_path: Path) -> None:
    plan = script(seed)
    broker = InProcBroker()

    def inproc_client(client_id: str):  # noqa: ANN202
        client = broker.client(client_id)
        client.connect()
        return client

    expected = play(inproc_client, plan)
    mosquitto = MosquittoBroker(tmp_path / "broker")
    mosquitto.start()
    made: list[MqttTransport] = []

    def mqtt_client(client_id: str) -> MqttTransport:
        client = MqttTransport(mosquitto.url, client_id)
        client.connect()
        made.append(client)
        return client

    try:
        assert play(mqtt_client, plan) == expected
    finally:
        for client in made:
            client.close()
        mosquitto.stop()
