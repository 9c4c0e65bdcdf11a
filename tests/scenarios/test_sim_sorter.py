"""The conveyor sorter inside `bulletyard sim`: orders complete only once every unit is sorted,
sorter figures reach the summary and the report, a closed chute's destination borrows another
chute, determinism holds, and bad --chute-close input is refused with one clear line.

Runs on small-fc with a short sorter loop added (a layout file written by the test), so each run
takes a few seconds; the fc layout has the same kind of sorter at full size."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulletyard.cli import main
from bulletyard.runtime.sim_setup import SimOptions, Simulation
from sim.faults import fault_plan
from sim.trace import read_trace
from warehouse_maps.catalog import LAYOUT_DIR

SORTER = """
equipment:
  sorter:
    chutes: 8
    inducts: 2
    loop_length_m: 60.0
    pitch_m: 0.6
    speed_mps: 2.5
"""


@pytest.fixture
def layout_file(tmp_path: Path) -> Path:
    text = (LAYOUT_DIR / "small-fc.yaml").read_text(encoding="utf-8")
    path = tmp_path / "small-fc-sorter.yaml"
    path.write_text(text.replace('name: "small-fc"', 'name: "small-fc-sorter"') + SORTER, encoding="utf-8")
    return path


def run(layout: Path, out: Path, **kw) -> tuple[dict, Simulation]:
    options = SimOptions(
        **{"layout": str(layout), "robots": 4, "orders": 6, "rate_per_h": 600.0, "seed": 3, "out": out, **kw}
    )
    with Simulation(options) as sim:
        sim.observer.history = {}
        result = sim.run()
    assert result.exit_code == 0
    return result.summary, sim


def test_orders_complete_after_their_units_are_sorted(layout_file: Path, tmp_path: Path) -> None:
    summary, sim = run(layout_file, tmp_path / "a")
    assert summary["orders_completed"] == 6
    units = sum(line.quantity for order in sim.orders for line in order.lines)
    counters = summary["sorter"]["counters"]
    assert counters["sorted"] == units  # every picked unit reached its destination's chute
    assert counters["inducted"] == units + counters["rejected"]  # rejects were reworked and inducted again
    assert summary["sorter_items_per_hour"] > 0
    assert summary["reject_rate"] is not None
    assert summary["recirculation_rate"] is not None
    # every order went picked -> inducted -> sorted -> complete, in that order, on the WMS status topic
    for order_id, history in sim.observer.history.items():
        where = [history.index(s) for s in ("picked", "inducted", "sorted", "complete")]
        assert where == sorted(where), (order_id, history)
    # the report's chute-fill plot has data: D001's first chute filled during the run
    assert any(fill > 0 for _, fill in sim.kpi.chute_series("c001"))
    assert 'alt="Chute fill"' in (tmp_path / "a" / "report.html").read_text(encoding="utf-8")


def test_closed_chutes_are_avoided_and_every_order_completes(layout_file: Path, tmp_path: Path) -> None:
    # D001's two chutes close before any unit arrives: it borrows a chute of another destination
    faults = fault_plan(None, [], None, ["c001@10", "c005@10"])
    summary, sim = run(layout_file, tmp_path / "b", faults=faults)
    assert summary["orders_completed"] == 6
    assert summary["sorter"]["planner"]["borrowed_chutes"] >= 1
    model = sim.sorting.agent.model
    assert model.chutes.get("c001").status.value == "CLOSED"
    assert model.chutes.get("c001").received_items == 0
    assert model.chutes.get("c005").received_items == 0


def test_same_seed_same_run_with_the_sorter(layout_file: Path, tmp_path: Path) -> None:
    a, _ = run(layout_file, tmp_path / "c")
    b, _ = run(layout_file, tmp_path / "d")
    assert (tmp_path / "c" / "trace.jsonl").read_bytes() == (tmp_path / "d" / "trace.jsonl").read_bytes()
    assert a["sorter"] == b["sorter"]
    assert read_trace(tmp_path / "c" / "trace.jsonl")


def test_bad_chute_close_is_one_clear_error(layout_file: Path, tmp_path: Path, capsys) -> None:
    args = ["sim", "--layout", str(layout_file), "--chute-close", "c999@5", "--out", str(tmp_path / "e")]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "c999" in err[0]
    assert main(["sim", "--layout", "small-fc", "--chute-close", "c001@5", "--out", str(tmp_path / "f")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "no sorter" in err[0]
