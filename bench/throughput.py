"""Throughput benchmark (issue 18): order lines per hour against the bound, per fleet size and rule.

Runs ``bulletyard sim --layout fc --orders N --rate (12 x robots) --seed 1 --until 1800`` for each
fleet size (25, 50, 100, 200 robots by default) and each operations rule given with ``--rules``
(``pileon``, the default operations, and ``greedy``, the old one-trip-per-order rule kept for
comparison; ``main`` runs a tree's own default, for "before"), in one process, and prints one
table: lines/h, lines per robot-hour, pile-on (lines per pod visit), station utilisation, the
throughput bound and the efficiency (achieved over bound), robot utilisation, travel per line,
collisions and the real-time factor.

The feed (12 orders per robot-hour) overloads every fleet size on purpose: the table measures
what the fleet can do, not what it is asked. Figures come from ``summary.json`` of each run; a
tree that predates these figures prints ``-`` for them (so the same script measures "before").
``--layout fc-long`` is the second layout of the issue's "not from one layout" check: fc's
generator with storage blocks 11 cells long instead of 5 (four cross aisles instead of eight, a
seeded pillar and charger pattern of its own), written to a temporary YAML file for the run.
Usage: ``python bench/throughput.py [--robots 25 50 100 200] [--rules pileon greedy]
[--layout fc] [--sim-s 1800]``. The machine is shared: the real-time factor is noisy.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.figures import FigureTable, add_figures_option  # noqa: E402
from bulletyard.runtime.sim_setup import SimOptions, Simulation  # noqa: E402
from warehouse_maps.generators import FC_SORTER, FulfilmentParams, fulfilment_centre  # noqa: E402
from warehouse_maps.layout_yaml import save_layout_yaml  # noqa: E402

COLUMNS = (
    ("robots", "robots"),
    ("rule", "rule"),
    ("lines_h", "lines/h"),
    ("per_robot_h", "lines per robot-h"),
    ("pile_on", "pile-on"),
    ("station_util", "station util."),
    ("bound", "bound lines/h"),
    ("efficiency", "efficiency"),
    ("robot_util", "robot util."),
    ("travel_line", "travel/line m"),
    ("collisions", "collisions"),
    ("rtf", "RTF"),
)


def fc_long(folder: Path) -> str:
    """Write the second layout (see the module docstring) into ``folder``; returns its path."""
    params = FulfilmentParams(160, 60, stations=10, chargers=12, parking=200, station_zone_w=8,
                              block_h=11, pillars=24)
    layout = fulfilment_centre("fc-long", params, seed=5, equipment={"sorter": dict(FC_SORTER)})
    path = folder / "fc-long.yaml"
    save_layout_yaml(layout, path, description="fc with storage blocks 11 cells long")
    return str(path)


def one(robots: int, rule: str, layout: str, sim_s: float, per_robot_h: float, seed: int) -> dict:
    """One headless run; returns the table row."""
    rate = robots * per_robot_h
    orders = math.ceil(rate * sim_s / 3600.0 * 1.2) + robots
    extra = {} if rule == "main" else {"assigner": rule}  # main: the tree's own default
    with tempfile.TemporaryDirectory() as tmp:
        opts = SimOptions(layout=layout, robots=robots, orders=orders, rate_per_h=rate, seed=seed,
                          out=Path(tmp), until_s=sim_s, trace_dt_s=0.5, **extra)
        with Simulation(opts) as sim:
            s = sim.run().summary
    lines_h = float(s["order_lines_per_hour"] or 0.0)
    return {
        "robots": robots,
        "rule": rule,
        "lines_h": round(lines_h),
        "per_robot_h": round(lines_h / robots, 1),
        "pile_on": s.get("pile_on"),
        "station_util": s.get("station_utilisation"),
        "bound": s.get("throughput_bound_lines_per_hour"),
        "efficiency": s.get("throughput_efficiency"),
        "robot_util": s.get("robot_utilisation"),
        "travel_line": s.get("travel_per_line_m"),
        "collisions": s.get("collisions"),
        "rtf": s.get("real_time_factor"),
    }


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def main() -> None:
    """Print one table row per (fleet size, rule) as it finishes, then the whole table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--robots", type=int, nargs="+", default=[25, 50, 100, 200])
    ap.add_argument("--rules", nargs="+", default=["pileon", "greedy"],
                    help="operations rules to compare (main: a tree without rules)")
    ap.add_argument("--layout", default="fc")
    ap.add_argument("--sim-s", type=float, default=1800.0)
    ap.add_argument("--rate", type=float, default=12.0, help="orders per robot per hour")
    ap.add_argument("--seed", type=int, default=1)
    add_figures_option(ap)
    args = ap.parse_args()
    rows = []
    keep = tempfile.TemporaryDirectory()
    layout = fc_long(Path(keep.name)) if args.layout == "fc-long" else args.layout
    for n in args.robots:
        for rule in args.rules:
            row = one(n, rule, layout, args.sim_s, args.rate, args.seed)
            print("  run:", " ".join(f"{k}={_cell(v)}" for k, v in row.items()), flush=True)
            rows.append(row)
    table = FigureTable(
        f"throughput-{args.layout}", "Order lines per hour against the bound, per fleet size and rule",
        [title for _, title in COLUMNS],
        {"layout": args.layout, "simulated s": args.sim_s, "seed": args.seed,
         "orders per robot-hour": args.rate, "robots": " ".join(map(str, args.robots))},
    )
    for row in rows:
        table.add(*(_cell(row[key]) for key, _ in COLUMNS))
    table.emit(args.figures)
    keep.cleanup()


if __name__ == "__main__":
    main()
