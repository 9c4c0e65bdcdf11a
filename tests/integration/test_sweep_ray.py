"""``bulletyard sweep`` on a real Ray cluster: a head started by the test on loopback, a 2 x 2
sweep submitted to it by address, results checked against a run made on its own, and a resumed
sweep that runs nothing new. The head is stopped even when the test fails."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
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
    assert first.returncode == 0, first.stderr + first.stdout
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
    assert again.returncode == 0, again.stderr + again.stdout
    assert "4 already finished, 0 to run" in again.stdout
    assert (out / "results.jsonl").read_text().splitlines() == journal_lines
    records = [json.loads(line) for line in journal_lines]
    assert {r["status"] for r in records} == {"ok"}
