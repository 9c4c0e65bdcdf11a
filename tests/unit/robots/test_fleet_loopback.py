"""The loopback path: a fleet on the in-process broker and a simulated clock (no network, no threads).

This is what controller tests can use instead of fakes: real ``VehicleAgent``s on
``KinematicDrive``s behind ``InProcTransport``s, driven in lock-step by jumping a ``SimClock``
to the fleet's next wakeup. Two runs with the same inputs publish identical message streams.
"""

from __future__ import annotations

import numpy as np
import pytest

from bus.clock import SIM_EPOCH, SimClock
from bus.inproc import InProcBroker
from bus.vda5050 import parse_state, to_payload
from robots.fleet import FleetError, FleetRunner, build_agents, start_cells
from robots.kinematic import FaultConfig, KinematicDrive
from robots.script_orders import line_order
from warehouse_maps import PlaceKind, load_layout

Log = list[tuple[str, bytes]]


def run(count: int, seed: int | None = None) -> tuple[Log, dict[str, str], dict[str, str]]:
    """Run the fleet to its goals; with ``seed``, moves start late at random (seeded per vehicle)."""
    layout = load_layout("small-fc")
    clock = SimClock(SIM_EPOCH)
    broker = InProcBroker(start=SIM_EPOCH)
    faults = FaultConfig(delay_probability=0.5, delay_max_s=1.5) if seed is not None else None
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed or 0).spawn(count)]
    agents = build_agents(layout, count, start=clock.now(),
                          drive_factory=lambda i, s, pose, t0: KinematicDrive(pose, start=t0, faults=faults,
                                                                              rng=rngs[i]))
    fleet = FleetRunner(agents, broker.client, clock)
    script = broker.client("script")
    script.connect()
    script.subscribe("uagv/v2/bulletyard/+/state")
    fleet.start()
    goals = {}
    for agent in agents:
        x, y = layout.cell_at_m(agent.initial_pose.x_m, agent.initial_pose.y_m)
        cells = [(x, y)]
        while len(cells) < 4:
            options = [n for n in layout.grid.neighbors(cells[-1]) if n not in cells]
            if not options:
                break
            cells.append(options[0])
        points = [(f"n{cx}_{cy}", *layout.cell_centre_m((cx, cy))) for cx, cy in cells]
        goals[agent.serial_number] = points[-1][0]
        order = line_order(serial_number=agent.serial_number, order_id="o", waypoints=points,
                           map_id=layout.name, now=clock.now())
        script.publish(f"uagv/v2/bulletyard/{agent.serial_number}/order", to_payload(order))
    log: list[tuple[str, bytes]] = []
    last: dict[str, str] = {}
    for _ in range(10_000):
        fleet.step()
        for env in script.drain():
            log.append((env.topic, env.payload))
            state = parse_state(env.payload)
            if not state.node_states and not state.driving:
                last[state.serial_number] = state.last_node_id
        if last == goals:
            break
        wake = fleet.next_wakeup()
        assert wake is not None
        clock.advance_to(wake)
        broker.advance_to(wake)
    return log, last, goals


def test_loopback_fleet_reaches_goals_deterministically() -> None:
    log, last, goals = run(12)
    assert len(goals) == 12
    assert last == goals
    again, _, _ = run(12)
    assert log == again


def test_seeded_delays_repeat_for_a_seed_and_differ_for_another() -> None:
    a, last, goals = run(6, seed=3)
    assert last == goals
    b, _, _ = run(6, seed=3)
    c, _, _ = run(6, seed=4)
    assert a == b
    assert a != c


def test_start_cells_prefer_parking_and_refuse_too_many() -> None:
    layout = load_layout("small-fc")
    cells = start_cells(layout, 40)
    parking = set(layout.cells_of(PlaceKind.PARKING))
    assert set(cells[: len(parking)]) == parking
    assert len(set(cells)) == 40
    with pytest.raises(FleetError, match="room for"):
        start_cells(layout, 10_000)
