"""Simulator benchmark: real-time factor and memory, headless, fc layout, steady profile.

Runs the whole loop (controller, vehicle agents on PyBullet drives, in-process bus, trace, KPIs,
safety check) for a fixed simulated time at several fleet sizes and prints simulated seconds per
wall second and the peak RSS. Usage: ``python bench/sim.py [--robots 100 500] [--sim-s 300]``.

Memory (issue 9): ``--rss-every 3600`` samples the resident set size every simulated hour (one
line per sample, printed as it is taken); ``--tracemalloc`` also takes a ``tracemalloc`` snapshot
at each sample and prints, at the end, the top growth sites (by traceback) between the first and
the last sample. tracemalloc slows the run about 2x and counts Python allocations only (not
PyBullet's C heap). The order count is sized so the steady feed lasts the whole run.
The machine is shared: figures are noisy; run it twice and take the median.
"""

from __future__ import annotations

import argparse
import gc
import math
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.figures import FigureTable, add_figures_option  # noqa: E402
from bulletyard.runtime.sim_setup import SimOptions, Simulation  # noqa: E402


def _rss_mb() -> float:
    """Current resident set size in MB (Linux /proc), to see growth during a run."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _print_growth(first: tracemalloc.Snapshot, last: tracemalloc.Snapshot, top: int) -> None:
    """The ``top`` allocation sites that grew most between two snapshots (by traceback)."""
    stats = last.compare_to(first, "traceback")
    print(f"  tracemalloc: top {top} growth sites between the first and the last sample", flush=True)
    for stat in stats[:top]:
        print(f"  +{stat.size_diff / 1e6:.2f} MB ({stat.count_diff:+d} blocks), now {stat.size / 1e6:.2f} MB")
        for line in stat.traceback.format()[-8:]:
            print("     ", line)


def one(robots: int, sim_s: float, layout: str, rss_every_s: float = 3600.0, *,
        trace_malloc: bool = False, top: int = 15, frames: int = 8, per_robot_h: float = 12.0,
        sorter: bool = True) -> dict:
    """One headless run of ``sim_s`` simulated seconds; returns its figures."""
    rate_per_h = robots * per_robot_h
    orders = max(robots * 20, math.ceil(rate_per_h * sim_s / 3600.0 * 1.1) + robots)
    with tempfile.TemporaryDirectory() as tmp:
        opts = SimOptions(layout=layout, robots=robots, orders=orders, rate_per_h=rate_per_h,
                          out=Path(tmp), until_s=sim_s, trace_dt_s=0.5, sorter=sorter)
        if trace_malloc:
            tracemalloc.start(frames)
        t0 = time.perf_counter()
        sim = Simulation(opts)  # closed below, once the run is over
        setup_s = time.perf_counter() - t0
        marks: list[tuple[float, float]] = []
        snaps: list[tracemalloc.Snapshot] = []
        wall0 = time.perf_counter()

        def progress(t_s: float) -> None:
            if t_s >= len(marks) * rss_every_s:
                gc.collect()
                marks.append((t_s, _rss_mb()))
                done = sim.kpi.summary(sim_time_s=t_s, wall_time_s=1.0).get("orders_completed")
                # live Python objects (pymalloc blocks in use): flat when nothing accumulates, even
                # while RSS creeps up to the highest peak of live memory seen so far
                blocks = sys.getallocatedblocks() / 1000
                print(f"  sim {t_s:8.0f} s  wall {time.perf_counter() - wall0:7.0f} s  "
                      f"RSS {marks[-1][1]:7.1f} MB  Python blocks {blocks:6.0f} k  orders done {done}",
                      flush=True)
                if trace_malloc:
                    snaps.append(tracemalloc.take_snapshot())
                    if len(snaps) > 2:
                        del snaps[1:-1]  # keep the first and the latest only

        with sim:
            result = sim.run(on_progress=progress)
        if trace_malloc:
            if len(snaps) >= 2:
                _print_growth(snaps[0], snaps[-1], top)
            tracemalloc.stop()
        s = result.summary
        return {"robots": robots, "setup_s": round(setup_s, 1), "sim_s": s["sim_time_s"],
                "wall_s": s["wall_time_s"], "rtf": s["real_time_factor"],
                "orders_done": s["orders_completed"], "collisions": s["collisions"],
                "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "rss_by_sim_s": [(round(t), round(m, 1)) for t, m in marks]}


def main() -> None:
    """Print one row per fleet size."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--robots", type=int, nargs="+", default=[100, 500])
    ap.add_argument("--sim-s", type=float, default=300.0)
    ap.add_argument("--layout", default="fc")
    ap.add_argument("--rss-every", type=float, default=3600.0, help="simulated seconds between RSS samples")
    ap.add_argument("--tracemalloc", action="store_true",
                    help="print the top growth sites between the first and last RSS sample")
    ap.add_argument("--top", type=int, default=15, help="growth sites to print with --tracemalloc")
    ap.add_argument("--rate", type=float, default=12.0,
                    help="orders per robot per hour (12 overloads fc; about 3 is what 100 robots finish)")
    ap.add_argument("--repeats", type=int, default=1, help="runs per fleet size; the table gives medians")
    ap.add_argument("--no-sorter", action="store_true", help="leave the layout's sorter out")
    add_figures_option(ap)
    args = ap.parse_args()
    keys = ("robots", "setup_s", "sim_s", "wall_s", "rtf", "orders_done", "collisions", "max_rss_mb")
    rows = []
    for n in args.robots:
        runs = []
        for _ in range(args.repeats):
            r = one(n, args.sim_s, args.layout, args.rss_every, trace_malloc=args.tracemalloc, top=args.top,
                    per_robot_h=args.rate, sorter=not args.no_sorter)
            print("  run:", " ".join(f"{k}={r[k]}" for k in keys), flush=True)
            print("  RSS MB by simulated second:", r["rss_by_sim_s"], flush=True)
            runs.append(r)
        rtfs = sorted(r["rtf"] for r in runs)
        rows.append((n, statistics.median(rtfs), rtfs, statistics.median(r["orders_done"] for r in runs),
                     max(r["collisions"] for r in runs), max(r["max_rss_mb"] for r in runs)))
    table = FigureTable(
        f"sim-speed-{args.layout}", "Simulation speed: real-time factor and memory per fleet size",
        ["robots", "real-time factor (median)", "all runs", "orders done (median)", "collisions",
         "peak RSS MB (process)"],
        {"layout": args.layout, "simulated s": args.sim_s, "orders per robot-hour": args.rate,
         "repeats": args.repeats, "sorter": not args.no_sorter},
    )
    for n, rtf, rtfs, done, collisions, rss in rows:
        runs_text = ", ".join(f"{x:.1f}" for x in rtfs)
        table.add(n, f"{rtf:.1f} x", runs_text, done, collisions, rss)
    table.emit(args.figures)


if __name__ == "__main__":
    main()
