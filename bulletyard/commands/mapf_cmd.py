"""``bulletyard mapf`` (one-shot, MovingAI) and ``bulletyard lifelong`` (League of Robot Runners).

The composition root for the planner: it owns the wall clock and turns ``--time-limit`` /
``--step-budget-ms`` into the ``should_stop`` callbacks the pure planners poll. Every plan is
checked by the independent validator before it is written. Output formats are documented in
``docs/planning.md`` (other tools read them).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from bulletyard.errors import UsageError
from bulletyard.inputs.options import count_option, finite_number, positive_number, seed_option
from bulletyard.inputs.paths import output_file_arg
from controller.planning.lacam import solve, warm_up
from controller.planning.learned_guidance import read_guidance, weighted_grid
from controller.planning.lifelong_run import run_lifelong
from controller.planning.options import PlanOptions
from controller.planning.validator import validate_paths
from warehouse_maps.lorr import load_lorr_instance
from warehouse_maps.movingai import load_map, load_scenario


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``mapf`` and ``lifelong`` subcommands."""
    p = sub.add_parser("mapf", help="plan collision-free paths for a MovingAI scenario (LaCAM + LNS)")
    p.add_argument("--map", type=Path, required=True, help="MovingAI .map file")
    p.add_argument("--scen", type=Path, required=True, help="MovingAI .scen file")
    p.add_argument("--agents", type=count_option(bound="agents"), required=True,
                   help="use the first N agents of the scenario")
    p.add_argument("--time-limit", type=finite_number, default=10.0, help="seconds of planning (default 10)")
    p.add_argument("--seed", type=seed_option, default=0, help="random seed (default 0)")
    p.add_argument("--first-solution", action="store_true", help="stop at the first solution (no anytime)")
    p.add_argument("--out", type=output_file_arg, required=True, help="result JSON file")
    p.set_defaults(func=_mapf)

    q = sub.add_parser("lifelong", help="run lifelong MAPF on a League of Robot Runners instance")
    q.add_argument("--instance", type=Path, required=True, help="LoRR instance .json")
    q.add_argument("--steps", type=int, required=True, help="timesteps to simulate")
    q.add_argument("--rotations", action="store_true", help="agents have a heading (forward/turn/wait)")
    q.add_argument("--step-budget-ms", type=positive_number, default=1000.0,
                   help="planning budget per step (ms)")
    q.add_argument("--step-nodes", type=count_option(minimum=1), default=None,
                   help="rotation model: operations checked per step at most (reproducible figures)")
    q.add_argument("--lns-nodes", type=count_option(minimum=0), default=20_000,
                   help="rotation model: node budget per step of the ejection chains after the "
                        "priority pass (default 20000; 0 turns them off)")
    q.add_argument("--lns-chain", type=count_option(minimum=1), default=2,
                   help="rotation model: agents per ejection chain at most (default 2)")
    q.add_argument("--depth", type=_depth_option, default=None, metavar="auto|1..5",
                   help="rotation model: actions per operation; auto (the default): 4 while the "
                        "fleet flows, 3 for a step where it is crowded")
    q.add_argument("--keep-bonus", type=finite_number, default=5.0,
                   help="rotation model: cost taken off an operation continuing last step's "
                        "(actions, default 5)")
    q.add_argument("--seed", type=seed_option, default=0, help="random seed (default 0)")
    q.add_argument("--guidance", type=Path, default=None,
                   help="rotation model: learned move costs for this map (bench/learn_guidance.py --out)")
    q.add_argument("--out", type=output_file_arg, required=True, help="result JSON file")
    q.set_defaults(func=_lifelong)


def _write(path: Path, data: dict[str, Any]) -> None:
    try:
        path.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--out {path}: cannot write: {exc.strerror}") from None


def _deadline(limit_s: float):
    end = time.perf_counter() + limit_s
    return lambda: time.perf_counter() >= end


def _mapf(args: argparse.Namespace) -> int:
    if args.agents < 1:
        raise UsageError(f"--agents must be at least 1, got {args.agents}")
    if args.time_limit <= 0:
        raise UsageError(f"--time-limit must be positive, got {args.time_limit}")
    grid = load_map(args.map)
    scenario = load_scenario(args.scen, grid)
    if args.agents > len(scenario):
        raise UsageError(f"--agents {args.agents} but {args.scen} has only {len(scenario)} agents")
    agents = scenario[: args.agents]
    starts = [a.start for a in agents]
    goals = [a.goal for a in agents]
    t_compile = time.perf_counter()
    warm_up()
    compile_s = time.perf_counter() - t_compile
    t0 = time.perf_counter()
    options = PlanOptions(should_stop=_deadline(args.time_limit), seed=args.seed,
                          improve=not args.first_solution)
    result = solve(grid, starts, goals, options)
    runtime_s = time.perf_counter() - t0
    if result.solved:
        validate_paths(grid, result.paths, starts, goals)
    _write(args.out, {
        "solved": result.solved,
        "runtime_s": round(runtime_s, 6),
        "sum_of_costs": result.sum_of_costs,
        "makespan": result.makespan,
        "paths": [[[x, y] for x, y in path] for path in result.paths],
    })
    lower = sum(a.distance for a in agents)
    ratio = f"{result.sum_of_costs / lower:.3f}" if result.solved and lower else "-"
    print(f"solved={result.solved} agents={len(agents)} sum_of_costs={result.sum_of_costs} "
          f"(x{ratio} of shortest paths) makespan={result.makespan} runtime_s={runtime_s:.2f} "
          f"(kernel compile/load {compile_s:.2f} s, not counted)")
    return 0 if result.solved else 1


def _depth_option(text: str) -> int | None:
    """``--depth``: ``auto`` (None) or 1..5."""
    if text == "auto":
        return None
    if text.isdigit() and 1 <= int(text) <= 5:
        return int(text)
    raise argparse.ArgumentTypeError(f"must be auto or 1..5, got {text!r}")


def _lifelong(args: argparse.Namespace) -> int:
    if args.steps < 1:
        raise UsageError(f"--steps must be at least 1, got {args.steps}")
    if args.step_budget_ms <= 0:
        raise UsageError(f"--step-budget-ms must be positive, got {args.step_budget_ms}")
    if args.step_nodes is not None and args.step_nodes < 1:
        raise UsageError(f"--step-nodes must be at least 1, got {args.step_nodes}")
    if args.keep_bonus < 0 or args.lns_chain > 16:
        raise UsageError(f"--keep-bonus must be >= 0 and --lns-chain at most 16, got {args.keep_bonus}, "
                         f"{args.lns_chain}")
    if args.guidance is not None and not args.rotations:
        raise UsageError("--guidance needs --rotations (learned costs are for the rotation model)")
    inst = load_lorr_instance(args.instance)
    grid = inst.grid
    if args.guidance is not None:
        grid = weighted_grid(grid, read_guidance(args.guidance, grid))
    run = run_lifelong(grid, inst.starts, inst.task_for, args.steps, clock=time.perf_counter,
                       rotations=args.rotations, step_budget_s=args.step_budget_ms / 1000.0,
                       step_nodes=args.step_nodes, seed=args.seed, lns_nodes=args.lns_nodes,
                       lns_chain=args.lns_chain, depth=args.depth, keep_bonus=args.keep_bonus)
    data: dict[str, Any] = dict(run.summary())
    data["paths"] = [[list(s) for s in path] for path in run.paths]
    _write(args.out, data)
    s = run.summary()
    print(f"tasks_completed={s['tasks_completed']} throughput_per_step={s['throughput_per_step']:.3f} "
          f"plan_ms mean={s['plan_ms_mean']:.2f} p99={s['plan_ms_p99']:.2f} max={s['plan_ms_max']:.2f}",
          file=sys.stdout)
    return 0
