"""Faults with real processes on the secure broker: fleet crash, broker restart, partition, bad input.

These play the controller's part on the bus (stateRequest instant actions, reading state and
connection): what is asserted is what the fleet, the sorter and the broker must do whoever the
controller is. The same faults with the controller service running are in
``test_controller_faults``, ``test_controller_partition`` and ``test_controller_bad_input``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from bulletyard.supervisor import free_port
from bus.transport import Envelope
from tests.e2e.clients import collect_until, mosquitto_login
from tests.e2e.partition_proxy import PartitionProxy
from tests.e2e.running import SERIALS, answering, controller_login, running_system

pytestmark = pytest.mark.timeout(120)
MOSQUITTO_SWEEP_S = 6.0  # see test_bus_faults
KEEPALIVE_S = 2


def _connections(got: list[Envelope]) -> dict[str, str]:
    return {
        e.topic.split("/")[3]: json.loads(e.payload)["connectionState"]
        for e in got
        if e.topic.endswith("/connection")
    }


def test_fleet_process_killed_every_vehicle_is_marked_broken_by_its_will(tmp_path: Path) -> None:
    with running_system(tmp_path, parts=("broker", "fleet")) as system:
        c = controller_login(system)
        assert answering(c, SERIALS, "before") == set(SERIALS)
        system.child("fleet").kill()  # kill -9: no OFFLINE, no DISCONNECT
        seen: dict[str, str] = {}

        def all_broken(got: list[Envelope]) -> bool:
            seen.update(_connections(got))  # in arrival order: the latest state per vehicle wins
            return all(seen.get(s) == "CONNECTIONBROKEN" for s in SERIALS)

        collect_until(c, all_broken, 10)
        assert {s: seen.get(s) for s in SERIALS} == dict.fromkeys(SERIALS, "CONNECTIONBROKEN")
        c.close()


def test_broker_restart_fleet_and_sorter_reconnect_resubscribe_and_serve(tmp_path: Path) -> None:
    with running_system(tmp_path) as system:
        c = controller_login(system)
        assert answering(c, SERIALS, "before") == set(SERIALS)
        broker = system.child("broker")
        broker.stop()
        broker.start_and_wait()  # type: ignore[attr-defined]
        assert c.wait_ready(15)
        # resubscribed: every vehicle hears an instant action sent after the restart and answers
        deadline = time.monotonic() + 30
        answered: set[str] = set()
        while answered != set(SERIALS) and time.monotonic() < deadline:
            answered |= answering(c, sorted(set(SERIALS) - answered), f"after{int(time.monotonic())}", 3)
        assert answered == set(SERIALS)
        # the sorter is back too: it keeps publishing on its own topics
        c.subscribe("bulletyard/v1/site1/sorter/sorter-1/+", qos=0)
        assert collect_until(c, lambda g: any("/sorter/" in e.topic for e in g), 15)
        for child in ("fleet", "sorter"):
            assert system.child(child).alive()
        # every process said ONLINE again (Mosquitto fired their wills when it stopped)
        probe = controller_login(system, "probe")
        states = _connections(collect_until(probe, lambda g: len(_connections(g)) >= len(SERIALS), 5))
        probe.close()
        c.close()
        assert states == dict.fromkeys(SERIALS, "ONLINE")


def test_one_vehicle_partitioned_is_declared_broken_and_the_others_keep_serving(tmp_path: Path) -> None:
    broker_port = free_port()
    proxy = PartitionProxy(("127.0.0.1", broker_port))  # connects upstream only when a client comes
    fleet_args = ["--route", f"agv-0002={proxy.url_host_port}", "--keepalive", str(KEEPALIVE_S)]
    try:
        with running_system(
            tmp_path, parts=("broker", "fleet"), fleet_args=fleet_args, tls_port=broker_port
        ) as system:
            c = controller_login(system)
            assert answering(c, SERIALS, "before") == set(SERIALS)
            proxy.partition()
            cut = time.monotonic()
            seen: dict[str, str] = {}

            def broken(got: list[Envelope]) -> bool:
                seen.update(_connections(got))
                return seen.get("agv-0002") == "CONNECTIONBROKEN"

            collect_until(c, broken, 1.5 * KEEPALIVE_S + MOSQUITTO_SWEEP_S + 10)
            elapsed_s = time.monotonic() - cut
            assert seen.get("agv-0002") == "CONNECTIONBROKEN"
            assert elapsed_s <= 1.5 * KEEPALIVE_S + MOSQUITTO_SWEEP_S + 0.5, elapsed_s
            assert "agv-0001" not in seen  # nobody else was declared lost
            assert "agv-0003" not in seen
            assert answering(c, ["agv-0001", "agv-0003"], "after") == {"agv-0001", "agv-0003"}
            assert system.child("fleet").alive()
            c.close()
    finally:
        proxy.close()


@pytest.mark.skipif(shutil.which("mosquitto_pub") is None, reason="mosquitto_pub is not installed")
def test_bad_input_from_mosquitto_pub_every_process_keeps_serving(tmp_path: Path) -> None:
    with running_system(tmp_path) as system:
        s = system.setup
        big = tmp_path / "big.json"
        big.write_bytes(b'{"x": "' + b"a" * (3 * 1024 * 1024) + b'"}')
        garbage: list[tuple[str, list[str]]] = []
        for serial in SERIALS:
            for kind in ("order", "instantActions"):
                topic = f"uagv/v2/bulletyard/{serial}/{kind}"
                garbage += [
                    (topic, ["-m", "{not json"]),
                    (topic, ["-m", '{"orderId": 5, "nodes": "x"}']),
                    (topic, ["-m", ""]),
                    (topic, ["-f", str(big)]),
                    (topic, ["-m", "[]"]),
                ]
        sorter_topic = "bulletyard/v1/site1/sorter/sorter-1/destination"
        garbage += [
            (sorter_topic, ["-m", "{not json"]),
            (sorter_topic, ["-m", '{"itemId": 5}']),
            (sorter_topic, ["-f", str(big)]),
            ("bulletyard/v1/site1/sorter/sorter-1/unknownKind", ["-m", "{}"]),
            ("uagv/v2/bulletyard/agv-0001/bogus", ["-m", "{}"]),
        ]
        base = [
            "mosquitto_pub",
            "-h",
            s.host,
            "-p",
            str(s.tls_port),
            "--cafile",
            str(s.ca_file),
            "-q",
            "1",
        ]
        env = mosquitto_login(s, "controller", tmp_path)
        for _ in range(3):  # the same garbage again: logged once, then only counted
            for topic, payload in garbage:
                done = subprocess.run(
                    [*base, "-t", topic, *payload], capture_output=True, timeout=30, check=False, env=env
                )
                assert done.returncode == 0, done.stderr
        c = controller_login(system)
        assert answering(c, SERIALS, "after-garbage") == set(SERIALS)
        for child in ("fleet", "sorter"):
            assert system.child(child).alive(), system.child(child).log_tail()
        c.close()
        sorter_log = (system.logs / "sorter.log").read_text()
        warnings = [line.split(" WARNING ", 1)[1] for line in sorter_log.splitlines() if " WARNING " in line]
        assert warnings, "the sorter logged none of the bad messages"
        assert len(warnings) == len(set(warnings)), warnings  # each (topic, reason) once
        assert "Traceback" not in sorter_log
        assert "Traceback" not in (system.logs / "fleet.log").read_text()
    assert os.path.exists(system.logs)
