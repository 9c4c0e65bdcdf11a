"""Simulator benchmark: real-time factor and memory, headless, fc layout, steady profile.

Runs the whole loop (controller, vehicle agents on PyBullet drives, in-process bus, trace, KPIs,
safety check) for a fixed simulated time at several fleet sizes and prints simulated seconds per
wall second and the peak RSS. Usage: ``python bench/sim.py [--robots 100 500] [--sim-s 300]``.
The machine is shared: figures are noisy; run it twice and take the median.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bulletyard.runtime.sim_setup import SimOptions, Simulation  # noqa: E402


def _rss_mb() -> float:
    """Current resident set size in MB (Linux /proc), to see growth during a run."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def one(robots: int, sim_s: float, layout: str, rss_every_s: float = 3600.0) -> dict:
    """One headless run of ``sim_s`` simulated seconds; returns its figures."""
    with tempfile.TemporaryDirectory() as tmp:
        opts = SimOptions(layout=layout, robots=robots, orders=robots * 20, rate_per_h=robots * 12.0,
                          out=Path(tmp), until_s=sim_s, trace_dt_s=0.5)
        t0 = time.perf_counter()
        sim = Simulation(opts)
        setup_s = time.perf_counter() - t0
        marks: list[tuple[float, float]] = []

        def progress(t_s: float) -> None:
            if t_s >= len(marks) * rss_every_s:
                marks.append((t_s, _rss_mb()))

        result = sim.run(on_progress=progress)
        sim.close()
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
    args = ap.parse_args()
    print("robots setup_s sim_s wall_s real_time_factor orders_done collisions max_rss_mb")
    for n in args.robots:
        r = one(n, args.sim_s, args.layout, args.rss_every)
        print(" ".join(str(r[k]) for k in ("robots", "setup_s", "sim_s", "wall_s", "rtf", "orders_done",
                                            "collisions", "max_rss_mb")), flush=True)
        print("  RSS MB by simulated second:", r["rss_by_sim_s"], flush=True)


if __name__ == "__main__":
    main()
