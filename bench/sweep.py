"""Sweep speed-up and determinism: 8 runs as ``bulletyard sweep`` on a local Ray against the same
8 runs made one after another with ``bulletyard sim``.

Prints the wall time of each way, their ratio, and whether every row of the sweep's table equals
the ``summary.json`` of the same run made alone (wall-clock fields aside). Needs the sweep extra.

    python bench/sweep.py [--workers 2] [--robots 6 8] [--seeds 1 2 3 4] [--orders 40]
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.figures import FigureTable, add_figures_option  # noqa: E402
from bulletyard.sweep.table import flatten  # noqa: E402

WALL = {"summary.wall_time_s", "summary.real_time_factor"}


def main() -> None:
    """Run both ways and print the table."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--layout", default="small-fc")
    ap.add_argument("--robots", type=int, nargs="+", default=[6, 8])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4])
    ap.add_argument("--orders", type=int, default=40)
    ap.add_argument("--rate", type=float, default=480.0)
    add_figures_option(ap)
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    spec = work / "spec.yaml"
    spec.write_text(
        f"name: bench\nlayouts: [{a.layout}]\nrobots: {a.robots}\nseeds: {a.seeds}\n"
        f"orders: {a.orders}\nrate_per_h: {a.rate}\nkeep_traces: false\n"
    )
    py = sys.executable

    t0 = time.perf_counter()
    alone: dict[tuple[int, int], dict] = {}
    for robots in a.robots:
        for seed in a.seeds:
            out = work / f"alone-r{robots}-s{seed}"
            subprocess.run([py, "-m", "bulletyard", "sim", "--layout", a.layout, "--robots", str(robots),
                            "--orders", str(a.orders), "--rate", str(a.rate), "--seed", str(seed),
                            "--out", str(out), "--quiet"], check=True, capture_output=True)
            alone[(robots, seed)] = json.loads((out / "summary.json").read_text())
    sequential_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    subprocess.run([py, "-m", "bulletyard", "sweep", str(spec), "--out", str(work / "sweep"),
                    "--workers", str(a.workers), "--quiet"], check=True, capture_output=True)
    sweep_s = time.perf_counter() - t0

    with (work / "sweep" / "results.csv").open() as fh:
        table = list(csv.DictReader(fh))
    equal = 0
    for row in table:
        expected = flatten(alone[(int(row["robots"]), int(row["seed"]))])
        want = {k: "" if v is None else str(v) for k, v in expected.items() if k not in WALL}
        equal += all(row.get(k) == v for k, v in want.items())
    runs = len(alone)
    out = FigureTable(
        "sweep", "A sweep on local Ray against the same runs one after another",
        ["way", "runs", "wall time (s)"],
        {"workers": a.workers, "layout": a.layout, "robots": " ".join(map(str, a.robots)),
         "seeds": " ".join(map(str, a.seeds)), "orders": a.orders, "rate per h": a.rate},
        notes=f"Ratio sweep / sequential: {sweep_s / sequential_s:.2f}. Rows equal to the run made alone: "
        f"{equal} of {len(table)}.",
    )
    out.add("`bulletyard sim` one after another", runs, f"{sequential_s:.1f}")
    out.add(f"`bulletyard sweep --workers {a.workers}` (local Ray, start included)", runs, f"{sweep_s:.1f}")
    out.emit(a.figures)


if __name__ == "__main__":
    main()
