"""Benchmark figures come from files the benchmarks write (bench/figures.py), not from typing.

docs/benchmarks.md carries each table between ``figures:NAME`` markers, spliced from
docs/figures/NAME.md; outside the markers it has no table at all.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bench.figures import MARKER, FigureTable, splice

REPO = Path(__file__).resolve().parents[3]
DOC = REPO / "docs" / "benchmarks.md"


def test_table_writes_markdown_and_json_with_provenance(tmp_path: Path, capsys) -> None:
    table = FigureTable("t", "A title", ["robots", "lines/h"], {"seed": 1})
    table.add(100, 726.4)
    with pytest.raises(ValueError, match="2 columns"):
        table.add(1)
    text = table.emit(tmp_path)
    assert text in capsys.readouterr().out
    assert (tmp_path / "t.md").read_text() == text
    body = json.loads((tmp_path / "t.json").read_text())
    assert body["rows"] == [[100, 726.4]]
    assert body["params"] == {"seed": 1}
    assert re.fullmatch(r"[0-9a-f]{12}(-dirty)?", body["commit"])
    assert body["date"].endswith("UTC")
    assert "cores" in body["machine"]
    assert "| 100 | 726 |" in text
    assert f"Commit `{body['commit']}`" in text


def test_benchmarks_doc_is_spliced_from_the_generated_files() -> None:
    text = DOC.read_text(encoding="utf-8")
    names = [m.group(1) for m in MARKER.finditer(text)]
    assert names, "docs/benchmarks.md includes no generated table"
    fix = "run: python bench/figures.py --splice docs/benchmarks.md"
    assert splice(DOC, REPO / "docs" / "figures") == text, fix
    for name in names:
        assert (REPO / "docs" / "figures" / f"{name}.json").is_file()


def test_benchmarks_doc_has_no_hand_typed_table() -> None:
    outside = MARKER.sub("", DOC.read_text(encoding="utf-8"))
    tables = [line for line in outside.splitlines() if line.lstrip().startswith("|")]
    assert tables == [], tables
