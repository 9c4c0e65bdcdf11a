"""One cell of a sweep, run where a worker is: a call to :func:`bulletyard.simulate`, always
answered by a record (a failed run is a record with its error, never an exception).

The same function runs in a Ray task on a laptop or on a cluster node. A worker that shares the
driver's disk (it finds the sweep folder's token) writes the run folder straight into
``DIR/cells/ID``; one on another machine runs into a temporary folder and sends the small files
(``summary.json``, ``report.html``) back in the record for the driver to write.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import traceback
from pathlib import Path
from typing import Any

TOKEN_FILE = ".sweep-token"
SHIPPED_FILES = ("summary.json", "kpi_series.json", "report.html")  # cells can be compared


def run_cell(
    cell: dict[str, Any],
    cell_id: str,
    out_dir: str,
    token: str,
    files: dict[str, str] | None = None,
    keep_traces: bool = True,
) -> dict[str, Any]:
    """Run one cell; return its journal record (``status`` ``ok`` or ``failed``).

    Args:
        cell: :meth:`bulletyard.sweep.spec.Cell.simulate_kwargs` of the cell.
        cell_id: the cell's id (its folder name under ``DIR/cells``).
        out_dir: the sweep folder as the driver sees it.
        token: the content of ``DIR/.sweep-token``, to recognise a shared disk.
        files: option -> text of the file it names (the layout, the order file), used when the
            file does not exist here.
        keep_traces: keep ``trace.jsonl`` (large) in the run folder.
    """
    from bulletyard.api import simulate

    local = _shares_disk(out_dir, token)
    scratch = Path(tempfile.mkdtemp(prefix="bulletyard-cell-"))
    run_dir = Path(out_dir, "cells", cell_id) if local else scratch / "run"
    record: dict[str, Any] = {"cell_id": cell_id, "cell": cell, "host": socket.gethostname()}
    try:
        kwargs = dict(cell)
        for option, text in (files or {}).items():
            if not Path(kwargs[option]).is_file():
                copy = scratch / option / Path(kwargs[option]).name
                copy.parent.mkdir()
                copy.write_text(text, encoding="utf-8")
                kwargs[option] = str(copy)
        result = simulate(**kwargs, out=run_dir)
        record.update(status="ok", error=None, exit_code=result.exit_code, summary=result.summary,
                      kpis=result.kpis.as_dict())
    except Exception as exc:  # a cell never stops the sweep: its error is its result
        record.update(status="failed", error=f"{type(exc).__name__}: {exc}", exit_code=None,
                      summary=None, kpis=None)
        if not isinstance(exc, ValueError):  # a bug, not a bad cell: keep where it happened
            record["traceback"] = traceback.format_exc(limit=-4)
    if not keep_traces:
        (run_dir / "trace.jsonl").unlink(missing_ok=True)
    if not local:
        record["files"] = {
            name: (run_dir / name).read_text(encoding="utf-8")
            for name in SHIPPED_FILES
            if (run_dir / name).is_file()
        }
    shutil.rmtree(scratch, ignore_errors=True)
    return record


def failed_record(cell: dict[str, Any], cell_id: str, error: str) -> dict[str, Any]:
    """The record of a cell whose worker died or was cancelled (no result came back)."""
    return {"cell_id": cell_id, "cell": cell, "host": None, "status": "failed", "error": error,
            "exit_code": None, "summary": None, "kpis": None}


def _shares_disk(out_dir: str, token: str) -> bool:
    try:
        return Path(out_dir, TOKEN_FILE).read_text(encoding="utf-8").strip() == token
    except OSError:
        return False
