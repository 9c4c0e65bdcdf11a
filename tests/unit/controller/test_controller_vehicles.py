"""The controller with the robots package's VehicleAgent and KinematicDrive over the InProc bus.

Same small layout as test_controller_orders (1 m cells); the vehicles really drive (trapezoidal
speed profile, turning in place) and run pick / wait / drop actions with their own durations.
Checks: every order completes exactly once, every order/instantActions message the controller
sends is accepted by the vehicles (no error in their states), and no two vehicles come closer
than 0.8 m.
"""

from __future__ import annotations

import json

import numpy as np

from bus.clock import SIM_EPOCH
from bus.inproc import InProcBroker
from bus.topics import wms_order_status_topic
from controller.config import ControllerConfig
from controller.core import Controller
from robots.agent import VehicleAgent
from robots.drive import Pose
from robots.kinematic import KinematicDrive
from tests.unit.controller.harness import LockStep
from tests.unit.controller.test_controller_orders import final_status, order, small_layout, submit


def vehicle(serial: str, cell, layout) -> VehicleAgent:
    x, y = layout.cell_centre_m(cell)
    pose = Pose(x, y, 0.0)
    return VehicleAgent(
        serial, drive=KinematicDrive(pose, start=SIM_EPOCH), map_id=layout.name, initial_pose=pose
    )


def agents_loop(config: ControllerConfig, count: int):
    """A controller and ``count`` vehicle agents in lock step, with a WMS client collecting statuses."""
    layout = small_layout()
    ctl = Controller(config, layout, np.random.default_rng(1))
    broker = InProcBroker()
    agents = [vehicle(f"agv-{i + 1:04d}", (i, 2), layout) for i in range(count)]
    loop = LockStep(broker, ctl, agents, dt_s=0.1)
    statuses: list[dict] = []
    wms = broker.client("wms")
    wms.connect()
    wms.subscribe(wms_order_status_topic("site1"), lambda e: statuses.append(json.loads(e.payload)), qos=1)
    loop.wms = wms
    return ctl, agents, loop, statuses


def test_vehicle_agents_complete_orders_without_collision() -> None:
    ctl, agents, loop, statuses = agents_loop(ControllerConfig(), 3)
    wms = loop.wms
    errors: list = []
    ids = [f"o{i}" for i in range(5)]
    for i, oid in enumerate(ids):
        submit(loop, order(oid, ["S1", "S2", "S3"][i % 3]))

    def done() -> bool:
        wms.dispatch()
        for a in agents:
            errors.extend(e for e in a._order_errors)
        return all(final_status(statuses, i) == "complete" for i in ids)

    assert loop.run_until(done, 600), (ctl.order_counts(), dict(ctl.counters))
    assert [s["status"] for s in statuses].count("complete") == 5
    assert errors == []
    assert loop.collisions == 0, loop.min_gap_seen
    assert ctl.counters["vehicle_rejections"] == 0


def test_idle_vehicles_get_a_fresh_order_so_action_states_stay_short() -> None:
    """With ``order_rollover_actions`` = 2, a vehicle whose order carried two actions gets a new
    order when it next stands idle (cancel, then a fresh orderId). Its state then lists only the
    new order's actions (VDA 5050 keeps action states until a new order), every order still
    completes exactly once, and no vehicle reports an error."""
    ctl, agents, loop, statuses = agents_loop(ControllerConfig(execution={"order_rollover_actions": 2}), 2)
    wms = loop.wms
    errors: list = []
    longest = [0]
    ids = [f"o{i}" for i in range(6)]
    for i, oid in enumerate(ids):
        submit(loop, order(oid, ["S1", "S2", "S3"][i % 3]))

    def done() -> bool:
        wms.dispatch()
        for a in agents:
            errors.extend(a._order_errors)
            longest[0] = max(longest[0], len(a._actions))
        return all(final_status(statuses, i) == "complete" for i in ids)

    assert loop.run_until(done, 900), (ctl.order_counts(), dict(ctl.counters))
    assert [s["status"] for s in statuses].count("complete") == 6
    assert ctl.executor.resync.rollovers >= 2
    assert max(r.stream.order_number for r in ctl.executor.robots.values()) >= 2
    assert errors == []
    # without rollovers one vehicle's order would hold every action of its trips (3 per trip)
    assert longest[0] <= 2 * 3 + 1, longest[0]
    assert loop.collisions == 0, loop.min_gap_seen
