"""Benchmark of the path planner against the issue's targets, with pymapf's PIBT and LaCAM side by side.

Run from the repository root (shared data at ``../shared`` or ``$BULLETYARD_SHARED``)::

    python bench/mapf.py                      # everything (about half an hour on 2 cores)
    python bench/mapf.py --suite oneshot --scens 1-3 --agents 100
    python bench/mapf.py --suite lifelong --no-peer
    python bench/mapf.py --suite lifelong --no-peer --baseline ../base   # rotation rows there too
    python bench/mapf.py --suite kernels      # numba on versus off for the hot loops

One-shot: MovingAI random scenarios; for each instance our planner runs twice: first solution
only (time to first solution, its cost ratio) and anytime with the target's time limit (final
ratio = sum of costs / sum of shortest paths). pymapf 0.9 (``pip install pymapf``, the ``bench``
extra) runs PIBT and LaCAM on the same instance in a subprocess with a hard timeout so a hang
cannot stall the bench; its plans are checked by our validator too. Lifelong: LoRR
warehouse_small, 1,000 steps, grid and rotation models (pymapf has no lifelong planner).
Every plan of ours is validated. Numba compile/load time is measured once and reported apart.
Timings are wall clock on a shared machine: read medians, not single runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.baseline import commit_of, run_in  # noqa: E402
from bench.figures import FigureTable, add_figures_option  # noqa: E402
from controller.planning.lacam import solve, warm_up  # noqa: E402
from controller.planning.lifelong_run import run_lifelong  # noqa: E402
from controller.planning.options import PlanOptions  # noqa: E402
from controller.planning.result import sum_of_costs  # noqa: E402
from controller.planning.validator import validate_paths  # noqa: E402
from warehouse_maps.lorr import load_lorr_instance  # noqa: E402
from warehouse_maps.movingai import load_map, load_scenario  # noqa: E402

SHARED = Path(os.environ.get("BULLETYARD_SHARED", REPO.parent / "shared"))

# (map, agents, scenarios, time limit s, target ratio or None, first-solution limit s or None)
ONESHOT = [
    ("warehouse-10-20-10-2-1", 100, range(1, 11), 2.0, 1.10, 2.0),
    ("warehouse-10-20-10-2-1", 200, range(1, 11), 10.0, 1.25, None),
    ("warehouse-10-20-10-2-1", 400, range(1, 11), 30.0, None, None),
    ("random-32-32-10", 200, range(1, 6), 5.0, None, None),
    ("room-32-32-4", 200, range(1, 6), 5.0, None, None),
]


@dataclass
class Row:
    """One planner on one instance."""

    planner: str
    solved: bool
    first_s: float | None
    ratio_first: float | None
    runtime_s: float
    ratio: float | None
    note: str = ""


def _deadline(limit_s: float):
    end = time.perf_counter() + limit_s
    return lambda: time.perf_counter() >= end


def run_ours(grid, starts, goals, lower: int, limit_s: float) -> Row:
    t0 = time.perf_counter()
    first = solve(grid, starts, goals, PlanOptions(should_stop=_deadline(limit_s), improve=False))
    first_s = time.perf_counter() - t0
    if not first.solved:
        return Row("ours", False, None, None, first_s, None, "no solution in limit")
    validate_paths(grid, first.paths, starts, goals)
    t0 = time.perf_counter()
    best = solve(grid, starts, goals, PlanOptions(should_stop=_deadline(limit_s)))
    runtime = time.perf_counter() - t0
    validate_paths(grid, best.paths, starts, goals)
    return Row("ours", True, first_s, first.sum_of_costs / lower, runtime, best.sum_of_costs / lower,
               f"nodes+lns={best.nodes_expanded}")


def run_peer(alg: str, map_path: Path, scen_path: Path, agents: int, limit_s: float, grid, starts, goals,
             lower: int) -> Row:
    """pymapf in a subprocess with a hard timeout; its paths go through our validator."""
    cmd = [sys.executable, __file__, "--peer-worker", alg, str(map_path), str(scen_path), str(agents),
           str(limit_s)]
    t0 = time.perf_counter()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=limit_s + 60)
    except subprocess.TimeoutExpired:
        return Row(f"pymapf-{alg}", False, None, None, time.perf_counter() - t0, None, "killed at timeout")
    wall = time.perf_counter() - t0
    try:
        data = json.loads(out.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return Row(f"pymapf-{alg}", False, None, None, wall, None, "crashed: " + out.stderr.strip()[-80:])
    if not data["solved"]:
        return Row(f"pymapf-{alg}", False, None, None, data["runtime_s"], None, data.get("note", "unsolved"))
    paths = [[tuple(c) for c in p] for p in data["paths"]]
    try:
        validate_paths(grid, paths, starts, goals)
        note = ""
    except Exception as exc:  # noqa: BLE001 - report, do not crash the bench
        note = f"INVALID: {exc}"
    ratio = sum_of_costs(paths, goals) / lower
    return Row(f"pymapf-{alg}", not note, data["runtime_s"], ratio, data["runtime_s"], ratio, note)


def peer_worker(alg: str, map_path: str, scen_path: str, agents: int, limit_s: float) -> None:
    """Child process: solve with pymapf, print one JSON line with (x, y) paths."""
    import pymapf

    grid = load_map(map_path)
    scen = load_scenario(scen_path, grid)[:agents]
    blocked = (~grid.passable).astype(int).tolist()
    problem = pymapf.MAPFProblem(pymapf.GridMap(blocked), [
        pymapf.Agent(f"a{i}", (a.start[1], a.start[0]), (a.goal[1], a.goal[0])) for i, a in enumerate(scen)
    ])
    solver = pymapf.PIBT(time_limit=limit_s) if alg == "pibt" else pymapf.LaCAM(time_limit=limit_s)
    t0 = time.perf_counter()
    try:
        sol = solver.solve(problem)
        note = ""
    except Exception as exc:  # noqa: BLE001
        sol, note = None, f"raised {type(exc).__name__}"
    runtime = time.perf_counter() - t0
    if sol is None:
        print(json.dumps({"solved": False, "runtime_s": runtime, "note": note or "returned no solution"}))
        return
    paths = [[[c, r] for r, c in sol.paths[f"a{i}"]] for i in range(len(scen))]
    print(json.dumps({"solved": True, "runtime_s": runtime, "paths": paths}))


def _fmt(v: float | None, spec: str = ".3f") -> str:
    return "-" if v is None else format(v, spec)


def bench_oneshot(scens: set[int] | None, agent_filter: set[int] | None, peer: bool,
                  figures: str | None = None) -> None:
    folder = SHARED / "benchmarks" / "movingai"
    params = {"scenarios": "all" if not scens else ",".join(map(str, sorted(scens))),
              "agents": "all" if not agent_filter else ",".join(map(str, sorted(agent_filter))), "peer": peer}
    per_scen = FigureTable("mapf-oneshot", "One-shot MAPF (ratio = sum of costs / sum of shortest paths)",
                           ["map", "agents", "scen", "planner", "solved", "first s", "first ratio",
                            "runtime s", "final ratio", "note"], params)
    summary = []
    for map_name, agents, scen_range, limit_s, target, first_limit in ONESHOT:
        if agent_filter and agents not in agent_filter:
            continue
        map_path = folder / f"{map_name}.map"
        grid = load_map(map_path)
        rows: dict[str, list[Row]] = {}
        for k in scen_range:
            if scens and k not in scens:
                continue
            scen_path = folder / f"{map_name}-random-{k}.scen"
            if not scen_path.exists():
                per_scen.add(map_name, agents, k, "-", "-", "-", "-", "-", "-", "scenario file absent")
                continue
            scen = load_scenario(scen_path, grid)[:agents]
            starts, goals = [a.start for a in scen], [a.goal for a in scen]
            lower = sum(a.distance for a in scen)
            results = [run_ours(grid, starts, goals, lower, limit_s)]
            if peer:
                for alg in ("pibt", "lacam"):
                    results.append(
                        run_peer(alg, map_path, scen_path, agents, limit_s, grid, starts, goals, lower)
                    )
            for r in results:
                rows.setdefault(r.planner, []).append(r)
                per_scen.add(map_name, agents, k, r.planner, r.solved, _fmt(r.first_s, ".2f"),
                             _fmt(r.ratio_first), f"{r.runtime_s:.2f}", _fmt(r.ratio), r.note)
                print("  run:", per_scen.rows[-1], flush=True)
        summary.append((map_name, agents, limit_s, target, first_limit, rows))
    per_scen.emit(figures)
    table = FigureTable("mapf-oneshot-summary", "One-shot MAPF summary (medians over scenarios)",
                        ["map", "agents", "limit s", "planner", "solved", "median first s", "max first s",
                         "median final ratio", "max final ratio", "target"], params)
    for map_name, agents, limit_s, target, first_limit, rows in summary:
        for planner, rs in rows.items():
            solved = [r for r in rs if r.solved]
            firsts = [r.first_s for r in solved if r.first_s is not None]
            ratios = [r.ratio for r in solved if r.ratio is not None]
            goal = []
            if target:
                goal.append(f"ratio <= {target}")
            if first_limit:
                goal.append(f"first <= {first_limit} s")
            goal.append(f"all solved <= {limit_s:g} s")
            table.add(map_name, agents, f"{limit_s:g}", planner, f"{len(solved)}/{len(rs)}",
                      _fmt(statistics.median(firsts) if firsts else None, ".2f"),
                      _fmt(max(firsts) if firsts else None, ".2f"),
                      _fmt(statistics.median(ratios) if ratios else None),
                      _fmt(max(ratios) if ratios else None), "; ".join(goal))
    table.emit(figures)


BASELINE_LIFELONG = (
    "import json, sys, time; from controller.planning.lifelong_run import run_lifelong; "
    "from warehouse_maps.lorr import load_lorr_instance; a = json.loads(sys.argv[1]); "
    "inst = load_lorr_instance(a[0]); "
    "run = run_lifelong(inst.grid, inst.starts, inst.task_for, a[1], clock=time.perf_counter, "
    "rotations=a[2], step_budget_s=1.0, step_nodes=a[3], lane_cost=a[4]); print(json.dumps(run.summary()))"
)
"""A baseline checkout's row: its own ``run_lifelong`` with its own defaults, same arguments."""


def _lifelong_rows(table: FigureTable, label: str, path: Path, steps: int, step_nodes: int,
                   lane_costs: tuple[int | None, ...], baseline: Path | None = None) -> None:
    """Grid model, then the rotation model at each lane cost (None: its default), one row each;
    with ``baseline``, each rotation row also on that checkout's code (``bench/baseline.py``)."""
    inst = load_lorr_instance(path)
    grid_rate = None
    here = f", {commit_of(REPO)}" if baseline is not None else ""
    for rotations, lane in [(False, None)] + [(True, lane) for lane in lane_costs]:
        model = "grid" if not rotations else f"rotation (lanes {lane or 'default'})"
        runs: list[tuple[str, dict]] = []
        if rotations and baseline is not None:
            base = run_in(baseline, BASELINE_LIFELONG, [str(path), steps, rotations, step_nodes, lane])
            runs.append((f"{model}, baseline {commit_of(baseline)}", base))
        run = run_lifelong(inst.grid, inst.starts, inst.task_for, steps, clock=time.perf_counter,
                           rotations=rotations, step_budget_s=1.0, step_nodes=step_nodes, lane_cost=lane)
        runs.append((model + (here if rotations else ""), run.summary()))
        for name, s in runs:
            rate = s["throughput_per_step"]
            ratio = f"{rate / grid_rate:.2f}" if rotations and grid_rate else "-"
            table.add(label, name, s["tasks_completed"], f"{rate:.3f}", ratio, f"{s['plan_ms_mean']:.2f}",
                      f"{s['plan_ms_p99']:.2f}", f"{s['plan_ms_max']:.2f}", f"{s['compile_ms']:.0f}")
            print("  run:", table.rows[-1], flush=True)
        grid_rate = grid_rate or runs[-1][1]["throughput_per_step"]


def bench_lifelong(agent_counts: list[int], steps: int, step_nodes: int, extra: list[str],
                   figures: str | None = None, baseline: Path | None = None) -> None:
    """Grid and rotation model in the same run; the rotation model under a node budget per step
    (``step_nodes``) so its tasks/step do not move with machine load (the 1 s wall budget stays as
    a safety net and is never reached at these sizes)."""
    table = FigureTable(
        "mapf-lifelong", f"Lifelong MAPF, LoRR instances (rotation model: at most {step_nodes} nodes/step)",
        ["instance", "model", "tasks", "tasks/step", "rotation / grid", "plan ms mean", "p99", "max",
         "compile ms"],
        {"steps": steps, "step nodes": step_nodes, "step budget s": 1.0, "extra": " ".join(extra) or "none"},
        notes="pymapf 0.9 has no lifelong planner; no peer column.",
    )
    for n in agent_counts:
        path = SHARED / "benchmarks" / "lorr" / f"warehouse_small_{n}.json"
        _lifelong_rows(table, f"warehouse_small_{n}, {steps} steps", path, steps, step_nodes, (None,),
                       baseline)
    for spec in extra:  # PATH:STEPS, e.g. a LoRR 2023 main-round instance
        path, _, n_steps = spec.rpartition(":")
        _lifelong_rows(table, f"{Path(path).stem}, {n_steps} steps", Path(path), int(n_steps),
                       step_nodes, (None, 2), baseline)
    table.emit(figures)


KERNEL_SNIPPET = """
import sys, time
sys.path.insert(0, {repo!r})
from controller.planning.lacam import solve, warm_up
from controller.planning.lifelong_run import run_lifelong
from controller.planning.options import PlanOptions
from warehouse_maps.lorr import load_lorr_instance
from warehouse_maps.movingai import load_map, load_scenario
warm_up()
grid = load_map({map!r})
scen = load_scenario({scen!r}, grid)[:100]
t0 = time.perf_counter()
r = solve(grid, [a.start for a in scen], [a.goal for a in scen], PlanOptions(improve=False))
first = time.perf_counter() - t0
inst = load_lorr_instance({lorr!r})
run = run_lifelong(inst.grid, inst.starts, inst.task_for, 50, clock=time.perf_counter, validate=False)
print(first, r.nodes_expanded, run.summary()["plan_ms_mean"])
"""


def bench_kernels(figures: str | None = None) -> None:
    """Numba on versus off (NUMBA_DISABLE_JIT=1 runs the same kernels as plain Python)."""
    movingai = SHARED / "benchmarks" / "movingai"
    code = KERNEL_SNIPPET.format(repo=str(REPO), map=str(movingai / "warehouse-10-20-10-2-1.map"),
                                 scen=str(movingai / "warehouse-10-20-10-2-1-random-1.scen"),
                                 lorr=str(SHARED / "benchmarks" / "lorr" / "warehouse_small_200.json"))
    table = FigureTable("mapf-kernels", "Kernels: numba versus plain Python (same code, NUMBA_DISABLE_JIT=1)",
                        ["mode", "LaCAM first solution, warehouse 100 agents (s)", "nodes",
                         "lifelong step, 200 agents (ms)"], {"lifelong steps": 50})
    for mode, env in (("numba", {}), ("plain Python", {"NUMBA_DISABLE_JIT": "1"})):
        try:
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900,
                                 env={**os.environ, **env})
            first, nodes, step_ms = out.stdout.split()
            table.add(mode, f"{float(first):.3f}", nodes, f"{float(step_ms):.2f}")
        except (subprocess.TimeoutExpired, ValueError):
            table.add(mode, "failed or timed out", "-", "-")
    table.emit(figures)


def _int_set(text: str | None) -> set[int] | None:
    if not text:
        return None
    out: set[int] = set()
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--peer-worker":
        alg, map_path, scen_path, agents, limit_s = sys.argv[2:7]
        peer_worker(alg, map_path, scen_path, int(agents), float(limit_s))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", choices=("oneshot", "lifelong", "kernels", "all"), default="all")
    ap.add_argument("--scens", help="scenario numbers, e.g. 1-3,7")
    ap.add_argument("--agents", help="agent counts to run in the one-shot suite, e.g. 100,200")
    ap.add_argument("--no-peer", action="store_true", help="skip pymapf")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--lifelong-agents", default="200,400")
    ap.add_argument("--lorr", action="append", default=[], metavar="PATH:STEPS",
                    help="also run this LoRR instance for STEPS steps (repeatable)")
    ap.add_argument("--step-nodes", type=int, default=100_000,
                    help="rotation model: operations checked per step at most")
    ap.add_argument("--baseline", type=Path, default=None, metavar="DIR",
                    help="lifelong: run each rotation row also on the checkout in DIR, side by side")
    add_figures_option(ap)
    args = ap.parse_args()
    t0 = time.perf_counter()
    warm_up()
    print(f"# bulletyard MAPF bench\n\npython {sys.version.split()[0]}, cpus {os.cpu_count()}, "
          f"numba kernel compile/load {time.perf_counter() - t0:.2f} s (not counted below)")
    if args.suite in ("oneshot", "all"):
        bench_oneshot(_int_set(args.scens), _int_set(args.agents), not args.no_peer, args.figures)
    if args.suite in ("lifelong", "all"):
        agents = [int(a) for a in args.lifelong_agents.split(",")]
        bench_lifelong(agents, args.steps, args.step_nodes, args.lorr, args.figures, args.baseline)
    if args.suite in ("kernels", "all"):
        bench_kernels(args.figures)


if __name__ == "__main__":
    main()
