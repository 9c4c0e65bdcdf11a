"""``bulletyard slot``: writes a plan from a history file; bad input is one line and exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

from bulletyard.cli import main
from bus.clock import SIM_EPOCH
from controller.orders.files import orders_csv
from controller.orders.generator import OrderGenerator, StreamConfig, constant_profile

REPO = Path(__file__).resolve().parents[3]


def _history(path: Path) -> Path:
    orders = OrderGenerator(StreamConfig(n_skus=200, profile=constant_profile(400)),
                            np.random.default_rng(1)).orders(SIM_EPOCH, 4 * 3600)
    path.write_text(orders_csv(orders, SIM_EPOCH) + "BAD,SKU00001,0,CH001,,,\n")
    return path


def test_slot_writes_a_plan(tmp_path: Path, capsys) -> None:
    out = tmp_path / "slotting.yaml"
    rc = main(["slot", "--layout", "small-fc", "--history", str(_history(tmp_path / "h.csv")),
               "--out", str(out), "--skus", "200"])
    assert rc == 0
    doc = yaml.safe_load(out.read_text())
    assert doc["layout"] == "small-fc"
    assert doc["history"]["skipped_records"] == 1
    assert len(doc["pods"]) == 154
    assert doc["pods"][0]["class"] == "fast"
    assert doc["pods"][0]["demand_lines_per_bucket"] >= doc["pods"][-1]["demand_lines_per_bucket"]
    err = capsys.readouterr().err
    assert "h.csv:" in err
    assert "quantity 0" in err


def test_unreadable_history_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "h.csv"
    bad.write_text("nothing,useful\n")
    proc = subprocess.run(
        [sys.executable, "-m", "bulletyard", "slot", "--layout", "small-fc", "--history", str(bad),
         "--out", str(tmp_path / "o.yaml"), "--skus", "200"],
        cwd=REPO, capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0
    assert f"{bad}:1: header lacks column(s)" in proc.stderr
