"""The sizing answer: the knee, the smallest fleet that holds a target in every seed, the page."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

from bulletyard.sweep.sizing import analyse, write_sizing_html
from bulletyard.sweep.spec import TargetSpec


def _row(robots: int, seed: int, lph: float | None, status: str = "ok", profile: str = "peak") -> dict:
    return {"layout": "fc", "profile_label": profile, "robots": robots, "seed": seed, "status": status,
            "lines_per_hour": lph, "offered_lines_per_hour": 1000.0}


def _spec(target: TargetSpec | None) -> SimpleNamespace:
    return SimpleNamespace(name="test", metric="lines_per_hour", target=target)


TABLE = [
    _row(25, 1, 300.0), _row(25, 2, 320.0),
    _row(50, 1, 700.0), _row(50, 2, 640.0),
    _row(100, 1, 960.0), _row(100, 2, 940.0),
    _row(200, 1, 990.0), _row(200, 2, None, status="failed"),
    _row(300, 1, 995.0), _row(300, 2, 992.0),
]


def test_knee_is_the_smallest_fleet_near_the_best_mean() -> None:
    study = analyse(_spec(None), TABLE)
    (series,) = study.series
    assert series.knee() == 100  # 950 >= 0.95 x 993.5; 670 is not


def test_target_needs_every_seed_to_hold_it() -> None:
    study = analyse(_spec(TargetSpec(lines_per_hour=950, profile="peak")), TABLE)
    (series,) = study.series
    assert series.smallest_holding(950) == 300  # 100 misses with seed 2; 200 has a failed seed
    assert any("300 robots hold it in every seed" in a for a in study.answers())
    none = analyse(_spec(TargetSpec(lines_per_hour=5000, profile="peak")), TABLE)
    assert any("no fleet size of the sweep holds it" in a for a in none.answers())


def test_target_for_another_profile_is_not_answered_from_this_one() -> None:
    study = analyse(_spec(TargetSpec(lines_per_hour=10, profile="steady")), TABLE)
    assert not any(a.startswith("target") for a in study.answers())


def test_page_is_self_contained(tmp_path: Path) -> None:
    spec = _spec(TargetSpec(lines_per_hour=950))
    path = tmp_path / "sizing.html"
    write_sizing_html(path, spec, analyse(spec, TABLE))
    page = path.read_text()
    assert page.count("<svg") == 1
    assert "knee: 100 robots" in page
    assert "target 950" in page
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page)
    assert "<script" not in page


def test_page_without_a_target(tmp_path: Path) -> None:
    spec = _spec(None)
    write_sizing_html(tmp_path / "sizing.html", spec, analyse(spec, TABLE))
    page = (tmp_path / "sizing.html").read_text()
    assert "knee: 100 robots" in page
    assert "target" not in page.split("<svg")[1]
