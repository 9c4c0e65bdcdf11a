"""``bulletyard compare RUN_A RUN_B ... --out compare.html``: several runs on one page.

The same plots as each run's ``report.html`` with the runs overlaid (or one panel each, where
overlaying would hide one under the other), and the headline KPIs side by side with every run's
change from the first. Each RUN is a run folder (``summary.json`` and ``kpi_series.json``). Runs of
different layouts are refused unless ``--different-layouts`` says that is meant: their throughput,
bound and congestion describe different floors.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from bulletyard.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``compare``."""
    p = sub.add_parser("compare", help="put two or more run folders side by side in one HTML page")
    p.add_argument("runs", nargs="+", metavar="RUN", help="run folders written by `bulletyard sim --out`")
    p.add_argument("--out", default="compare.html", help="the page to write (default compare.html)")
    p.add_argument("--different-layouts", action="store_true",
                   help="compare runs of different layouts (refused by default)")
    p.set_defaults(func=_compare)


def _compare(args: argparse.Namespace) -> int:
    from sim.report import compare_html
    from sim.report_data import load_run

    if len(args.runs) < 2:
        raise UsageError("compare needs at least two run folders")
    runs = [load_run(folder) for folder in args.runs]
    labels = [r.label for r in runs]
    if len(set(labels)) < len(labels):  # folders of one name in different places: use the paths
        runs = [replace(r, label=str(folder)) for r, folder in zip(runs, args.runs, strict=True)]
    layouts = {r.summary.get("manifest", {}).get("layout_hash") for r in runs}
    if len(layouts) > 1 and not args.different_layouts:
        names = ", ".join(f"{f}: {r.layout.get('name')}" for f, r in zip(args.runs, runs, strict=True))
        raise UsageError(f"the runs are of different layouts ({names}); their throughput and congestion "
                         "describe different floors: pass --different-layouts to compare them anyway")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(compare_html(runs), encoding="utf-8")
    print(f"wrote {out} ({len(runs)} runs)")
    return 0
