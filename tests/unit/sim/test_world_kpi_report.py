"""World building, contact query, snapshot rendering, KPIs and the HTML report."""

from __future__ import annotations

import numpy as np
import pytest

from sim.kpi import KpiCollector
from sim.record import render, write_png
from sim.report import write_report
from sim.report_data import kpi_series, run_data
from sim.trace import TraceFrame
from sim.world import World
from warehouse_maps.ascii_rows import layout_from_rows
from warehouse_maps.catalog import load_layout


@pytest.fixture
def world():
    w = World(load_layout("small-fc"))
    yield w
    w.close()


def test_world_merges_scenery_and_shares_robot_shapes(world: World) -> None:
    before = world.body_count()
    assert before < 100  # merged rectangles, not one body per cell
    for i in range(50):
        world.add_robot(f"agv-{i:04d}", 1.5 + i, -1.5)
    assert world.body_count() == before + 50


def test_pybullet_contacts_only_between_touching_robots(world: World) -> None:
    world.add_robot("a", 1.5, -1.5)
    world.add_robot("b", 2.5, -1.5)
    world.add_robot("c", 8.5, -8.5)
    assert world.robot_contacts() == []
    world.set_pose("b", 2.0, -1.5, 0.0)
    assert world.robot_contacts() == [("a", "b")]


def test_snapshot_renders_a_png_without_display(world: World, tmp_path) -> None:
    world.add_robot("a", 1.5, -1.5)
    rgb = render(world, 160, 100)
    assert rgb.shape == (100, 160, 3)
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 3  # not a blank image
    out = tmp_path / "f.png"
    write_png(out, rgb)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_kpi_collects_orders_travel_and_deadlocks(tmp_path) -> None:
    kpi = KpiCollector(bin_s=60, grid_shape=(5, 5), deadlock_after_s=10)
    kpi.order_arrived("o1", 0.0, 2)
    kpi.order_arrived("o2", 5.0, 1)
    kpi.order_arrived("o3", 6.0, 1)
    for k in range(31):
        x = 0.5 + min(k, 4) * 1.0
        kpi.observe(TraceFrame(float(k), {"r1": (x, -0.5, 0.0), "r2": (2.5, -2.5, 0.0)},
                               {"r1": "driving", "r2": "waiting"}))
    kpi.order_completed("o1", 30.0)
    kpi.order_completed("o1", 31.0)  # counted once
    kpi.order_failed("o3", 31.0, "no stock")
    summary = kpi.summary(sim_time_s=3600.0, wall_time_s=1.0)
    assert summary["orders_completed"] == 1
    assert summary["order_lines_completed"] == 2
    assert summary["orders_failed_by_reason"] == {"no stock": 1}
    assert summary["orders_open"] == 1
    assert summary["order_cycle_time_s"]["p50"] == 30.0
    assert summary["travel_m"] == 4.0
    assert summary["deadlocks"] == 2  # r1 stuck after reaching x=4.5, r2 never moved
    assert summary["robot_utilisation"] == 1.0
    assert kpi.robots_by_state() == {"driving": [1.0], "waiting": [1.0]}  # one robot each, all 30 s
    series = kpi_series(kpi, layout_from_rows("five", [".....", ".S...", ".....", ".....", "....."]), 3600.0)
    path = write_report(tmp_path / "report.html", run_data("r", {"manifest": {"seed": 1}, **summary}, series))
    text = path.read_text()
    assert text.count("data:image/svg+xml;base64,") == 5
    assert "Congestion" in text


def test_chute_fill_keeps_one_sample_per_bin_the_latest() -> None:
    kpi = KpiCollector(bin_s=60.0)
    for t_s, fill in [(0.0, 0.1), (30.0, 0.2), (59.5, 0.25), (60.0, 0.3), (150.0, 0.5)]:
        kpi.chute_sample("c001", t_s, fill)
    assert kpi.chute_series("c001") == [(59.5, 0.25), (60.0, 0.3), (150.0, 0.5)]
    assert kpi.chute_series("c999") == []
