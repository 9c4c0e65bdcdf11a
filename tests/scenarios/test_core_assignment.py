"""Whole simulations with each assignment solver of the controller core (issue 8 item 1).

The core matches robots to trips through ``controller.assignment``: the OR-Tools flow assigner by
default, greedy when configured. Both must complete every order, without collisions, and the flow
run must be reproducible bit for bit from its seed (its solver has no time limit and no randomness).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bulletyard.runtime.sim_setup import SimOptions, Simulation


def _run(out: Path, assigner: str, seed: int = 2) -> tuple[dict, Simulation]:
    options = SimOptions(layout="small-fc", robots=4, orders=8, rate_per_h=600.0, seed=seed, out=out,
                         assigner=assigner)
    with Simulation(options) as sim:
        result = sim.run()
    assert result.exit_code == 0
    return result.summary, sim


@pytest.mark.parametrize("assigner", ["flow", "greedy"])
def test_core_completes_orders_with_each_assigner(tmp_path: Path, assigner: str) -> None:
    summary, sim = _run(tmp_path, assigner)
    assert sim.controller.config.assignment.solver == assigner
    assert type(sim.controller.assignment.assigner).__name__ == (
        "FlowAssigner" if assigner == "flow" else "GreedyAssigner")
    assert summary["orders_completed"] == summary["orders_total"] == 8
    assert summary["orders_failed"] == 0
    assert summary["collisions"] == 0


def test_flow_run_is_reproducible(tmp_path: Path) -> None:
    _run(tmp_path / "a", "flow", seed=4)
    _run(tmp_path / "b", "flow", seed=4)
    assert (tmp_path / "a" / "trace.jsonl").read_bytes() == (tmp_path / "b" / "trace.jsonl").read_bytes()
