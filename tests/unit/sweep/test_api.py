"""``bulletyard.simulate`` gives the KPIs the command line gives for the same options and seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import bulletyard
from bulletyard.api import Kpis
from bulletyard.cli import main
from bulletyard.errors import UsageError

WALL = {"wall_time_s", "real_time_factor"}


def test_api_and_cli_agree_for_the_same_seed(tmp_path: Path) -> None:
    result = bulletyard.simulate("small-fc", 3, 6, rate_per_h=240, seed=4, out=tmp_path / "api",
                                 delays="0.01,1,3")
    assert main(["sim", "--layout", "small-fc", "--robots", "3", "--orders", "6", "--rate", "240",
                 "--seed", "4", "--delays", "0.01,1,3", "--out", str(tmp_path / "cli"), "--quiet"]) == 0
    cli = json.loads((tmp_path / "cli" / "summary.json").read_text())
    assert {k: v for k, v in result.summary.items() if k not in WALL} == {
        k: v for k, v in cli.items() if k not in WALL
    }
    from_cli = Kpis.from_summary(cli, result.kpis.offered_lines_per_hour)
    assert {k: v for k, v in result.kpis.as_dict().items() if k not in WALL} == {
        k: v for k, v in from_cli.as_dict().items() if k not in WALL
    }
    assert result.kpis.lines_per_hour == cli["order_lines_per_hour"] > 0
    assert result.run_dir == tmp_path / "api"
    assert (result.run_dir / "report.html").is_file()
    assert result.exit_code == 0


def test_peak_surge_backlog_is_measured(tmp_path: Path) -> None:
    result = bulletyard.simulate("small-fc", 2, 30, profile="peak", rate_per_h=120, peak_factor=6,
                                 peak_duration_s=300, seed=1, out=tmp_path / "peak")
    peak = result.summary["peak"]
    assert (peak["surge_end_s"], peak["factor"]) == (300, 6)
    # 720 orders/h for 300 s: about 60 would arrive; the stream has 30, so all arrive in the surge
    assert peak["orders_in_surge"] == 30
    assert result.kpis.backlog_at_surge_end == peak["backlog_at_surge_end"] > 0
    assert result.kpis.first_order_completed_s is not None


def test_bad_options_raise_the_cli_error() -> None:
    with pytest.raises(UsageError, match="--robots must be at least 1"):
        bulletyard.simulate(robots=0)
    with pytest.raises(UsageError, match="needs --profile peak"):
        bulletyard.simulate(peak_factor=3)
