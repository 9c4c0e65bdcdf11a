"""Benchmark of issue 5: OR-Tools assignment vs greedy, forecast vs random slotting, cycle time.

Run from the repository root::

    python -m bench.assign            # full run on the bundled fc layout (a minute or two)
    python -m bench.assign --quick    # shorter horizon, for a smoke check

All three parts use the same seeded order stream and the same discrete-event travel simulation
(``bench/assign_sim.py``: 1 cell/s, station exchange + pick time per line, FIFO station queues,
**no collision or congestion model**). Planner wall times are medians over repeated runs in this
process; the machine is shared, so they are noisy.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import time

import numpy as np

from bench.assign_sim import SimConfig, fresh_inventory, simulate
from bus.clock import SIM_EPOCH
from controller.assignment import FlowAssigner, GreedyAssigner, RobotView, SolverProfile, TravelTimes
from controller.orders.generator import OrderGenerator, StreamConfig, constant_profile, singles_day_profile
from controller.slotting import forecast_demand, plan_slotting, random_slotting
from controller.tasks.trips import Trip, TripKind, TripLine, TripState
from warehouse_maps.catalog import load_layout
from warehouse_maps.layout import Layout, PlaceKind

SEED_ORDERS, SEED_STOCK, SEED_HISTORY, SEED_RANDOM_SLOTS, SEED_CYCLE = 7, 3, 11, 5, 1
N_SKUS = 5000
BASE_ORDERS_PER_H = 1000.0  # Singles Day peak: 10 x this in the first hour


def manifest(layout: Layout, sim: SimConfig) -> dict[str, object]:
    """What a reader needs to reproduce the figures."""
    rows = "\n".join("".join("." if v else "@" for v in row) for row in layout.grid.passable)
    return {
        "layout": layout.name, "layout_sha256": hashlib.sha256(rows.encode()).hexdigest()[:16],
        "seeds": {"orders": SEED_ORDERS, "stock": SEED_STOCK, "history": SEED_HISTORY,
                  "random_slotting": SEED_RANDOM_SLOTS, "cycle": SEED_CYCLE},
        "n_skus": N_SKUS, "stream": f"singles-day peak: {10 * BASE_ORDERS_PER_H:.0f} orders/h in hour 1",
        "sim": {f: getattr(sim, f) for f in sim.__slots__},
        "solver_profile": SolverProfile().as_dict(),
        "model": "travel from distance tables at 1 cell/s; no collision or congestion model",
    }


def throughput(layout: Layout, dist: TravelTimes, sim: SimConfig, fleets: list[int]) -> list[dict]:
    """Completed order lines per simulated hour for greedy and OR-Tools at each fleet size."""
    stream = StreamConfig(n_skus=N_SKUS, profile=singles_day_profile(BASE_ORDERS_PER_H))
    orders = OrderGenerator(stream, np.random.default_rng(SEED_ORDERS)).orders(SIM_EPOCH, sim.horizon_s)
    places = {p.id: p.cell for p in layout.of_kind(PlaceKind.PICK_STATION)}
    rows = []
    for n in fleets:
        row: dict[str, object] = {"robots": n, "orders": len(orders)}
        for assigner in (GreedyAssigner(places), FlowAssigner(places, list(places))):
            inventory = fresh_inventory(layout, N_SKUS, SEED_STOCK)
            res = simulate(layout, inventory, orders, assigner, n, dist, sim)
            row[assigner.name] = {
                "lines_per_h": round(res.lines_per_h(sim.horizon_s)),
                "lines_per_trip": round(res.lines_picked / max(res.trips_done, 1), 2),
                "travel_cells_per_line": round(res.travel_per_line(), 1),
                "station_utilisation": round(res.station_utilisation(sim.horizon_s, len(places)), 3),
                "refused": res.refused,
                "plan_median_ms": round(1000 * statistics.median(res.plan_wall_s or [0.0]), 1),
            }
        row["ratio"] = round(row["ortools-flow"]["lines_per_h"] / max(row["greedy"]["lines_per_h"], 1), 3)
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def sensitivity(layout: Layout, dist: TravelTimes, sim: SimConfig, robots: int,
                picks_s: list[float]) -> list[dict]:
    """The 100-robot comparison again with other pick times per line (station capacity)."""
    rows = []
    for pick in picks_s:
        cfg = SimConfig(**{**{f: getattr(sim, f) for f in sim.__slots__}, "pick_s_per_line": pick})
        row = throughput(layout, dist, cfg, [robots])[0]
        row["pick_s_per_line"] = pick
        rows.append(row)
    return rows


def slotting(layout: Layout, dist: TravelTimes, sim: SimConfig, robots: int) -> dict[str, object]:
    """Robot travel per order line: forecast slotting vs random slotting (same assigner, stream)."""
    history_cfg = StreamConfig(n_skus=N_SKUS, profile=constant_profile(BASE_ORDERS_PER_H))
    history_gen = OrderGenerator(history_cfg, np.random.default_rng(SEED_HISTORY), "H")
    history = history_gen.orders(SIM_EPOCH, 24 * 3600)
    demand = forecast_demand(history, SIM_EPOCH)
    stream = StreamConfig(n_skus=N_SKUS, profile=singles_day_profile(BASE_ORDERS_PER_H))
    orders = OrderGenerator(stream, np.random.default_rng(SEED_ORDERS)).orders(SIM_EPOCH, sim.horizon_s)
    places = {p.id: p.cell for p in layout.of_kind(PlaceKind.PICK_STATION)}
    out: dict[str, object] = {"history_orders": len(history), "robots": robots}
    for name in ("random", "forecast"):
        inventory = fresh_inventory(layout, N_SKUS, SEED_STOCK)
        if name == "random":
            plan = random_slotting(layout, inventory, demand, np.random.default_rng(SEED_RANDOM_SLOTS))
        else:
            plan = plan_slotting(layout, inventory, demand, dist)
        plan.apply(inventory)
        res = simulate(layout, inventory, orders, FlowAssigner(places, list(places)), robots, dist, sim,
                       on_return=plan.return_cell)
        out[name] = {"travel_cells_per_line": round(res.travel_per_line(), 2),
                     "lines_per_h": round(res.lines_per_h(sim.horizon_s))}
        print(name, json.dumps(out[name]), flush=True)
    f, r = out["forecast"]["travel_cells_per_line"], out["random"]["travel_cells_per_line"]
    out["travel_reduction"] = round(1 - f / r, 3)
    return out


def cycle_time(layout: Layout, dist: TravelTimes, n_robots: int = 500, n_trips: int = 2000,
               repeats: int = 5) -> dict[str, object]:
    """Wall time of one assignment cycle (median of ``repeats``), distance tables warm."""
    rng = np.random.default_rng(SEED_CYCLE)
    storage = layout.cells_of(PlaceKind.STORAGE)
    free = layout.grid.free_cells
    stations = layout.of_kind(PlaceKind.PICK_STATION)
    places = {p.id: p.cell for p in stations}
    robots = [RobotView(f"agv-{i + 1:04d}", free[int(rng.integers(len(free)))]) for i in range(n_robots)]
    pods = rng.choice(len(storage), n_trips, replace=False)
    trips = [Trip(f"T{i:06d}", TripKind.POD, f"POD{int(p)}", storage[p], stations[0].id,
                  tuple(TripLine(f"O{i}", k, "SKU", 1) for k in range(int(rng.integers(1, 6)))),
                  TripState.OPEN, SIM_EPOCH, SIM_EPOCH, 0, storage[p]) for i, p in enumerate(pods)]
    t0 = time.perf_counter()
    dist.warm([*storage, *places.values()])
    warm_s = time.perf_counter() - t0
    out: dict[str, object] = {"robots": n_robots, "trips": n_trips, "warm_tables_s": round(warm_s, 2)}
    for assigner in (GreedyAssigner(places), FlowAssigner(places, list(places))):
        walls, plan = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            plan = assigner.assign(SIM_EPOCH, robots, trips, dist)
            walls.append(time.perf_counter() - t0)
        out[assigner.name] = {"median_s": round(statistics.median(walls), 3), "max_s": round(max(walls), 3),
                              "assigned": len(plan),
                              "total_cost_s": round(sum(a.cost_s for a in plan))}
    print(json.dumps(out), flush=True)
    return out


def main() -> None:
    """Run all three parts and print a JSON report."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="30-minute horizon, fleets 50 and 100")
    ap.add_argument("--part", choices=("all", "throughput", "slotting", "cycle", "sensitivity"),
                    default="all")
    args = ap.parse_args()
    layout = load_layout("fc")
    dist = TravelTimes(layout.grid)
    sim = SimConfig(horizon_s=1800.0 if args.quick else 3600.0)
    report: dict[str, object] = {"manifest": manifest(layout, sim)}
    print(json.dumps(report["manifest"]), flush=True)
    if args.part in ("all", "cycle"):
        report["cycle"] = cycle_time(layout, dist)
    if args.part in ("all", "throughput"):
        report["throughput"] = throughput(layout, dist, sim, [50, 100] if args.quick else [50, 100, 200])
    if args.part in ("all", "sensitivity"):
        report["sensitivity"] = sensitivity(layout, dist, sim, 100, [3.0, 10.0])
    if args.part in ("all", "slotting"):
        report["slotting"] = slotting(layout, dist, sim, 100)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
