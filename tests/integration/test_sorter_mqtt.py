"""The sorter process on a real Mosquitto, with a test client answering destination requests.

The test starts ``bulletyard sorter`` as a subprocess on a small fast line (time factor 4),
runs the controller's :class:`SortationPlanner` in the test over its own MQTT client, waits (on
messages, with a deadline) until items are sorted, then stops the sorter with SIGTERM and reads
the retained connection: OFFLINE. A second test kills the process and gets the last will.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from bus.clock import WallClock
from bus.mqtt import MqttTransport
from bus.sorter_protocol import sorter_filter, sorter_topic
from controller.sortation.events import ItemSorted
from controller.sortation.mapping import balanced_plan
from controller.sortation.planner import SortationPlanner
from tests.broker import MosquittoBroker

pytestmark = pytest.mark.broker
REPO = Path(__file__).resolve().parents[2]
SITE = "it"

CONFIG = {
    "kind": "loop", "sorter_id": "s-it", "loop_length_m": 20.0, "carrier_pitch_m": 0.5, "speed_mps": 2.0,
    "inducts": [{"induct_id": "in-1", "position_m": 1.0, "automatic": True, "rate_cap_per_h": 7200}],
    "scanner": {"position_m": 3.0, "no_read_probability": 0.0},
    "chutes": {"count": 4, "first_m": 5.0, "spacing_m": 2.0, "sides": 1, "capacity_items": 1000},
    "reject_position_m": 18.0, "reply_timeout_s": 4.0, "feed": {"destinations": 3},
}


def start_sorter(broker: MosquittoBroker, tmp_path: Path) -> subprocess.Popen:
    cfg = tmp_path / "sorter.yaml"
    cfg.write_text(yaml.safe_dump(CONFIG))
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(
        [sys.executable, "-m", "bulletyard", "sorter", "--broker", broker.url, "--config", str(cfg),
         "--site", SITE, "--time-factor", "4", "--duration", "120", "--log-level", "WARNING"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def retained_connection(broker: MosquittoBroker, deadline_s: float = 10.0) -> str | None:
    client = MqttTransport(broker.url, "probe")
    client.connect()
    client.subscribe(sorter_topic(SITE, "s-it", "connection"), qos=1)
    end = time.monotonic() + deadline_s
    try:
        while time.monotonic() < end:
            for env in client.drain():
                return json.loads(env.payload)["connectionState"]
            client.wait(0.2)
    finally:
        client.close()
    return None


def test_sorter_process_sorts_items_answered_over_mqtt(broker: MosquittoBroker, tmp_path: Path) -> None:
    chutes = [f"c{k:03d}" for k in range(1, 5)]
    planner = SortationPlanner(SITE, balanced_plan({"D001": 3.0, "D002": 2.0, "D003": 1.0}, chutes))
    client = MqttTransport(broker.url, "controller-under-test")
    client.connect()
    for f in planner.subscriptions() + [sorter_filter(SITE, "s-it", "connection")]:
        client.subscribe(f, qos=1)
    proc = start_sorter(broker, tmp_path)
    clock = WallClock()
    states: list[str] = []
    try:
        end = time.monotonic() + 60
        while planner.counts.sorted < 5 and time.monotonic() < end and proc.poll() is None:
            for env in client.drain():
                if env.topic.endswith("/connection"):
                    states.append(json.loads(env.payload)["connectionState"])
                    continue
                for reply in planner.handle(clock.now(), env):
                    client.publish(reply.topic, reply.payload, reply.qos, reply.retain)
            client.wait(0.2)
        assert planner.counts.sorted >= 5, proc.stderr.read().decode() if proc.poll() is not None else ""
        assert states[:1] == ["ONLINE"]
        assert planner.counts.answered >= planner.counts.sorted
        assert planner.counts.bad_messages == 0
        sorted_events = [e for e in planner.take_events() if isinstance(e, ItemSorted)]
        assert len(sorted_events) == planner.counts.sorted
        assert {e.chute_id for e in sorted_events} <= set(chutes)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        client.close()
    assert proc.returncode == 0, err.decode()
    assert retained_connection(broker) == "OFFLINE"


def test_killed_sorter_leaves_its_last_will(broker: MosquittoBroker, tmp_path: Path) -> None:
    proc = start_sorter(broker, tmp_path)
    try:
        end = time.monotonic() + 30
        state = None
        while state != "ONLINE" and time.monotonic() < end:
            state = retained_connection(broker, deadline_s=1.0)
        assert state == "ONLINE"
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    end = time.monotonic() + 30
    state = None
    while state != "CONNECTIONBROKEN" and time.monotonic() < end:
        state = retained_connection(broker, deadline_s=1.0)
    assert state == "CONNECTIONBROKEN"


def test_sorter_with_local_sortation_plan(broker: MosquittoBroker, tmp_path: Path) -> None:
    cfg = tmp_path / "sorter.yaml"
    cfg.write_text(yaml.safe_dump(CONFIG))
    plan = tmp_path / "plan.yaml"
    plan.write_text("destinations:\n  D001: [c001, c002]\n  D002: [c003]\n  D003: [c004]\n")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, "-m", "bulletyard", "sorter", "--broker", broker.url, "--config", str(cfg),
         "--site", SITE, "--time-factor", "4", "--duration", "6", "--plan", str(plan),
         "--log-level", "WARNING"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    summary = done.stdout.strip().splitlines()[-1]
    figures = dict(zip(summary.split()[3::2], map(int, summary.split()[4::2])))
    assert figures["sorted"] > 10
    assert figures["late"] == 0
    assert figures["inducted"] == figures["sorted"] + figures["rejected"] + figures["on_line"]
