"""``bulletyard sweep SPEC.yaml --out DIR``: a grid of simulations on Ray, gathered into one table.

The spec is checked completely first (exit 2 naming the key and line). Then every cell not yet in
``DIR/results.jsonl`` runs as a Ray task; each finished cell is journaled at once and the table
``DIR/results.csv`` rebuilt, with a progress bar. At the end ``DIR/sizing.html`` plots the
throughput against the fleet size. Exit status: 0 when every cell ran, 1 when some failed (each
with its error in the table), 2 for a bad spec or no Ray, 130 after Ctrl-C (what finished stays).
See ``docs/sizing.md``.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
from pathlib import Path
from typing import Any

from bulletyard.errors import UsageError
from bulletyard.inputs.paths import input_file_arg, output_folder_arg


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``sweep``."""
    p = sub.add_parser("sweep", help="run a grid of simulations on Ray (sizing study)")
    p.add_argument("spec", type=input_file_arg, help="sweep spec YAML (see docs/sizing.md)")
    p.add_argument("--out", required=True, type=output_folder_arg, metavar="DIR",
                   help="sweep folder (results, cells, report)")
    p.add_argument(
        "--address", default=None, help="Ray cluster (ray://HOST:PORT; default $RAY_ADDRESS or local)"
    )
    p.add_argument("--workers", type=int, default=None, help="local Ray: CPUs to use (default: all)")
    p.add_argument("--retry-failed", action="store_true", help="run failed cells again on resume")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_sweep)


def _sweep(args: argparse.Namespace) -> int:
    from rich.console import Console

    from bulletyard.sweep.executor import Job, ray_address, require_ray, run_on_ray
    from bulletyard.sweep.progress import CellProgress
    from bulletyard.sweep.spec import load_spec
    from bulletyard.sweep.table import TABLE, Journal, rows, write_table

    spec_path = Path(args.spec)
    spec, cells = load_spec(spec_path)
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be at least 1")
    require_ray()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(8)
    (out / ".sweep-token").write_text(token, encoding="utf-8")
    if spec_path.resolve() != (out / "spec.yaml").resolve():
        shutil.copyfile(spec_path, out / "spec.yaml")
    journal = Journal(out)
    todo = [c for c in cells if not journal.finished(c.id, args.retry_failed)]
    console = Console()
    console.print(f"sweep {spec.name}: {len(cells)} cells, {len(cells) - len(todo)} already finished, "
                  f"{len(todo)} to run")
    # Largest fleets first (they run longest): the last tasks are then short ones, and no
    # worker is left alone with a long run at the end. The table keeps the grid's order.
    jobs = [Job.of(c.id, c.simulate_kwargs()) for c in sorted(todo, key=lambda c: -c.robots)]

    def on_record(record: dict[str, Any]) -> None:
        folder = out / "cells" / record["cell_id"]
        for name, text in (record.get("files") or {}).items():
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text, encoding="utf-8")
        journal.add(record)
        write_table(out / TABLE, rows(cells, journal))
        bar.advance(record)

    interrupted = False
    with CellProgress(console, len(jobs), quiet=args.quiet) as bar:
        try:
            if jobs:
                run_on_ray(jobs, out, token, spec.keep_traces, on_record,
                           address=ray_address(args.address), workers=args.workers, on_start=console.print)
        except KeyboardInterrupt:
            interrupted = True
    table = rows(cells, journal)
    write_table(out / TABLE, table)
    _write_sizing(out, spec, table, console)
    failed = [r for r in table if r["status"] != "ok"]
    for r in failed:
        console.print(f"[red]failed[/red] {r['cell_id']}: {r['error']}")
    console.print(f"{len(table)} of {len(cells)} cells finished ({len(failed)} failed): {out / TABLE}")
    if interrupted:
        console.print("interrupted: finished cells are kept; run the same command to resume")
        return 130
    return 1 if failed else 0


def _write_sizing(out: Path, spec: Any, table: list[dict[str, Any]], console: Any) -> None:
    from bulletyard.sweep.sizing import analyse, write_sizing_html

    study = analyse(spec, table)
    write_sizing_html(out / "sizing.html", spec, study)
    for line in study.answers():
        console.print(line)
    console.print(f"sizing report: {out / 'sizing.html'}")

