"""PyBullet world of the loop (DIRECT mode): bodies follow the model, stay bounded, chutes change colour."""

from __future__ import annotations

import math

import pybullet as p
import pytest

from bus.clock import Instant, seconds
from controller.sortation.planner import SortationPlanner
from sim.sorter_runner import SorterRun
from sim.sorter_world import COLOURS, SorterWorld, connect, disconnect
from sorter.agent import SorterAgent
from sorter.events import ChuteStatus
from tests.unit.sorter.helpers import at, make, small_config


@pytest.fixture
def client():
    cid = connect(gui=False)
    yield cid
    disconnect(cid)


def test_carriers_are_where_the_model_says(client: int) -> None:
    model = make()
    world = SorterWorld(model, client)
    world.sync(at(3.3))
    for c in (0, 7, 39):
        s = model.carrier_position_m(c, at(3.3))
        x, y = world.loop_xy(s)
        pos, _ = p.getBasePositionAndOrientation(world.carriers[c], physicsClientId=client)
        assert math.dist(pos[:2], (float(x), float(y))) < 1e-6


def test_body_count_stays_bounded_over_a_long_run(client: int) -> None:
    cfg = small_config(capacity=3, clear_s=20.0, no_read=0.1, inducts=2, automatic=True)
    model = make(cfg)
    world = SorterWorld(model, client)
    plan = {"D001": ("c001", "c002"), "D002": ("c003",)}
    plan.update({f"D{k:03d}": ("c004",) for k in range(3, 181)})
    run = SorterRun(SorterAgent("s1", "t", model), SortationPlanner("t", plan), world=world,
                    frame_period=seconds(0.1))
    counts = []
    for minute in range(1, 21):
        run.run_until(Instant(model.start + seconds(60 * minute)))
        counts.append(world.body_count())
    assert model.counts.inducted > 600  # small chutes jam the loop: many laps, many rejects
    assert model.counts.sorted > 100
    fixed = 1 + model.carrier_count + len(world.chute_bodies)
    assert max(counts) <= fixed + model.carrier_count + 20  # parcels: at most one per carrier, plus falling
    assert counts[-1] == counts[len(counts) // 2] or counts[-1] - counts[len(counts) // 2] <= 5
    assert world.bodies_created < model.counts.inducted / 20
    model.check_conservation()


def test_chute_colour_follows_state(client: int) -> None:
    model = make(resolver=lambda code: "c001")
    world = SorterWorld(model, client)
    model.set_chute_closed(at(1), "c002", True)
    world.sync(at(1))
    shape = p.getVisualShapeData(world.chute_bodies["c002"], physicsClientId=client)[0]
    assert shape[7] == pytest.approx(COLOURS[ChuteStatus.CLOSED])
    shape = p.getVisualShapeData(world.chute_bodies["c001"], physicsClientId=client)[0]
    assert shape[7] == pytest.approx(COLOURS[ChuteStatus.OPEN])


def test_a_sorted_parcel_drops_into_its_chute_then_returns_to_the_pool(client: int) -> None:
    from sorter.events import Diverted, Item

    model = make(resolver=lambda code: "c002")
    world = SorterWorld(model, client, fall_time=seconds(3))
    model.induct(at(0), Item("a", "D1:1"), "in-1")
    t = 0.0
    diverted = None
    while diverted is None:
        t += 0.1
        events = model.advance_to(at(t))
        world.sync(at(t))
        diverted = next((e for e in events if isinstance(e, Diverted)), None)
    body = world.falling["a"].body
    start_z = p.getBasePositionAndOrientation(body, physicsClientId=client)[0][2]
    for _ in range(10):
        t += 0.1
        world.sync(at(t))
    pos = p.getBasePositionAndOrientation(body, physicsClientId=client)[0]
    chute_xy = world.chute_pose("c002", model.chutes.get("c002").position_m)[:2]
    assert pos[2] < start_z - 0.5  # it fell
    assert math.dist(pos[:2], chute_xy) < 0.5  # into its chute
    for _ in range(25):
        t += 0.1
        world.sync(at(t))
    assert "a" not in world.falling
    assert body in world.pool
