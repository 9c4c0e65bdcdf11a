"""``bulletyard check SCENARIOS.yaml``: site simulations as tests, for the user's own CI.

Runs every scenario of the file (one after another here, or as Ray tasks with ``--ray``), prints
a table of each threshold with the value reached, writes JUnit XML and exits 1 when a threshold
fails or a run could not run, 2 when the file is bad (one line naming file, line and key).
See ``docs/testing-your-site.md``.
"""

from __future__ import annotations

import argparse
import secrets
from pathlib import Path
from typing import Any

from bulletyard.errors import UsageError
from bulletyard.inputs.paths import input_file_arg, output_file_arg, output_folder_arg


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``check``."""
    p = sub.add_parser("check", help="run scenarios and check their KPI thresholds (JUnit XML)")
    p.add_argument("scenarios", type=input_file_arg, help="scenarios YAML (see docs/testing-your-site.md)")
    p.add_argument("--out", default="runs/check", type=output_folder_arg, metavar="DIR",
                   help="run folders (default runs/check)")
    p.add_argument("--junit", default=None, type=output_file_arg, metavar="FILE",
                   help="JUnit XML (default DIR/junit.xml)")
    p.add_argument("--ray", action="store_true", help="run the scenarios as Ray tasks")
    p.add_argument(
        "--address", default=None, help="with --ray: a Ray cluster (default $RAY_ADDRESS or local)"
    )
    p.add_argument("--workers", type=int, default=None, help="with --ray, local: CPUs to use")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_check)


def _check(args: argparse.Namespace) -> int:
    from rich.console import Console

    from bulletyard.api import Kpis
    from bulletyard.sweep.executor import Job, ray_address, require_ray, run_local, run_on_ray
    from bulletyard.sweep.junit import CaseResult, write_junit
    from bulletyard.sweep.progress import CellProgress
    from bulletyard.sweep.scenarios import load_scenarios

    path = Path(args.scenarios)
    scenarios = load_scenarios(path)
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if args.ray:
        require_ray()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(8)
    (out / ".sweep-token").write_text(token, encoding="utf-8")
    jobs = [Job.of(s.spec.name, s.spec.simulate_kwargs(path.parent.resolve())) for s in scenarios]
    records: dict[str, dict[str, Any]] = {}
    console = Console()
    with CellProgress(console, len(jobs), quiet=args.quiet, label="check") as bar:
        def on_record(record: dict[str, Any]) -> None:
            records[record["cell_id"]] = record
            bar.advance(record)

        if args.ray:
            run_on_ray(jobs, out, token, True, on_record, address=ray_address(args.address),
                       workers=args.workers)
        else:
            run_local(jobs, out, token, True, on_record)
    cases = []
    for s in scenarios:
        rec = records[s.spec.name]
        if rec["status"] != "ok":
            cases.append(CaseResult(s.spec.name, 0.0, error=rec["error"]))
            continue
        kpis = Kpis(**rec["kpis"])
        missed = tuple(f"{t} (got {getattr(kpis, t.metric)})" for t in s.thresholds if not t.holds(kpis))
        output = "\n".join(f"{t}: got {getattr(kpis, t.metric)}" for t in s.thresholds)
        cases.append(CaseResult(s.spec.name, kpis.wall_time_s, failures=missed, output=output))
    _print_table(console, scenarios, records, cases)
    junit = Path(args.junit) if args.junit else out / "junit.xml"
    write_junit(junit, path.stem, cases)
    bad = [c for c in cases if c.failures or c.error]
    console.print(f"{len(cases) - len(bad)} of {len(cases)} scenarios passed; JUnit XML: {junit}")
    return 1 if bad else 0


def _print_table(console: Any, scenarios: list[Any], records: dict[str, Any], cases: list[Any]) -> None:
    from rich.table import Table

    table = Table(title="bulletyard check")
    for col in ("scenario", "threshold", "value", "result"):
        table.add_column(col, justify="right" if col == "value" else "left")
    for s, case in zip(scenarios, cases):
        if case.error is not None:
            table.add_row(s.spec.name, "(run)", "", f"[red]ERROR[/red] {case.error}")
            continue
        kpis = records[s.spec.name]["kpis"]
        for t in s.thresholds:
            ok = not any(f.startswith(f"{t} ") for f in case.failures)
            verdict = "[green]pass[/green]" if ok else "[red]FAIL[/red]"
            table.add_row(s.spec.name, str(t), str(kpis[t.metric]), verdict)
    console.print(table)
