"""Hostile messages on a real Mosquitto against real ``bulletyard serve`` and ``bulletyard robots``
processes (issue 25, the bus half).

One service (fleet file pinning the one real vehicle ``agv-0001``) and one vehicle process serve
the whole module. The first test sends a real order; each following test publishes one kind of
hostile input as any client of the broker could, while the vehicle drives it, then checks that
both processes live on and what the service logged (JSON lines). The last test waits until the
order is ``picking``: the controller kept driving the real vehicle through it all, to the pod,
which it lifted (the rest of the trip is the same driving; waiting for it would double the time).

Cases: JSON nested 10,000 levels deep on the WMS orders topic and on the vehicle's order topic,
a state with headerId 2e9, 80 ghost serials, a payload serial that differs from its topic, an
order with nodes 100 km away, and 10,000 malformed WMS orders (one log line per kind and topic).
Nothing waits by sleeping: every wait is on a message or a deadline.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bus.clock import WallClock, iso_timestamp
from bus.mqtt import MqttTransport
from bus.topics import vda_topic
from tests.broker import MosquittoBroker, require_mosquitto
from tests.integration.serve_process import Wms, bulletyard, fleet_argv, near_pods, serve_argv, stop
from warehouse_maps.catalog import load_layout

pytestmark = [pytest.mark.broker, pytest.mark.timeout(120)]
REAL = "agv-0001"
ORDERS_TOPIC = "bulletyard/v1/site1/orders"
PICKING_OR_LATER = ("picking", "picked", "complete")
FORGED = 2_000_000_000  # headerIds from here on are the tests' own
DEEP = b'{"orderId": "deep", "lines": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"  # ~20 KB
CONFIG = """\
pick_time_s: 0.5
fleet:
  profiles:
    bulletyard:
      serials: [agv-0001]
"""


@dataclass
class Site:
    """The running parts and what a test needs to reach them."""

    broker: MosquittoBroker
    service: object
    fleet: object
    log: Path
    wms: Wms
    probe: MqttTransport  # hears the real vehicle's states
    states: list[dict]

    def alive(self) -> None:
        assert self.service.poll() is None, self.log.read_text()[-3000:]
        assert self.fleet.poll() is None, (self.log.parent / "fleet.log").read_text()[-3000:]

    def log_lines(self) -> list[str]:
        out = []
        for line in self.log.read_text().splitlines():
            if line.startswith("{"):
                out.append(json.loads(line)["msg"])
        return out

    def wait_log(self, predicate: Callable[[list[str]], bool], timeout_s: float = 15.0) -> list[str]:
        """Log lines once ``predicate`` holds for them (the service writes them as it goes)."""
        deadline = time.monotonic() + timeout_s
        while not predicate(lines := self.log_lines()):
            assert time.monotonic() < deadline, lines[-20:]
            self.wms.pump(0.05)  # waits on the status topic: no sleep
        return lines

    def last_state(self, timeout_s: float = 15.0, where: Callable[[dict], bool] = lambda s: True) -> dict:
        """The newest state of the real vehicle (not one forged by a test) for which ``where`` holds
        (waits for one)."""
        deadline = time.monotonic() + timeout_s
        while True:
            self.states += [json.loads(e.payload) for e in self.probe.drain()]
            ours = (s for s in self.states if s["headerId"] < FORGED and s["serialNumber"] == REAL)
            found = [s for s in ours if where(s)]
            if found:
                return found[-1]
            assert time.monotonic() < deadline, self.states[-3:]
            self.probe.wait(0.2)

    def publish(self, topic: str, payload: bytes) -> None:
        self.wms.transport.publish(topic, payload, qos=1)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    require_mosquitto()
    tmp = tmp_path_factory.mktemp("hostile")
    broker = MosquittoBroker(tmp / "broker")
    broker.start()
    config = tmp / "controller.yaml"
    config.write_text(CONFIG)
    log = tmp / "serve.log"
    service = bulletyard(*serve_argv(broker.url, tmp / "j.sqlite", "--config", str(config)), log_path=log)
    fleet = bulletyard(*fleet_argv(broker.url, 1), log_path=tmp / "fleet.log")
    wms = Wms(broker.url)
    probe = MqttTransport(broker.url, "probe")
    probe.connect()
    probe.subscribe(vda_topic("bulletyard", REAL, "state"), qos=0)
    try:
        wms.wait_controller()
        yield Site(broker, service, fleet, log, wms, probe, [])
    finally:
        stop(service)
        stop(fleet)
        wms.close()
        probe.close()
        broker.stop()


def test_a_real_order_is_under_way(site: Site) -> None:
    site.wms.order("real-1", near_pods(load_layout("small-fc"), 1)[0])
    assert site.wms.wait_for(lambda: any(s["orderId"] == "real-1" and s["status"] == "received"
                                         for s in site.wms.statuses), 15)


def test_nesting_10000_deep_on_the_wms_orders_topic(site: Site) -> None:
    site.wms.raw(DEEP)
    assert site.wms.wait_for(lambda: any(s["status"] == "refused" and "too_deep" in s["reason"]
                                         for s in site.wms.statuses), 15)
    site.alive()


def test_nesting_10000_deep_on_the_vehicle_order_topic(site: Site) -> None:
    site.publish(vda_topic("bulletyard", REAL, "order"), b"[" * 25_000 + b"]" * 25_000)
    state = site.last_state(where=lambda s: any("too_deep" in e.get("errorDescription", "")
                                                for e in s["errors"]))
    assert [e["errorType"] for e in state["errors"]] == ["validationError"]
    site.alive()


def test_header_id_2e9_is_suspicious_once_and_blinds_nothing(site: Site) -> None:
    real = site.last_state()
    for i in range(3):
        forged = dict(real, headerId=FORGED + i * 10**8)
        site.publish(vda_topic("bulletyard", REAL, "state"), json.dumps(forged).encode())
    lines = site.wait_log(lambda lines: any("suspicious_header" in x for x in lines))
    site.last_state(where=lambda s: s["headerId"] > real["headerId"])  # the real one goes on
    site.alive()
    assert sum("suspicious_header" in x for x in lines) == 1


def test_80_ghost_serials_are_refused_by_the_fleet_policy(site: Site) -> None:
    real = site.last_state()
    for i in range(80):
        serial = f"ghost-{i:02d}"
        ghost = dict(real, serialNumber=serial)
        site.publish(vda_topic("bulletyard", serial, "state"), json.dumps(ghost).encode())
    lines = site.wait_log(lambda lines: any("further ones are only counted" in x for x in lines))
    named = [x for x in lines if "not_served" in x]
    assert len(named) == 10, named  # ten topics named, the rest counted
    site.alive()


def test_a_payload_serial_that_differs_from_its_topic_is_refused(site: Site) -> None:
    imposter = dict(site.last_state(), serialNumber="agv-0099", headerId=FORGED + 10**9)
    site.publish(vda_topic("bulletyard", REAL, "state"), json.dumps(imposter).encode())
    lines = site.wait_log(lambda lines: any("wrong_sender" in x for x in lines))
    assert sum("wrong_sender" in x for x in lines) == 1
    site.alive()


def test_an_order_100_km_away_is_refused_by_the_vehicle(site: Site) -> None:
    state = site.last_state()
    x, y = state["agvPosition"]["x"], state["agvPosition"]["y"]
    nodes = [{"nodeId": f"far-{i}", "sequenceId": 2 * i, "released": True, "actions": [],
              "nodePosition": {"x": x + 100_000.0 * i, "y": y, "mapId": "small-fc"}} for i in range(2)]
    edges = [{"edgeId": "far-e", "sequenceId": 1, "released": True, "startNodeId": "far-0",
              "endNodeId": "far-1", "actions": []}]
    order = {"headerId": 0, "timestamp": iso_timestamp(WallClock().now()), "version": "2.1.0",
             "manufacturer": "bulletyard", "serialNumber": REAL, "orderId": "far", "orderUpdateId": 0,
             "nodes": nodes, "edges": edges}
    site.publish(vda_topic("bulletyard", REAL, "order"), json.dumps(order).encode())
    refused = site.last_state(where=lambda s: any(e["errorType"] == "noRouteError" for e in s["errors"]))
    error = next(e for e in refused["errors"] if e["errorType"] == "noRouteError")
    refs = {(r["referenceKey"], r["referenceValue"]) for r in error["errorReferences"]}
    assert {("orderId", "far"), ("nodeId", "far-1")} <= refs
    assert refused["orderId"] != "far"
    assert all(abs(n["nodePosition"]["x"]) < 1000 for n in refused["nodeStates"] if "nodePosition" in n)
    site.alive()


def malformed_orders() -> dict[str, bytes]:
    good = {"headerId": 0, "timestamp": "2026-11-11T00:00:00.000Z", "version": "1.0.0", "orderId": "x",
            "lines": [{"sku": "S", "quantity": 1}]}
    text = json.dumps(good)
    return {
        "not_json": b"{not json",
        "too_deep": DEEP,
        "duplicate_key": text.replace('"orderId": "x"', '"orderId": "x", "orderId": "y"').encode(),
        "control_character": json.dumps(good | {"orderId": "o\u00001"}).encode(),
        "non_finite": text.replace('"quantity": 1', '"quantity": 1e400').encode(),
        "big_integer": text.replace('"quantity": 1', '"quantity": 1' + "0" * 30).encode(),
        "malformed": json.dumps(good | {"lines": []}).encode(),
    }


def test_10000_malformed_wms_orders_give_one_log_line_per_kind(site: Site) -> None:
    kinds = malformed_orders()
    payloads = list(kinds.values())
    before = len(site.wms.statuses)
    for i in range(10_000):
        site.wms.raw(payloads[i % len(payloads)])
    assert site.wms.wait_for(lambda: len(site.wms.statuses) - before >= 10_000, 60)
    assert all(s["status"] == "refused" for s in site.wms.statuses[before:])
    lines = [x for x in site.log_lines() if f"rejected message on {ORDERS_TOPIC}" in x]
    assert sorted(x.split(": ")[1] for x in lines) == sorted(kinds), lines
    site.alive()


def test_the_controller_still_drives_the_real_vehicle(site: Site) -> None:
    statuses = site.wms.statuses
    done = site.wms.wait_for(lambda: any(s["orderId"] == "real-1" and s["status"] in PICKING_OR_LATER
                                         for s in statuses), 90)
    assert done, [s for s in site.wms.statuses if s["orderId"] == "real-1"]
    lines = site.log_lines()
    assert not [x for x in lines if "lost" in x and REAL in x], lines
    site.alive()
