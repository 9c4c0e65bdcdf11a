"""Whole simulations of the operations (issue 18) on small-fc: pile-on counted from the trace
agrees with the summary, every order completes or fails with a reason, no collisions, for both
rules; the summary carries the throughput bound and the efficiency."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulletyard.runtime.sim_setup import SimOptions, Simulation
from sim.trace import read_trace
from warehouse_maps.layout import PlaceKind


def _visits_in_trace(path: Path, stations: set[tuple[int, int]]) -> int:
    """Episodes of a robot running an action on a pick station's cell, counted from the trace alone."""
    at: dict[str, bool] = {}
    visits = 0
    for frame in read_trace(path):
        for rid, (x, y, _) in frame.robots.items():
            here = frame.state.get(rid) == "busy" and (int(x // 1.0), int(-y // 1.0)) in stations
            if here and not at.get(rid, False):
                visits += 1
            at[rid] = here
    return visits


@pytest.mark.parametrize("rule", ["pileon", "greedy"])
def test_pile_on_from_the_trace_agrees_with_the_summary(tmp_path: Path, rule: str) -> None:
    options = SimOptions(layout="small-fc", robots=6, orders=30, rate_per_h=3600.0, seed=2, out=tmp_path,
                         assigner=rule)
    with Simulation(options) as sim:
        result = sim.run()
        stations = set(sim.layout.cells_of(PlaceKind.PICK_STATION))
        assert sim.layout.cell_size_m == 1.0
    s = result.summary
    assert result.exit_code == 0
    assert s["collisions"] == 0
    assert s["orders_completed"] + s["orders_failed"] == s["orders_total"] == 30
    assert all(reason for reason in s["orders_failed_by_reason"])  # a failure always says why
    assert s["operations_rule"] == rule
    visits = _visits_in_trace(tmp_path / "trace.jsonl", stations)
    assert visits == s["station_visits"]
    assert s["order_lines_picked"] == s["order_lines_completed"]  # every order ran to the end
    assert s["pile_on"] == pytest.approx(s["order_lines_completed"] / visits, abs=1e-3)
    assert s["pile_on"] >= 1.0
    if rule == "greedy":
        assert visits >= s["orders_completed"]  # at least one pod visit per order
    bound = s["throughput_bound_lines_per_hour"]
    assert bound == min(v for v in s["throughput_bound_by"].values() if v is not None)
    assert 0 < s["throughput_efficiency"] <= 1.0
    assert 0 < s["station_utilisation"] < 1.0
    assert "<th>throughput bound</th>" in (tmp_path / "report.html").read_text()
