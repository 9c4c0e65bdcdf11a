"""Robotic sortation throughput: parcels/h against the bound (issue 20).

Runs ``sort-center`` with a steady parcel feed above the fleet's capacity and prints parcels per
hour (whole run and its second half, the steady state), per robot, against the two bounds
(inducts x 3600 / load time; fleet x 3600 / mean trip time), with induct utilisation, the
induct-to-chute time and the safety figures. With ``--lorr`` it runs a LoRR sortation map
(``$BULLETYARD_SHARED/benchmarks/lorr/sortation_large_400.json``, default ``../shared``) converted
to our layout with chutes generated beside its obstacles, and reports the real-time factor.

Run from the repository root::

    python -m bench.sortation                 # sort-center, 100 robots, 600 s
    python -m bench.sortation --robots-per-induct 3 6 --until 900
    python -m bench.sortation --lorr --robots 400 --until 300
    python -m bench.sortation --until 900 --baseline ../other-checkout   # the same runs there too

``--baseline DIR`` runs every row also on the checkout in ``DIR`` (its own code, this machine, the
same session), one row each, so a change is judged against its baseline side by side.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from bench.baseline import commit_of, run_in
from bulletyard.runtime.sim_setup import SimOptions, Simulation

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("BULLETYARD_SHARED", REPO.parent / "shared"))
LORR = SHARED / "benchmarks" / "lorr" / "sortation_large_400.json"


def run_one(layout: str, robots: int, rate: float, until_s: float, per_induct: int | None,
            out: Path) -> dict:
    """One run; the summary."""
    settings = (("robots_per_induct", per_induct),) if per_induct else ()
    options = SimOptions(layout=layout, robots=robots, orders=int(rate * until_s / 3600 * 1.2) + 10,
                         rate_per_h=rate, until_s=until_s, out=out, seed=1, contacts=False,
                         sortation_settings=settings)
    with Simulation(options) as sim:
        return sim.run().summary


def run_there(checkout: Path, layout: str, robots: int, rate: float, until_s: float,
               per_induct: int | None, out: Path) -> dict:
    """:func:`run_one` on another checkout's code (:func:`bench.baseline.run_in`)."""
    code = ("import json, sys; from pathlib import Path; from bench.sortation import run_one; "
            "a = json.loads(sys.argv[1]); print(json.dumps(run_one(*a[:5], Path(a[5]))))")
    return run_in(checkout, code, [layout, robots, rate, until_s, per_induct, str(out)])


def row(label: str, summary: dict) -> str:
    """One table row."""
    s = summary["sortation"]
    b = s["bound_parcels_per_hour"]
    i2c = s["induct_to_chute_s"]
    return (f"| {label} | {summary['manifest']['robots']} | {s['parcels_per_hour']} | "
            f"{s['parcels_per_hour_second_half']} | {s['parcels_per_robot_hour']} | {b['inducts']} | "
            f"{b['fleet']} | {s['efficiency']} | {s['induct_utilisation']} | {i2c['p50']} / {i2c['p95']} | "
            f"{summary['collisions']} | {sum(s['chute_violations'].values())} | "
            f"{summary['real_time_factor']} |")


HEADER = ("| run | robots | parcels/h | parcels/h (2nd half) | per robot-h | bound inducts | bound fleet "
          "| efficiency | induct util. | induct->chute p50 / p95 s | collisions | chute violations "
          "| x real time |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|")


def main(argv: list[str] | None = None) -> int:
    """Print the bench table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--robots", type=int, default=100)
    p.add_argument("--rate", type=float, default=9000.0, help="parcels/h offered (above capacity)")
    p.add_argument("--until", type=float, default=600.0, help="simulated seconds")
    p.add_argument("--robots-per-induct", type=int, nargs="*", default=[None])
    p.add_argument("--lorr", action="store_true", help="the LoRR sortation map instead of sort-center")
    p.add_argument("--baseline", type=Path, default=None, metavar="DIR",
                   help="also run every row on the checkout in DIR (side by side)")
    args = p.parse_args(argv)
    layout = "sort-center"
    tmp = Path(tempfile.mkdtemp(prefix="bench-sortation-"))
    if args.lorr:
        if not LORR.is_file():
            print(f"skipped: {LORR} not found (set BULLETYARD_SHARED)")
            return 0
        from bench.lorr_sortation import convert_with_chutes

        layout = str(convert_with_chutes(LORR, tmp / "lorr-sortation.yaml"))
    print(HEADER)
    here = commit_of(REPO)
    for k in args.robots_per_induct:
        label = f"{Path(layout).stem}, {args.rate:.0f}/h, {args.until:.0f} s" + (f", {k}/induct" if k else "")
        if args.baseline is not None:
            base = run_there(args.baseline, layout, args.robots, args.rate, args.until, k, tmp / f"base-{k}")
            print(row(f"{label}, baseline {commit_of(args.baseline)}", base), flush=True)
        summary = run_one(layout, args.robots, args.rate, args.until, k, tmp / f"run-{k}")
        print(row(f"{label}, {here}" if args.baseline is not None else label, summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
