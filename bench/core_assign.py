"""Greedy vs OR-Tools flow in the controller core, on whole simulations (issue 8 item 1).

Runs ``bulletyard demo``'s scenario and the fc run (100 robots, 300 orders, seed 1, 1,800 s)
once per assigner in this process and reports order lines per hour, order cycle time p50 and the
wall time of each ``Controller._assign`` call (p50 / p99, measured here around the call: the
controller itself never reads a clock)::

    python -m bench.core_assign               # both scenarios
    python -m bench.core_assign --only demo   # demo | fc
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from bulletyard.runtime.sim_setup import SimOptions, Simulation
from controller.core import Controller

SCENARIOS = {
    "demo": dict(layout="small-fc", robots=6, orders=12, rate_per_h=360.0, seed=1),
    "fc": dict(layout="fc", robots=100, orders=300, seed=1, until_s=1800.0),
}


def run(name: str, assigner: str, out: Path) -> dict:
    """One simulation; returns the figures of the table."""
    calls: list[float] = []
    original = Controller._assign

    def timed(self, now):
        t0 = time.perf_counter()
        try:
            return original(self, now)
        finally:
            calls.append(time.perf_counter() - t0)

    Controller._assign = timed
    try:
        sim = Simulation(SimOptions(**SCENARIOS[name], assigner=assigner, out=out))
        t0 = time.perf_counter()
        try:
            summary = sim.run().summary
        finally:
            sim.close()
        wall_s = time.perf_counter() - t0
    finally:
        Controller._assign = original
    ms = np.array(calls) * 1e3
    return {
        "scenario": name,
        "assigner": assigner,
        "lines_per_h": summary["order_lines_per_hour"],
        "orders_done": f"{summary['orders_completed']}/{summary['orders_total']}",
        "cycle_p50_s": summary["order_cycle_time_s"].get("p50"),
        "assign_calls": len(calls),
        "assign_p50_ms": round(float(np.percentile(ms, 50)), 2) if len(ms) else None,
        "assign_p99_ms": round(float(np.percentile(ms, 99)), 2) if len(ms) else None,
        "wall_s": round(wall_s, 1),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", choices=tuple(SCENARIOS), default=None)
    args = p.parse_args(argv)
    names = [args.only] if args.only else list(SCENARIOS)
    print("| scenario | assigner | lines/h | orders done | cycle p50 (s) | assign calls | "
          "assign p50 / p99 (ms) | wall (s) |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            for assigner in ("greedy", "flow"):
                r = run(name, assigner, Path(tmp) / f"{name}-{assigner}")
                print(f"| {r['scenario']} | {r['assigner']} | {r['lines_per_h']} | {r['orders_done']} | "
                      f"{r['cycle_p50_s']} | {r['assign_calls']} | {r['assign_p50_ms']} / "
                      f"{r['assign_p99_ms']} | {r['wall_s']} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
