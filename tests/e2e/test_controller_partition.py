"""A robot cut off mid-trip while the controller service runs: its cells stay blocked.

The fleet reaches the broker directly, except ``agv-0002``, whose connection runs through a proxy
that can stop moving bytes without closing anything (a cable pull). Once ``agv-0002`` is driving
an order, the proxy partitions it. The vehicle itself keeps driving its released base (as a real
vehicle out of radio range would), so the cells the controller must keep from the others are the
base nodes from the last one it reported to the end of what was released to it. The test watches
every order and state on the bus (``monitor`` login) until the controller has declared
``agv-0002`` lost and the others have driven on for a while, and asserts that no other robot was
released into, or reported standing on, any of those cells.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bulletyard.supervisor import free_port
from tests.e2e.clients import login
from tests.e2e.partition_proxy import PartitionProxy
from tests.e2e.running import running_system

pytestmark = pytest.mark.timeout(240)
KEEPALIVE_S = 2
CUT = "agv-0002"
WATCH_AFTER_LOST_S = 20.0


def _base_nodes(order: dict) -> set[str]:
    return {n["nodeId"] for n in order["nodes"] if n["released"]}


class CutRobot:
    """The cut robot's released base (node by sequence id) and the last node it reported."""

    def __init__(self) -> None:
        self.order_id = ""
        self.base: dict[int, str] = {}
        self.last_seq = 0

    def take(self, kind: str, data: dict) -> None:
        if kind == "order":
            if data["orderId"] != self.order_id:
                self.order_id, self.base = data["orderId"], {}
            self.base.update({n["sequenceId"]: n["nodeId"] for n in data["nodes"] if n["released"]})
        elif kind == "state" and data["orderId"] == self.order_id:
            self.last_seq = data["lastNodeSequenceId"]

    def may_be_on(self) -> set[str]:
        """Every cell from its last reported node to the end of its base: where it may now be."""
        return {node for seq, node in self.base.items() if seq >= self.last_seq}


def test_partitioned_robot_keeps_its_cells_blocked_while_others_drive(tmp_path: Path) -> None:
    broker_port = free_port()
    proxy = PartitionProxy(("127.0.0.1", broker_port))
    fleet_args = ["--route", f"{CUT}={proxy.url_host_port}", "--keepalive", str(KEEPALIVE_S)]
    try:
        parts = ("broker", "controller", "fleet", "feeder")
        with running_system(tmp_path, parts=parts, fleet_args=fleet_args, tls_port=broker_port) as system:
            mon = login(system.setup, "monitor", client_id="partition-watch")
            mon.connect()
            for kind in ("order", "state", "connection"):
                mon.subscribe(f"uagv/v2/bulletyard/+/{kind}", qos=0)
            cut = CutRobot()
            driving = False
            deadline = time.monotonic() + 90
            while not driving:  # wait until the robot is out on a trip
                assert time.monotonic() < deadline, f"{CUT} never got a trip"
                mon.wait(0.2)
                for e in mon.drain():
                    serial, kind = e.topic.split("/")[3:5]
                    if serial == CUT and kind in ("order", "state"):
                        data = json.loads(e.payload)
                        cut.take(kind, data)
                        driving = driving or (kind == "state" and data["driving"])
            proxy.partition()
            cut_at = time.monotonic()
            lost_at: float | None = None
            intrusions: list[str] = []
            moves_by_others = 0
            orders_to_others = 0
            while lost_at is None or time.monotonic() - lost_at < WATCH_AFTER_LOST_S:
                assert time.monotonic() - cut_at < 120, "the controller never declared the robot lost"
                mon.wait(0.2)
                for e in mon.drain():
                    serial, kind = e.topic.split("/")[3:5]
                    data = json.loads(e.payload) if e.payload else {}
                    if serial == CUT:
                        if kind in ("order", "state"):  # sent or said before the cut took effect
                            cut.take(kind, data)
                        if kind == "connection" and data.get("connectionState") == "CONNECTIONBROKEN":
                            lost_at = lost_at or time.monotonic()
                        continue
                    if kind == "order":
                        orders_to_others += 1
                        inside = _base_nodes(data) & cut.may_be_on()
                        intrusions += [f"{serial} released into {n}" for n in sorted(inside)]
                    elif kind == "state":
                        moves_by_others += 1
                        if data.get("lastNodeId") in cut.may_be_on():
                            intrusions.append(f"{serial} stands on {data['lastNodeId']}")
            mon.close()
            log_text = (system.logs / "controller.log").read_text()
    finally:
        proxy.close()
    assert cut.may_be_on(), "the cut robot had no released nodes"
    assert lost_at - cut_at <= 1.5 * KEEPALIVE_S + 6.5  # Mosquitto sweeps keepalives every ~6 s
    assert f"vehicle {CUT} lost" in log_text
    assert moves_by_others > 0, "the other robots never reported while the robot was cut off"
    assert orders_to_others > 0, "the controller released nothing to the others while the robot was cut off"
    assert intrusions == []
