"""The sweep's results: a journal of finished cells and the table built from it.

``DIR/results.jsonl`` gets one line per finished cell, appended as each finishes (the resume
point: a re-run skips every cell already in it). ``DIR/results.csv`` is rebuilt from the journal
after each cell, for the cells of the current spec, in grid order. Its columns (``docs/sizing.md``):

- the cell: ``cell_id``, ``status`` (``ok`` or ``failed``), ``error``, then every
  :class:`bulletyard.sweep.spec.Cell` field;
- the KPIs: every :class:`bulletyard.api.Kpis` field;
- everything else of the run's ``summary.json`` that is a number, a string or a boolean, nested
  keys joined with dots (``summary.order_cycle_time_s.p95``). Fields a newer summary adds become
  new columns; a run without one leaves it empty.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import fields
from pathlib import Path
from typing import Any

from bulletyard.api import Kpis
from bulletyard.sweep.spec import Cell

JOURNAL = "results.jsonl"
TABLE = "results.csv"
CELL_COLUMNS = ("cell_id", "status", "error", *Cell.model_fields)
KPI_COLUMNS = tuple(f.name for f in fields(Kpis))


def flatten(summary: dict[str, Any], prefix: str = "summary.") -> dict[str, Any]:
    """The scalar fields of a summary, nested keys joined with dots (lists left out)."""
    out: dict[str, Any] = {}
    for key, value in summary.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}."))
        elif value is None or isinstance(value, bool | int | float | str):
            out[name] = value
    return out


class Journal:
    """``results.jsonl`` of one sweep folder: read once, appended to as cells finish."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / JOURNAL
        self.records: dict[str, dict[str, Any]] = {}
        if self.path.is_file():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    try:
                        rec = json.loads(line)
                    except json.JSONDecodeError:  # a line cut short by a killed driver: rerun it
                        continue
                    self.records[rec["cell_id"]] = rec

    def finished(self, cell_id: str, retry_failed: bool = False) -> bool:
        """True when the cell has a record (a failed one counts unless ``retry_failed``)."""
        rec = self.records.get(cell_id)
        return rec is not None and not (retry_failed and rec["status"] != "ok")

    def add(self, record: dict[str, Any]) -> None:
        """Append one finished cell (without the shipped files, which go to the cell's folder)."""
        record = {k: v for k, v in record.items() if k != "files"}
        self.records[record["cell_id"]] = record
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, sort_keys=True) + "\n")


def rows(cells: Iterable[Cell], journal: Journal) -> list[dict[str, Any]]:
    """One row per finished cell of ``cells``, in their order."""
    out = []
    for cell in cells:
        rec = journal.records.get(cell.id)
        if rec is None:
            continue
        row: dict[str, Any] = {"cell_id": cell.id, "status": rec["status"], "error": rec.get("error")}
        row.update(cell.model_dump())
        row.update({k: (rec.get("kpis") or {}).get(k) for k in KPI_COLUMNS})
        row.update(flatten(rec.get("summary") or {}))
        out.append(row)
    return out


def write_table(path: Path, table: list[dict[str, Any]]) -> None:
    """``results.csv``: fixed columns first, then the summary's fields sorted by name."""
    extra = sorted({k for row in table for k in row} - set(CELL_COLUMNS) - set(KPI_COLUMNS))
    columns = [*CELL_COLUMNS, *KPI_COLUMNS, *extra]
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for row in table:
            writer.writerow({k: _cell_text(row.get(k)) for k in columns})
    tmp.replace(path)


def _cell_text(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return " ".join(str(v) for v in value)
    return "" if value is None else value
