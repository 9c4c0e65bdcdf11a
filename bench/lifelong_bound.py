"""The conflict-free ceiling of a LoRR lifelong instance, in the grid and the rotation model.

Each LoRR agent has its own task sequence (``task_for(agent, j)``), so an agent alone on the map
is the best it can do: it drives every leg by a shortest route and nobody is ever in its way.
This script sums, per model, the tasks each agent would finish alone in ``steps`` steps. It is an
upper bound on what any planner can reach, and its rotation / grid ratio says how much of a
planner's rotation / grid ratio is the turns themselves rather than the planner.

Two rotation figures: the *exact* lone-agent optimum, a dynamic programme over the heading the
agent arrives with at each goal (four states per goal, forward searches over (cell, heading));
and a looser one that lets the agent pick its heading freely at each goal, which shows how much
of the turning the goals' positions force (a goal in a dead end must be left by a half turn).

Run from the repository root (shared data at ``../shared`` or ``$BULLETYARD_SHARED``)::

    python -m bench.lifelong_bound --agents 200,400 --steps 1000
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from numba import njit  # noqa: E402

from bench.figures import FigureTable, add_figures_option  # noqa: E402
from controller.planning.graph import FlatGrid  # noqa: E402
from controller.planning.guidance import bucket_distances, reverse_neighbours, rotation_distances  # noqa: E402
from controller.planning.lifelong_run import run_lifelong  # noqa: E402
from warehouse_maps.lorr import load_lorr_instance  # noqa: E402

SHARED = Path(os.environ.get("BULLETYARD_SHARED", REPO.parent / "shared"))


@njit(cache=True)
def _forward_actions(start: int, nbr: np.ndarray, far: int) -> np.ndarray:
    """int32 ``(cells * 4,)``: fewest actions (forward or a 90 degree turn) from state ``start``."""
    n = nbr.shape[0] * 4
    dist = np.full(n, far, dtype=np.int32)
    queue = np.empty(n, dtype=np.int32)
    dist[start] = 0
    queue[0] = start
    head, tail = 0, 1
    while head < tail:
        s = queue[head]
        head += 1
        v, h = s // 4, s % 4
        u = nbr[v, h]
        for t in (u * 4 + h if u >= 0 else -1, v * 4 + (h + 1) % 4, v * 4 + (h + 3) % 4):
            if t >= 0 and dist[t] == far:
                dist[t] = dist[s] + 1
                queue[tail] = t
                tail += 1
    return dist


def exact_rotation_tasks(inst, steps: int) -> int:
    """Tasks all agents finish alone in the rotation model: per agent, the earliest arrival at each
    goal with each heading (start facing east), one forward search per (goal, heading)."""
    flat = FlatGrid.of(inst.grid)
    width = inst.grid.width
    searches: dict[int, np.ndarray] = {}

    def from_state(state: int) -> np.ndarray:
        if state not in searches:
            searches[state] = _forward_actions(state, flat.nbr, flat.far)
        return searches[state]

    total = 0
    for k, start in enumerate(inst.starts):
        here = start[1] * width + start[0]
        arrive = np.full(4, flat.far, dtype=np.int64)  # earliest step at ``here`` facing each heading
        arrive[0] = 0
        j = 0
        while True:
            goal = inst.task_for(k, j)
            g = goal[1] * width + goal[0]
            best = np.full(4, flat.far, dtype=np.int64)
            for h in range(4):
                if arrive[h] >= flat.far:
                    continue
                legs = from_state(here * 4 + h)[g * 4: g * 4 + 4].astype(np.int64)
                if j > 0:
                    legs = np.maximum(legs, 1)  # one task per agent per step
                best = np.minimum(best, arrive[h] + legs)
            if best.min() > steps:
                break
            total += 1
            here, arrive, j = g, best, j + 1
    return total


def alone_tasks(inst, steps: int, rotations: bool) -> int:
    """Tasks all agents finish in ``steps`` steps, each alone on the map (LoRR counting: at most one
    task per agent per step, so a leg costs at least one step)."""
    flat = FlatGrid.of(inst.grid)
    src = reverse_neighbours(flat.nbr)
    weights = np.ones((flat.n, 4), dtype=np.int32)
    tables: dict[int, np.ndarray] = {}

    def table(cell: tuple[int, int]) -> np.ndarray:
        goal = cell[1] * inst.grid.width + cell[0]
        if goal not in tables:
            kernel = rotation_distances if rotations else bucket_distances
            tables[goal] = kernel(goal, src, weights, flat.far, 1)
        return tables[goal]

    total = 0
    for k, start in enumerate(inst.starts):
        here = start[1] * inst.grid.width + start[0]
        t = 0
        j = 0
        first = True
        while True:
            dist = table(inst.task_for(k, j))
            if rotations:
                # heading 0 at the start; after a goal, the best of the four headings
                leg = int(dist[here * 4]) if first else int(dist[here * 4: here * 4 + 4].min())
            else:
                leg = int(dist[here])
            if not first or leg > 0:
                leg = max(leg, 1)
            if t + leg > steps:
                break
            t += leg
            total += 1
            goal = inst.task_for(k, j)
            here = goal[1] * inst.grid.width + goal[0]
            j += 1
            first = False
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", default="200,400", help="warehouse_small agent counts")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--planned", action="store_true",
                        help="also run both planners (as bench/mapf.py), each as a share of its bound")
    parser.add_argument("--step-nodes", type=int, default=100_000)
    add_figures_option(parser)
    args = parser.parse_args()
    table = FigureTable(
        "lifelong-bound", "Conflict-free ceiling of LoRR lifelong instances (each agent alone)",
        ["instance", "grid bound", "rotation bound", "bound ratio", "rotation, heading free",
         "grid planned", "rotation planned", "planned ratio", "grid / bound", "rotation / bound"],
        {"steps": args.steps, "step nodes": args.step_nodes},
        notes="tasks/step; 'heading free': the agent may choose its heading at each goal.",
    )
    for n in [int(a) for a in args.agents.split(",")]:
        inst = load_lorr_instance(SHARED / "benchmarks" / "lorr" / f"warehouse_small_{n}.json")
        grid_bound = alone_tasks(inst, args.steps, False) / args.steps
        rot_free = alone_tasks(inst, args.steps, True) / args.steps
        rot_bound = exact_rotation_tasks(inst, args.steps) / args.steps
        cells: list[str] = ["-"] * 5
        if args.planned:
            rates = []
            for rotations in (False, True):
                run = run_lifelong(inst.grid, inst.starts, inst.task_for, args.steps, clock=time.perf_counter,
                                   rotations=rotations, step_budget_s=1.0, step_nodes=args.step_nodes)
                rates.append(run.throughput_per_step)
            cells = [f"{rates[0]:.3f}", f"{rates[1]:.3f}", f"{rates[1] / rates[0]:.2f}",
                     f"{rates[0] / grid_bound:.2f}", f"{rates[1] / rot_bound:.2f}"]
        table.add(f"warehouse_small_{n}, {args.steps} steps", f"{grid_bound:.3f}", f"{rot_bound:.3f}",
                  f"{rot_bound / grid_bound:.2f}", f"{rot_free:.3f}", *cells)
        print("  run:", table.rows[-1], flush=True)
    table.emit(args.figures)


if __name__ == "__main__":
    main()
