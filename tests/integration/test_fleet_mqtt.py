"""20 vehicle agents over a real Mosquitto, driven by a plain script with hand-written orders.

No controller: the script publishes one order per vehicle (its parking cell and two cells on),
watches ``state`` until every vehicle reports its last node with nothing left to drive, and
checks every message the vehicles published on the way against the official schemas. Then one
vehicle drops off uncleanly (its CONNECTIONBROKEN will must appear) and the rest close cleanly
(OFFLINE, retained).
"""

from __future__ import annotations

import json
import threading
import time

import pytest

from bus.clock import WallClock
from bus.mqtt import MqttTransport
from bus.vda5050 import to_payload
from bus.vda5050.shared_loop import SharedNetworkLoop
from robots.fleet import FleetRunner, build_agents
from robots.kinematic import KinematicDrive
from robots.script_orders import line_order
from tests.unit.robots.vda_schemas import assert_valid, kind_of
from warehouse_maps import load_layout

pytestmark = pytest.mark.broker

COUNT = 20


def walk(layout, cell, steps=2):
    """``steps`` cells on from ``cell`` without turning back (hand-written, no planner)."""
    path = [cell]
    while len(path) <= steps:
        options = [n for n in layout.grid.neighbors(path[-1]) if n not in path]
        if not options:
            break
        path.append(options[0])
    return path


def test_twenty_vehicles_reach_their_last_nodes_over_mosquitto(broker) -> None:
    layout = load_layout("small-fc")
    clock = WallClock()
    agents = build_agents(layout, COUNT, start=clock.now(),
                          drive_factory=lambda i, serial, pose, t0: KinematicDrive(pose, start=t0))
    inbound = threading.Event()
    net = SharedNetworkLoop(activity=inbound)  # one network thread for all 20, as `bulletyard robots` runs
    fleet = FleetRunner(agents, lambda cid: net.attach(MqttTransport(broker.url, cid)), clock,
                        inbound=inbound)
    script = MqttTransport(broker.url, "script")
    script.connect()
    script.subscribe("uagv/v2/bulletyard/#", qos=1)
    fleet.start()
    loop = threading.Thread(target=fleet.run, daemon=True)
    loop.start()
    goals: dict[str, str] = {}
    try:
        for agent in agents:
            cell = layout.cell_at_m(agent.initial_pose.x_m, agent.initial_pose.y_m)
            cells = walk(layout, cell)
            waypoints = [(f"n{x}_{y}", *layout.cell_centre_m((x, y))) for x, y in cells]
            goals[agent.serial_number] = waypoints[-1][0]
            order = line_order(serial_number=agent.serial_number, order_id=f"o-{agent.serial_number}",
                               waypoints=waypoints, map_id=layout.name, now=clock.now())
            script.publish(f"uagv/v2/bulletyard/{agent.serial_number}/order", to_payload(order))
        arrived: set[str] = set()
        seen: list = []
        deadline = time.monotonic() + 30
        while len(arrived) < COUNT and time.monotonic() < deadline:
            script.wait(0.5)
            for env in script.drain():
                seen.append(env)
                if kind_of(env.topic) == "state":
                    state = json.loads(env.payload)
                    if (state["lastNodeId"] == goals[state["serialNumber"]] and not state["nodeStates"]
                            and not state["driving"]):
                        arrived.add(state["serialNumber"])
        assert arrived == set(goals), f"not arrived: {sorted(set(goals) - arrived)}"
    finally:
        fleet.stop()
        loop.join(10)
    # one vehicle vanishes (no DISCONNECT): the broker publishes its will
    fleet.transports[0].close(clean=False)
    fleet.agents, fleet.transports = fleet.agents[1:], fleet.transports[1:]
    fleet.close(clean=True)
    deadline = time.monotonic() + 10
    final: dict[str, str] = {}
    while len(final) < COUNT and time.monotonic() < deadline:
        script.wait(0.5)
        for env in script.drain():
            seen.append(env)
            if kind_of(env.topic) == "connection":
                final[env.topic.split("/")[3]] = json.loads(env.payload)["connectionState"]
    script.close()
    net.close()
    assert final.get("agv-0001") == "CONNECTIONBROKEN"
    assert {s for s, v in final.items() if v == "OFFLINE"} == set(goals) - {"agv-0001"}
    kinds = {kind_of(e.topic) for e in seen}
    assert {"state", "connection", "factsheet", "visualization"} <= kinds
    for env in seen:
        if kind_of(env.topic) != "order":
            assert_valid(kind_of(env.topic), env.payload)


def test_shared_loop_closes_cleanly_without_leaking_sockets(broker) -> None:
    """Clean closes send DISCONNECT (retained OFFLINE stays, no will) and give every socket back."""
    import os

    from bus.transport import Envelope

    fds_before = len(os.listdir("/proc/self/fd"))
    net = SharedNetworkLoop()
    clients = []
    for i in range(30):
        t = net.attach(MqttTransport(broker.url, f"leak-{i}"))
        t.connect(will=Envelope(f"leak/{i}", b"BROKEN", 1, True))
        clients.append(t)
    for i, t in enumerate(clients):
        t.publish(f"leak/{i}", b"OFFLINE", 1, True)
        t.close(clean=True)
    probe = MqttTransport(broker.url, "leak-probe")
    probe.connect()
    probe.subscribe("leak/#", qos=1)
    got: dict[str, bytes] = {}
    deadline = time.monotonic() + 10
    while len(got) < 30 and time.monotonic() < deadline:
        probe.wait(0.5)
        got.update({e.topic: e.payload for e in probe.drain()})
    probe.close()
    net.close()
    assert set(got.values()) == {b"OFFLINE"}
    assert len(got) == 30
    assert len(os.listdir("/proc/self/fd")) <= fds_before + 2


def test_vehicles_announce_online_again_after_a_broker_restart(broker) -> None:
    """The broker restarts (retained messages gone); each vehicle reconnects and says ONLINE again."""
    layout = load_layout("small-fc")
    clock = WallClock()
    agents = build_agents(layout, 3, start=clock.now(),
                          drive_factory=lambda i, serial, pose, t0: KinematicDrive(pose, start=t0))
    inbound = threading.Event()
    net = SharedNetworkLoop(activity=inbound)
    fleet = FleetRunner(agents, lambda cid: net.attach(MqttTransport(broker.url, cid)), clock,
                        inbound=inbound, idle_s=0.1)
    fleet.start()
    loop = threading.Thread(target=fleet.run, daemon=True)
    loop.start()
    try:
        broker.restart()
        deadline = time.monotonic() + 15
        online: set[str] = set()
        while len(online) < 3 and time.monotonic() < deadline:
            probe = MqttTransport(broker.url, "restart-probe")
            probe.connect()
            probe.subscribe("uagv/v2/bulletyard/+/connection", qos=1)
            probe.wait(1.0)
            online = {json.loads(e.payload)["serialNumber"] for e in probe.drain()
                      if json.loads(e.payload)["connectionState"] == "ONLINE"}
            probe.close()
        assert online == {"agv-0001", "agv-0002", "agv-0003"}
    finally:
        fleet.stop()
        loop.join(10)
        fleet.close(clean=True)
        net.close()


def test_a_transport_connecting_again_after_a_close_stays_on_the_shared_loop(broker) -> None:
    """Connecting again after close() makes a fresh paho client; the loop must adopt it too (before,
    it fell back to a network thread of its own)."""
    net = SharedNetworkLoop()
    t = net.attach(MqttTransport(broker.url, "again"))
    threads_before = threading.active_count()
    try:
        for _ in range(2):
            t.connect()
            assert net.client_count == 1
            assert threading.active_count() == threads_before  # no paho loop thread
            t.subscribe("again/#", qos=1)
            t.publish("again/x", b"hi", 1)
            assert t.wait(5.0)
            assert [e.payload for e in t.drain()] == [b"hi"]
            t.close()
            deadline = time.monotonic() + 5
            while net.client_count and time.monotonic() < deadline:
                t.wait(0.05)  # the loop unregisters on its thread
            assert net.client_count == 0
    finally:
        net.close()
