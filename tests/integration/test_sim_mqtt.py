"""The same scenario in-process and over a real Mosquitto: same orders complete, zero collisions."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulletyard.runtime.sim_setup import SimOptions, Simulation


def _run(tmp: Path, broker_url: str | None) -> dict:
    sim = Simulation(SimOptions(layout="small-fc", robots=3, orders=3, rate_per_h=1800.0, seed=2, out=tmp,
                                broker_url=broker_url, real_time_factor=20.0, max_sim_s=1200.0))
    with sim:
        sim.observer.history = {}  # every status per order (the observer keeps only open orders)
        result = sim.run()
        history = sim.observer.history
        result.summary["complete"] = sorted(k for k, v in history.items() if v[-1] == "complete")
    return result.summary


@pytest.mark.broker
def test_mqtt_run_matches_in_process_run(tmp_path: Path, broker) -> None:
    local = _run(tmp_path / "inproc", None)
    remote = _run(tmp_path / "mqtt", broker.url)
    assert local["complete"] == remote["complete"] == ["o-000001", "o-000002", "o-000003"]
    assert local["collisions"] == remote["collisions"] == 0
    assert remote["manifest"]["transport"] == "mqtt"


@pytest.mark.broker
def test_robotic_sortation_over_mqtt(tmp_path: Path, broker) -> None:
    """Parcels, chute states and releases over a real broker: every parcel sorted, none into a
    closed chute (the floor of tests/scenarios/test_robotic_sortation.py, bags of 1: every tip
    fills its chute, so bags are swapped whichever chutes the timing of the bus leads to)."""
    from tests.scenarios.test_robotic_sortation import ROWS

    layout = tmp_path / "mini-sort.yaml"
    layout.write_text('format: bulletyard-layout/1\nname: "mini-sort"\nrows:\n'
                      + "".join(f'  - "{r}"\n' for r in ROWS), encoding="utf-8")
    sim = Simulation(SimOptions(layout=str(layout), robots=3, orders=6, rate_per_h=3600.0, seed=2,
                                out=tmp_path / "run", broker_url=broker.url, real_time_factor=50.0,
                                chute_capacity=1, max_sim_s=1200.0))
    with sim:
        summary = sim.run().summary
    s = summary["sortation"]
    assert s["parcels_sorted"] == 6
    assert s["chute_bag_swaps"] >= 1
    assert s["chute_violations"] == {}
    assert summary["collisions"] == 0
