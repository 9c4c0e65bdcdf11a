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
