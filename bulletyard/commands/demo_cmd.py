"""``bulletyard demo``: what the README's first command (``make demo``) runs.

A short headless simulation on the bundled ``small-fc`` layout: the real controller, eight
vehicle agents on PyBullet drives, twelve orders over the in-process bus; prints the KPI table
and leaves the run folder (summary.json, trace.jsonl, report.html) in ``runs/demo``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bulletyard.inputs.options import seed_option
from bulletyard.inputs.paths import output_folder_arg


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``demo``."""
    p = sub.add_parser("demo", help="run a short headless simulation on small-fc and print its KPIs")
    p.add_argument("--seed", type=seed_option, default=1, help="root seed (default 1)")
    p.add_argument("--out", default="runs/demo", type=output_folder_arg,
                   help="run folder (default runs/demo)")
    p.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    from bulletyard.commands.sim_cmd import run_sim
    from bulletyard.runtime.sim_setup import SimOptions

    options = SimOptions(
        layout="small-fc", robots=6, orders=12, rate_per_h=360.0, seed=args.seed, out=Path(args.out)
    )
    return run_sim(options)
