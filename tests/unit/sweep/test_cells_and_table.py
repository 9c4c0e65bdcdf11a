"""A sweep cell always answers with a record; the journal resumes; the table takes what comes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from bulletyard.sweep.cell import TOKEN_FILE, run_cell
from bulletyard.sweep.spec import load_spec
from bulletyard.sweep.table import JOURNAL, KPI_COLUMNS, Journal, flatten, rows, write_table

SPEC = "layouts: small-fc\nrobots: [2, 500]\norders: 4\nrate_per_h: 240\n"


def _cells(tmp_path: Path):
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC)
    return load_spec(path)[1]


def test_a_failed_cell_is_a_record_with_its_error_and_the_others_still_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / TOKEN_FILE).write_text("t1")
    small, too_big = _cells(tmp_path)
    bad = run_cell(too_big.simulate_kwargs(), too_big.id, str(out), "t1")
    assert bad["status"] == "failed"
    assert "room for" in bad["error"]
    assert "500" in bad["error"]
    assert "traceback" not in bad  # a bad cell, not a bug
    good = run_cell(small.simulate_kwargs(), small.id, str(out), "t1")
    assert good["status"] == "ok", good["error"]
    assert (out / "cells" / small.id / "summary.json").is_file()
    assert "files" not in good  # same disk: the worker wrote the run folder itself


def test_a_worker_on_another_disk_sends_the_small_files_back(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / TOKEN_FILE).write_text("driver-token")
    small = _cells(tmp_path)[0]
    rec = run_cell(small.simulate_kwargs(), small.id, str(out), "another-token", keep_traces=False)
    assert rec["status"] == "ok"
    assert not (out / "cells").exists()
    assert json.loads(rec["files"]["summary.json"]) == rec["summary"]
    assert "<html" in rec["files"]["report.html"].lower()


def test_journal_resumes_and_table_keeps_unknown_summary_fields(tmp_path: Path) -> None:
    cells = _cells(tmp_path)
    j = Journal(tmp_path)
    summary = {"orders_total": 4, "order_cycle_time_s": {"p95": 12.5}, "a_new_field": 7, "lists": [1, 2]}
    j.add({"cell_id": cells[0].id, "status": "ok", "error": None, "summary": summary,
           "kpis": {"lines_per_hour": 99.0}, "files": {"summary.json": "{}"}})
    j.add({"cell_id": cells[1].id, "status": "failed", "error": "ValueError: no room", "summary": None,
           "kpis": None})
    with (tmp_path / JOURNAL).open("a") as fh:
        fh.write('{"cell_id": "cut short')  # a driver killed mid-line
    again = Journal(tmp_path)
    assert again.finished(cells[0].id)
    assert again.finished(cells[1].id)
    assert not again.finished(cells[1].id, retry_failed=True)
    assert "files" not in again.records[cells[0].id]

    table = rows(cells, again)
    write_table(tmp_path / "results.csv", table)
    with (tmp_path / "results.csv").open() as fh:
        read = list(csv.DictReader(fh))
    assert [r["status"] for r in read] == ["ok", "failed"]
    assert [r["summary.a_new_field"] for r in read] == ["7", ""]
    assert read[0]["summary.order_cycle_time_s.p95"] == "12.5"
    assert read[0]["lines_per_hour"] == "99.0"
    assert read[1]["error"] == "ValueError: no room"
    assert set(KPI_COLUMNS) <= set(read[0])
    assert "summary.lists" not in read[0]


def test_flatten_joins_nested_keys() -> None:
    assert flatten({"a": {"b": 1, "c": {"d": None}}, "e": "x"}) == {
        "summary.a.b": 1, "summary.a.c.d": None, "summary.e": "x"
    }


def test_a_layout_file_travels_with_its_job(tmp_path: Path) -> None:
    from bulletyard.sweep.executor import Job
    from warehouse_maps.catalog import bundled_path

    site = tmp_path / "site.yaml"
    site.write_text(bundled_path("small-fc").read_text())
    job = Job.of("c1", {"layout": str(site), "robots": 2, "orders": 3, "rate_per_h": 240})
    assert job.files == {"layout": site.read_text()}
    site.unlink()  # as on a cluster node that never had the file
    rec = run_cell(job.kwargs, job.cell_id, str(tmp_path / "out"), "t", job.files, keep_traces=False)
    assert rec["status"] == "ok", rec["error"]
    assert rec["summary"]["manifest"]["layout"] == "small-fc"
