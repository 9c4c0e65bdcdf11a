"""``bulletyard check``: thresholds pass and fail as they should, JUnit XML parses, bad files exit 2."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bulletyard.cli import main

SCENARIOS = """\
defaults:
  layout: small-fc
  orders: 6
  rate_per_h: 240
scenarios:
  - name: holds
    robots: 3
    expect:
      - lines_per_hour >= 50
      - collisions == 0
      - cycle_time_p95_s <= 900
  - name: made-to-fail
    robots: 3
    expect:
      - lines_per_hour >= 100000
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site-checks.yaml"
    path.write_text(text)
    return path


def test_check_passes_fails_and_writes_junit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, SCENARIOS)
    junit = tmp_path / "junit.xml"
    status = main(["check", str(path), "--out", str(tmp_path / "runs"), "--junit", str(junit), "--quiet"])
    out = capsys.readouterr().out
    assert status == 1
    assert "1 of 2 scenarios passed" in out
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "1", "0")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert cases["holds"].find("failure") is None
    failure = cases["made-to-fail"].find("failure")
    assert failure is not None
    assert "lines_per_hour >= 100000 (got " in failure.get("message", "")

    passing = _write(tmp_path, SCENARIOS.split("  - name: made-to-fail")[0])
    assert main(["check", str(passing), "--out", str(tmp_path / "runs2"), "--quiet"]) == 0
    assert ET.parse(tmp_path / "runs2" / "junit.xml").getroot().get("failures") == "0"


def test_a_run_that_cannot_run_is_an_error_not_a_crash(tmp_path: Path) -> None:
    text = "scenarios:\n  - name: crowded\n    robots: 5000\n    expect: ['collisions == 0']\n"
    path = _write(tmp_path, text)
    assert main(["check", str(path), "--out", str(tmp_path / "runs"), "--quiet"]) == 1
    suite = ET.parse(tmp_path / "runs" / "junit.xml").getroot()
    assert suite.get("errors") == "1"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("scenarios:\n  - name: a\n    expect: ['lines_per_hour => 9']\n", ":3: key scenarios.0.expect.0:"),
        ("scenarios:\n  - name: a\n    expect: ['speed >= 9']\n", "unknown metric 'speed'"),
        ("scenarios:\n  - name: a\n    robot: 3\n    expect: ['collisions == 0']\n",
         ":3: key scenarios.0.robot: unknown key"),
        ("scenarios:\n  - name: a\n    layout: moon\n    expect: ['collisions == 0']\n",
         ":3: key scenarios.0.layout: unknown layout 'moon'"),
        ("scenarios:\n  - name: a\n    robots: many\n    expect: ['collisions == 0']\n",
         ":3: key scenarios.0.robots: Input should be a valid integer"),
        ("scenarios:\n  - name: a\n", ":2: key scenarios.0.expect: required key is missing"),
    ],
)
def test_a_bad_file_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         text: str, expected: str) -> None:
    path = _write(tmp_path, text)
    assert main(["check", str(path), "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert f"{path}{expected}" in err or expected in err
    assert str(path) in err
    assert not (tmp_path / "runs").exists()  # nothing ran
