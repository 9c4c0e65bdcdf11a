"""Learned guidance for the rotation model: optimise move costs offline, compare with the hand lanes.

The idea of guidance graph optimisation (Zhang et al., "Guidance Graph Optimization for Lifelong
MAPF", IJCAI 2024, and its online follow-up, arXiv 2411.16506): the costs of the directed moves are
parameters, optimised for throughput by running the lifelong planner itself. The code is ours.
On LoRR warehouse_small the costs learned at 400 agents gain 14.6 % there over the hand lanes,
those learned at 200 agents gain nothing at 200 (docs/planning.md, "Learned guidance" and "Known
limits"). ``--out FILE`` writes the learned costs for ``bulletyard lifelong --guidance FILE``.

Honest training: the weights are learned on tasks *generated from the map's own endpoint markers*
(LoRR maps mark task cells with letters such as ``E`` and ``S``; each task picks a letter
uniformly, then a cell of that letter uniformly, as warehouse_small's task file does, about half
``E`` and half ``S``), from random distinct start cells, with training seeds. Only then are they
run on the real instance (its agents and task file), planner seeds given by ``--eval-seeds``.
Learned weights reach the planner through ``Grid.edge_weights`` (a move the grid weights costs
that weight instead of the lane's), so no planner code changes.

Two parameterisations, both starting from the hand lanes (``lane_weights(flat, 10, 2)``):

* ``piu`` (the paper's "parameterised iterative update"): run the fleet, count per directed move
  its traffic (moves along it, moves along its reverse, waits facing it, waits in the cell it
  enters), and set ``cost = lanes x exp(theta . features)``; three iterations accumulate traffic.
  The 5 coefficients ``theta`` are optimised by the cross-entropy method.
* ``groups``: one cost per (row or column, heading, aisle or open floor), 208 on warehouse_small,
  optimised by a (1+1)-ES that perturbs three groups at a time.

Run from the repository root (shared data at ``../shared`` or ``$BULLETYARD_SHARED``)::

    python -m bench.learn_guidance --agents 200 --method piu
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from controller.planning.graph import FlatGrid  # noqa: E402
from controller.planning.guidance import lane_weights  # noqa: E402
from controller.planning.learned_guidance import weighted_grid, write_guidance  # noqa: E402
from controller.planning.lifelong_run import run_lifelong  # noqa: E402
from warehouse_maps.grid import Cell, Grid  # noqa: E402
from warehouse_maps.lorr import LORR_PASSABLE, LorrInstance, load_lorr_instance  # noqa: E402

SHARED = Path(os.environ.get("BULLETYARD_SHARED", REPO.parent / "shared"))
TaskFor = Callable[[int, int], Cell]


def endpoint_cells(instance_path: Path) -> dict[str, list[Cell]]:
    """Cells of each task letter of the instance's map (every floor letter but ``.``; a map with
    none: every floor cell, under ``.``)."""
    spec = json.loads(instance_path.read_text(encoding="utf-8"))
    lines = (instance_path.parent / spec["mapFile"]).read_text(encoding="utf-8").splitlines()
    height = int(lines[1].split()[1])
    marks: dict[str, list[Cell]] = {}
    for y, row in enumerate(lines[4 : 4 + height]):
        for x, ch in enumerate(row):
            if ch in LORR_PASSABLE and ch != ".":
                marks.setdefault(ch, []).append((x, y))
    if not marks:  # no markers (the LoRR 2023 maps): tasks anywhere on the floor
        marks["."] = [(x, y) for y, row in enumerate(lines[4 : 4 + height])
                      for x, ch in enumerate(row) if ch in LORR_PASSABLE]
    return marks


def training_instance(grid: Grid, marks: dict[str, list[Cell]], agents: int, seed: int,
                      tasks: int = 20_000) -> tuple[list[Cell], TaskFor]:
    """Random distinct starts and a round-robin task list drawn from the endpoint markers."""
    rng = np.random.default_rng(seed)
    free = grid.free_cells
    starts = [free[i] for i in rng.choice(len(free), agents, replace=False)]
    letters = sorted(marks)
    kind = rng.integers(0, len(letters), tasks)
    pick = rng.random(tasks)
    cells = [marks[letters[k]][int(p * len(marks[letters[k]]))] for k, p in zip(kind, pick)]
    return starts, lambda k, j: cells[(j * agents + k) % tasks]


class Trainer:
    """Runs the rotation planner with given move costs on training or evaluation instances."""

    def __init__(self, inst: LorrInstance, marks: dict[str, list[Cell]], steps: int) -> None:
        self.inst = inst
        self.marks = marks
        self.steps = steps
        self.flat = FlatGrid.of(inst.grid)
        self.lanes = lane_weights(self.flat, 10, 2)
        self.runs = 0

    def run(self, weights: np.ndarray, seed: int, *, real: bool = False, steps: int | None = None,
            planner_seed: int = 0) -> tuple[float, np.ndarray]:
        """Tasks/step and the paths ``(agents, steps + 1, 3)`` of one run."""
        agents = self.inst.team_size
        if real:
            starts, task_for = list(self.inst.starts), self.inst.task_for
        else:
            starts, task_for = training_instance(self.inst.grid, self.marks, agents, seed)
        out = run_lifelong(weighted_grid(self.inst.grid, weights), starts, task_for, steps or self.steps,
                           clock=time.perf_counter, rotations=True, step_nodes=100_000,
                           seed=planner_seed, validate=False)
        self.runs += 1
        return out.throughput_per_step, np.asarray(out.paths)

    def fitness(self, weights: np.ndarray, seeds: tuple[int, ...]) -> float:
        """Mean tasks/step over training instances of the given seeds."""
        return float(np.mean([self.run(weights, s)[0] for s in seeds]))

    # -- traffic ---------------------------------------------------------------------------

    def traffic(self, paths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per ``(cell, heading)``: forward moves made, and steps waited (no move, no turn)."""
        n = self.flat.n
        cells = paths[:, :, 1] * self.inst.grid.width + paths[:, :, 0]
        heads = paths[:, :, 2]
        moved = cells[:, 1:] != cells[:, :-1]
        waited = ~moved & (heads[:, 1:] == heads[:, :-1])
        mv, wt = np.zeros((n, 4)), np.zeros((n, 4))
        np.add.at(mv, (cells[:, :-1][moved], heads[:, :-1][moved]), 1)
        np.add.at(wt, (cells[:, :-1][waited], heads[:, :-1][waited]), 1)
        return mv, wt

    def _along(self, per_cell: np.ndarray, reverse: bool) -> np.ndarray:
        """Per move ``(u, d)``: the value of the cell it enters, or (``reverse``) of the reverse move."""
        out = np.zeros((self.flat.n, 4))
        for d in range(4):
            v = self.flat.nbr[:, d]
            ok = v >= 0
            out[ok, d] = per_cell[v[ok], (d + 2) % 4] if reverse else per_cell[v[ok]]
        return out

    def piu(self, theta: np.ndarray, iterations: int = 3, seed: int = 41) -> np.ndarray:
        """Move costs after ``iterations`` traffic updates with coefficients ``theta`` (5)."""
        def norm(a: np.ndarray) -> np.ndarray:
            return np.minimum(a / max(float(a[a > 0].mean()) if (a > 0).any() else 1.0, 1e-9), 4.0)

        weights = self.lanes.copy()
        mv_sum, wt_sum = np.zeros((self.flat.n, 4)), np.zeros((self.flat.n, 4))
        for it in range(iterations):
            mv, wt = self.traffic(self.run(weights, seed + it, steps=600)[1])
            mv_sum += mv
            wt_sum += wt
            rev = self._along(mv_sum, True)
            feats = np.stack([rev / (mv_sum + rev + 5), norm(wt_sum), norm(self._along(wt_sum.sum(1), False)),
                              norm(mv_sum)])
            z = np.tensordot(theta[:4], feats, 1) + theta[4]
            weights = np.clip(np.round(self.lanes * np.exp(z)), 1, 30).astype(np.int32)
        return weights

    # -- groups ----------------------------------------------------------------------------

    def groups(self) -> tuple[np.ndarray, np.ndarray]:
        """Group of each move (-1: none) by (row or column, heading, aisle), and each group's lane cost."""
        passable = self.inst.grid.passable
        walled = np.zeros((passable.shape[0] + 2, passable.shape[1] + 2), dtype=bool)
        walled[1:-1, 1:-1] = passable
        aisle_ew = (~walled[:-2, 1:-1] & ~walled[2:, 1:-1]).ravel()
        aisle_ns = (~walled[1:-1, :-2] & ~walled[1:-1, 2:]).ravel()
        ys, xs = np.divmod(np.arange(self.flat.n), self.inst.grid.width)
        keys: dict[tuple[int, int, int, bool], int] = {}
        gid = np.full((self.flat.n, 4), -1)
        for u, d in zip(*np.nonzero(self.flat.nbr >= 0)):
            horizontal = d in (0, 2)
            key = (int(horizontal), int(ys[u] if horizontal else xs[u]), int(d),
                   bool(aisle_ew[u] if horizontal else aisle_ns[u]))
            gid[u, d] = keys.setdefault(key, len(keys))
        base = np.array([self.lanes[gid == g].mean() for g in range(len(keys))])
        return gid, base


def search_piu(tr: Trainer, seeds: tuple[int, ...], generations: int, rng: np.random.Generator) -> np.ndarray:
    """Cross-entropy method over the 5 update coefficients; the best weights seen."""
    mu, sd = np.zeros(5), np.full(5, 0.3)
    best_w, best_theta = tr.piu(mu), mu
    best = tr.fitness(best_w, seeds)
    for gen in range(generations):
        xs = mu + sd * rng.standard_normal((8, 5))
        ws = [tr.piu(x) for x in xs]
        fs = np.array([tr.fitness(w, seeds) for w in ws])
        top = np.argsort(-fs)[:3]
        mu, sd = xs[top].mean(0), np.maximum(0.05, 0.5 * sd + 0.5 * xs[top].std(0))
        if fs.max() > best:
            best, best_w, best_theta = float(fs.max()), ws[int(np.argmax(fs))], xs[int(np.argmax(fs))]
        print(f"  generation {gen}: best {best:.4f} (theta {np.round(best_theta, 2).tolist()})", flush=True)
    return best_w


def search_groups(tr: Trainer, seeds: tuple[int, ...], evaluations: int,
                  rng: np.random.Generator) -> np.ndarray:
    """(1+1)-ES over log costs per group, three groups perturbed at a time; the best weights."""
    gid, base = tr.groups()
    used = gid >= 0

    def weights(theta: np.ndarray) -> np.ndarray:
        w = np.ones((tr.flat.n, 4), dtype=np.int32)
        w[used] = np.clip(np.round(np.exp(theta)), 1, 30).astype(np.int32)[gid[used]]
        return w

    cur = np.log(base)
    best = tr.fitness(weights(cur), seeds)
    for k in range(evaluations):
        x = cur.copy()
        pick = rng.choice(len(cur), 3, replace=False)
        x[pick] += rng.normal(0.0, 0.35, 3)
        f = tr.fitness(weights(x), seeds)
        if f > best:
            cur, best = x, f
            print(f"  evaluation {k}: accepted {best:.4f}", flush=True)
    return weights(cur)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=200, help="warehouse_small_N instance")
    parser.add_argument("--instance", type=Path,
                        help="a LoRR instance instead (tasks from its map's task letters, else any floor)")
    parser.add_argument("--out", type=Path,
                        help="write the learned costs here (bulletyard lifelong --guidance)")
    parser.add_argument("--method", choices=("piu", "groups"), default="piu")
    parser.add_argument("--budget", type=int, default=10, help="piu: generations; groups: evaluations")
    parser.add_argument("--train-seeds", default="11,12", help="training instances the search scores on")
    parser.add_argument("--heldout-seeds", default="31,32", help="training instances only reported")
    parser.add_argument("--eval-seeds", default="0,1,2", help="planner seeds on the real instance")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=3, help="seed of the search itself")
    args = parser.parse_args()
    path = args.instance or SHARED / "benchmarks" / "lorr" / f"warehouse_small_{args.agents}.json"
    inst = load_lorr_instance(path)
    marks = endpoint_cells(path)
    print(f"{path.name}: {inst.team_size} agents, task letters "
          + ", ".join(f"{k} x {len(v)}" for k, v in sorted(marks.items())), flush=True)
    tr = Trainer(inst, marks, args.steps)
    seeds = tuple(int(s) for s in args.train_seeds.split(","))
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    if args.method == "piu":
        learned = search_piu(tr, seeds, args.budget, rng)
    else:
        learned = search_groups(tr, seeds, args.budget, rng)
    print(f"search: {tr.runs} runs, {time.perf_counter() - t0:.0f} s", flush=True)
    heldout = tuple(int(s) for s in args.heldout_seeds.split(","))
    evals = [int(s) for s in args.eval_seeds.split(",")]
    if args.out:
        write_guidance(args.out, inst.grid, learned, {
            "method": args.method, "budget": args.budget, "search_seed": args.seed,
            "train_seeds": list(seeds), "agents": inst.team_size, "steps": args.steps,
            "tasks": "endpoint markers " + "".join(sorted(marks)),
        })
        print(f"wrote {args.out}", flush=True)
    heads = " | ".join(f"eval seed {s}" for s in evals)
    print(f"| guidance | train | held-out train | {heads} | eval mean |")
    print("|---|---|---|" + "---|" * (len(evals) + 1))
    for name, w in (("hand lanes (10 / 2)", tr.lanes), (f"learned ({args.method})", learned)):
        real = [tr.run(w, 0, real=True, planner_seed=s)[0] for s in evals]
        print(f"| {name} | {tr.fitness(w, seeds):.3f} | {tr.fitness(w, heldout):.3f} | "
              + " | ".join(f"{r:.3f}" for r in real) + f" | {np.mean(real):.3f} |", flush=True)


if __name__ == "__main__":
    main()
