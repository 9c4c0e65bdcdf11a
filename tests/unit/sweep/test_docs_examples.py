"""The spec and the scenarios file shown in the docs stay valid (parsed and checked, not run)."""

from __future__ import annotations

import re
from pathlib import Path

from bulletyard.sweep.scenarios import load_scenarios
from bulletyard.sweep.spec import load_spec
from warehouse_maps.catalog import bundled_path

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_the_fc_sizing_spec_is_valid() -> None:
    spec, cells = load_spec(DOCS / "sizing" / "fc-sizing.yaml")
    assert len(cells) == 6 * 2 * 2
    assert spec.target is not None
    assert spec.target.lines_per_hour == 850


def test_the_scenarios_file_of_testing_your_site_is_valid(tmp_path: Path) -> None:
    page = (DOCS / "testing-your-site.md").read_text()
    block = re.search(r"```yaml\n# checks/site-checks.yaml\n(.*?)```", page, re.S)
    assert block is not None
    (tmp_path / "layout").mkdir()
    (tmp_path / "layout" / "site.yaml").write_text(bundled_path("small-fc").read_text())
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "site-checks.yaml").write_text(block.group(1))
    scenarios = load_scenarios(tmp_path / "checks" / "site-checks.yaml")
    assert [s.spec.name for s in scenarios] == ["steady-12", "midnight-surge", "one-robot-dies"]
    assert sum(len(s.thresholds) for s in scenarios) == 8
