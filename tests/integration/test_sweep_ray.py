"""``bulletyard sweep`` on a real Ray cluster: a head started by the test on loopback, a 2 x 2
sweep submitted to it by address, results checked against a run made on its own, and a resumed
sweep that runs nothing new. The head is stopped even when the test fails."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from bulletyard.api import simulate
from bulletyard.sweep.table import flatten
from tests.ray_cluster import LocalRayCluster, ray_cli

pytestmark = pytest.mark.slow

SPEC = """\
name: ci-2x2
layouts: [small-fc]
robots: [2, 3]
seeds: [1, 2]
orders: 6
rate_per_h: 240
target: {lines_per_hour: 50, profile: steady}
"""
#: Summary fields that depend on the wall clock, not on the seed.
WALL_FIELDS = {"summary.wall_time_s", "summary.real_time_factor"}


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalRayCluster]:
    """One Ray head for this module (started once: it takes several seconds)."""
    ray_cli()
    c = LocalRayCluster(cpus=2)
    try:
        c.start()
        yield c
    finally:
        c.stop()


def _sweep(spec: Path, out: Path, cluster: LocalRayCluster) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bulletyard", "sweep", str(spec), "--out", str(out), "--address",
         cluster.address, "--quiet"],
        capture_output=True, text=True, timeout=600, env={**os.environ, **cluster.env},
    )


def test_sweep_on_a_cluster_by_address_then_resume(cluster: LocalRayCluster, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    out = tmp_path / "out"

    first = _sweep(spec, out, cluster)
    assert first.returncode == 0, first.stderr + first.stdout + cluster.client_server_logs()
    assert "4 to run" in first.stdout
    with (out / "results.csv").open() as fh:
        table = list(csv.DictReader(fh))
    assert [(r["robots"], r["seed"], r["status"]) for r in table] == [
        ("2", "1", "ok"), ("2", "2", "ok"), ("3", "1", "ok"), ("3", "2", "ok")
    ]
    for row in table:
        assert float(row["lines_per_hour"]) > 0
        assert float(row["lines_per_hour"]) <= float(row["offered_lines_per_hour"])
        assert (out / "cells" / row["cell_id"] / "summary.json").is_file()
    assert "<svg" in (out / "sizing.html").read_text()

    # Determinism: one cell of the table equals the same run made on its own.
    alone = simulate("small-fc", 3, 6, rate_per_h=240, seed=2, out=tmp_path / "alone")
    row = next(r for r in table if r["robots"] == "3" and r["seed"] == "2")
    expected = {k: v for k, v in flatten(alone.summary).items() if k not in WALL_FIELDS}
    got = {k: row[k] for k in expected}
    assert got == {k: "" if v is None else str(v) for k, v in expected.items()}

    journal_lines = (out / "results.jsonl").read_text().splitlines()
    again = _sweep(spec, out, cluster)
    assert again.returncode == 0, again.stderr + again.stdout + cluster.client_server_logs()
    assert "4 already finished, 0 to run" in again.stdout
    assert (out / "results.jsonl").read_text().splitlines() == journal_lines
    records = [json.loads(line) for line in journal_lines]
    assert {r["status"] for r in records} == {"ok"}


def test_ctrl_c_keeps_what_finished_then_resume_runs_the_rest(
    cluster: LocalRayCluster, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.replace("orders: 6", "orders: 16").replace("seeds: [1, 2]", "seeds: [1, 2, 3]"))
    out = tmp_path / "out"
    journal = out / "results.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bulletyard", "sweep", str(spec), "--out", str(out), "--address",
         cluster.address, "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **cluster.env},
    )
    deadline = time.monotonic() + 300
    while not (journal.is_file() and journal.read_text().strip()):
        assert time.monotonic() < deadline, "no cell finished in 300 s"
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=0.5)
        assert proc.returncode is None, (proc.communicate(), cluster.client_server_logs())
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr + stdout
    assert "run the same command to resume" in stdout
    kept = len(journal.read_text().splitlines())
    assert 1 <= kept < 6

    again = _sweep(spec, out, cluster)
    assert again.returncode == 0, again.stderr + again.stdout + cluster.client_server_logs()
    assert f"{kept} already finished, {6 - kept} to run" in again.stdout
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    assert sorted(r["cell_id"] for r in records) == sorted({r["cell_id"] for r in records})
    assert len(records) == 6


def test_check_runs_its_scenarios_on_the_cluster(cluster: LocalRayCluster, tmp_path: Path) -> None:
    path = tmp_path / "checks.yaml"
    path.write_text(
        "defaults: {layout: small-fc, orders: 6, rate_per_h: 240, robots: 2}\n"
        "scenarios:\n"
        "  - {name: holds, expect: ['collisions == 0', 'lines_per_hour >= 10']}\n"
        "  - {name: made-to-fail, expect: ['lines_per_hour >= 100000']}\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "bulletyard", "check", str(path), "--out", str(tmp_path / "runs"), "--ray",
         "--address", cluster.address, "--quiet"],
        capture_output=True, text=True, timeout=600, env={**os.environ, **cluster.env},
    )
    assert run.returncode == 1, run.stderr + run.stdout
    assert "1 of 2 scenarios passed" in run.stdout
    suite = ET.parse(tmp_path / "runs" / "junit.xml").getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "1", "0")


def test_without_an_address_sweep_starts_its_own_local_ray(cluster: LocalRayCluster, tmp_path: Path) -> None:
    # The module's cluster is running: a sweep without an address must not join it.
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.replace("robots: [2, 3]", "robots: [2]"))
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    run = subprocess.run(
        [sys.executable, "-m", "bulletyard", "sweep", str(spec), "--out", str(tmp_path / "out"), "--workers",
         "1", "--quiet"],
        capture_output=True, text=True, timeout=600, env=env,
    )
    assert run.returncode == 0, run.stderr + run.stdout
    assert "local Ray at " in run.stdout
    assert f":{cluster.gcs_port}" not in run.stdout
    assert ", 1 CPU" in run.stdout  # the module's cluster has 2
    assert len((tmp_path / "out" / "results.jsonl").read_text().splitlines()) == 2
