"""JUnit XML for ``bulletyard check``: the report format CI systems read (GitLab, Jenkins, GitHub
actions through a reporter). One ``testcase`` per scenario; a missed threshold is a ``failure``, a
run that could not run is an ``error``."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One scenario's outcome."""

    name: str
    time_s: float
    failures: tuple[str, ...] = ()  # thresholds missed, each "metric op value (got x)"
    error: str | None = None  # the run itself failed
    output: str = ""  # the KPI lines, for the CI page


def write_junit(path: Path, suite: str, cases: list[CaseResult]) -> None:
    """Write one ``testsuites`` document with one ``testsuite`` named ``suite``."""
    failures = sum(1 for c in cases if c.failures and c.error is None)
    errors = sum(1 for c in cases if c.error is not None)
    total_s = sum(c.time_s for c in cases)
    root = ET.Element("testsuites", name="bulletyard check", tests=str(len(cases)),
                      failures=str(failures), errors=str(errors), time=f"{total_s:.3f}")
    ts = ET.SubElement(root, "testsuite", name=suite, tests=str(len(cases)), failures=str(failures),
                       errors=str(errors), skipped="0", time=f"{total_s:.3f}")
    for c in cases:
        tc = ET.SubElement(ts, "testcase", classname=suite, name=c.name, time=f"{c.time_s:.3f}")
        if c.error is not None:
            ET.SubElement(tc, "error", message=c.error.splitlines()[0][:200], type="RunError").text = c.error
        elif c.failures:
            el = ET.SubElement(tc, "failure", message="; ".join(c.failures)[:200], type="ThresholdFailed")
            el.text = "\n".join(c.failures)
        if c.output:
            ET.SubElement(tc, "system-out").text = c.output
    ET.indent(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
