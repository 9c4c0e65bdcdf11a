"""Sorter benchmark: throughput against the analytic figure, speed against real time, conservation.

Runs the issue's default line (loop 200 m, pitch 0.6 m, 2.5 m/s, 4 automatic inducts at 3,600
items/h, 200 chutes, 0.5 % no-read) for a warm-up plus one measured simulated hour:

* ``model``: the LoopSorter alone with the balanced plan as a direct resolver;
* ``agent+controller``: SorterAgent and SortationPlanner exchanging JSON envelopes (the real path);
* ``unlimited chutes``: the same with chutes that never fill (isolates the induct-limited figure);
* ``pybullet``: agent+controller with PyBullet bodies synchronised every frame (DIRECT mode).

Wall time is measured here with ``time.perf_counter`` (never in the model); each speed figure is
the median of ``--repeats`` runs. Every run ends with the model's conservation check.

    python bench/sorter.py [--repeats 3] [--pybullet-minutes 60] [--seed 1]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.figures import FigureTable, add_figures_option  # noqa: E402
from bus.clock import SIM_EPOCH, Instant, seconds  # noqa: E402
from controller.sortation.mapping import balanced_plan  # noqa: E402
from controller.sortation.planner import SortationPlanner  # noqa: E402
from sim.sorter_runner import SorterRun  # noqa: E402
from sorter.agent import SorterAgent  # noqa: E402
from sorter.config import ChuteLayout, InductConfig, InlineConfig, LoopConfig  # noqa: E402
from sorter.feed import destination_weights  # noqa: E402
from sorter.inline import InlineSorter  # noqa: E402
from sorter.loop import LoopSorter  # noqa: E402

WARMUP_S = 600.0
HOUR_S = 3600.0


@dataclass
class Result:
    """One run's figures."""

    name: str
    sim_s: float
    wall_s: float
    throughput_per_h: float
    inducted: int
    recirculation_rate: float
    reject_rate: float
    no_read_rate: float
    late_replies: int
    on_line_at_end: int


def _direct_resolver(plan: dict[str, tuple[str, ...]]):
    turn: dict[str, int] = {}

    def resolve(barcode: str) -> str | None:
        dest = barcode.split(":", 1)[0]
        chutes = plan.get(dest)
        if not chutes:
            return None
        k = turn.get(dest, 0)
        turn[dest] = k + 1
        return chutes[k % len(chutes)]

    return resolve


def run_once(name: str, config: LoopConfig, seed: int, measure_s: float, direct: bool,
             world: bool = False, warmup_s: float = WARMUP_S) -> Result:
    """Warm up, then measure ``measure_s`` simulated seconds; returns the figures.

    ``direct``: the model alone with the plan as resolver; otherwise agent and planner on envelopes.
    """
    plan = balanced_plan(destination_weights(config.feed), config.chutes.chute_ids())
    rng = np.random.default_rng(seed)
    model = LoopSorter(config, rng, SIM_EPOCH, resolver=_direct_resolver(plan) if direct else None)
    run = None
    client = None
    if not direct:
        agent = SorterAgent(config.sorter_id, "bench", model)
        w = None
        if world:
            import pybullet as p

            from sim.sorter_world import SorterWorld

            client = p.connect(p.DIRECT)
            w = SorterWorld(model, client)
        run = SorterRun(agent, SortationPlanner("bench", plan), world=w,
                        frame_period=seconds(0.1) if world else None)

    def advance(to: Instant) -> None:
        if run is None:
            model.advance_to(to)
        else:
            run.run_until(to)

    warm_s = min(warmup_s, measure_s)
    started = time.perf_counter()
    advance(Instant(SIM_EPOCH + seconds(warm_s)))
    c0 = model.counts
    out0, ind0, rec0 = c0.sorted + c0.rejected, c0.inducted, c0.recirculated
    rej0, nr0 = c0.rejected, c0.no_reads
    advance(Instant(SIM_EPOCH + seconds(warm_s + measure_s)))
    wall = time.perf_counter() - started
    model.check_conservation()
    c = model.counts
    out = c.sorted + c.rejected - out0
    inducted = c.inducted - ind0
    if client is not None:
        import pybullet as p

        p.disconnect(client)
    return Result(name, warm_s + measure_s, wall, out * 3600.0 / measure_s, inducted,
                  (c.recirculated - rec0) / max(1, out), (c.rejected - rej0) / max(1, out),
                  (c.no_reads - nr0) / max(1, inducted), c.late_replies, len(model.parcels))


def inline_run(seed: int) -> Result:
    """The inline variant for an hour after warm-up (destination chutes round robin)."""
    cfg = InlineConfig(induct=InductConfig(induct_id="in-1", position_m=0.0, automatic=True),
                       chutes=ChuteLayout(count=20, first_m=10.0, spacing_m=2.0, capacity_items=10**6))
    plan = balanced_plan(destination_weights(cfg.feed), cfg.chutes.chute_ids())
    model = InlineSorter(cfg, np.random.default_rng(seed), SIM_EPOCH, resolver=_direct_resolver(plan))
    started = time.perf_counter()
    model.advance_to(Instant(SIM_EPOCH + seconds(WARMUP_S)))
    out0 = model.counts.sorted + model.counts.rejected
    rej0 = model.counts.rejected
    model.advance_to(Instant(SIM_EPOCH + seconds(WARMUP_S + HOUR_S)))
    wall = time.perf_counter() - started
    model.check_conservation()
    c = model.counts
    out = c.sorted + c.rejected - out0
    return Result("inline", WARMUP_S + HOUR_S, wall, out, c.inducted, 0.0, (c.rejected - rej0) / max(1, out),
                  c.no_reads / max(1, c.inducted), c.late_replies, len(model.parcels))


def main(argv: list[str] | None = None) -> int:
    """Print the tables; exit 1 when a target is missed."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pybullet-minutes", type=float, default=60.0)
    add_figures_option(ap)
    args = ap.parse_args(argv)

    base = LoopConfig()
    unlimited = base.model_copy(update={"chutes": base.chutes.model_copy(update={"capacity_items": 10**9})})
    analytic = LoopSorter(base, np.random.default_rng(0)).analytic_throughput_per_h()
    digest = hashlib.sha256(base.model_dump_json().encode()).hexdigest()[:12]
    print(f"# sorter bench: seed {args.seed}, config sha256 {digest}")
    print(f"# default line {base.loop_length_m:g} m loop, pitch {base.carrier_pitch_m} m, "
          f"{base.speed_mps} m/s, {len(base.inducts)} inducts x "
          f"{base.inducts[0].rate_cap_per_h:g}/h, {base.chutes.count} chutes (capacity "
          f"{base.chutes.capacity_items}, clear {base.chutes.clear_time_s:g} s), no-read "
          f"{base.scanner.no_read_probability:.1%}")
    carriers_h = 3600 * base.speed_mps / base.carrier_pitch_m
    print(f"# analytic: 3600 x {base.speed_mps} / {base.carrier_pitch_m} = {carriers_h:.0f} carriers/h "
          f"x fill {analytic / carriers_h:.3f} = {analytic:.0f} items/h; warm-up {WARMUP_S:g} s, "
          f"then the measured span")
    rows: list[tuple[Result, list[float]]] = []
    plans = [("model", base, True, False, HOUR_S), ("agent+controller", base, False, False, HOUR_S),
             ("agent+controller, first hour from empty", base, False, False, HOUR_S),
             ("agent+controller, unlimited chutes", unlimited, False, False, HOUR_S),
             ("agent+controller+pybullet", base, False, True, args.pybullet_minutes * 60.0)]
    for name, cfg, direct, world, measure in plans:
        repeats = 1 if world else args.repeats
        warmup = 0.0 if "from empty" in name else WARMUP_S
        results = [run_once(name, cfg, args.seed, measure, direct, world, warmup) for _ in range(repeats)]
        rows.append((results[0], [r.wall_s for r in results]))
        print(f"  {name}: done in {statistics.median(r.wall_s for r in results):.1f} s", flush=True)
    print()
    params = {"seed": args.seed, "repeats": args.repeats, "PyBullet minutes": args.pybullet_minutes,
              "config sha256": digest, "analytic items/h": round(analytic)}
    loop = FigureTable(
        "sorter-loop",
        f"Loop sorter ({base.loop_length_m:g} m, {base.chutes.count} chutes): throughput against the "
        "analytic rate, speed",
        ["run", "sim s", "wall s (median)", "x real time", "throughput /h", "vs analytic", "recirc/item",
         "reject rate", "no-read rate", "late", "on line at end"], params)
    ok = True
    for r, walls in rows:
        wall = statistics.median(walls)
        speed = r.sim_s / wall
        dev = r.throughput_per_h / analytic - 1.0
        loop.add(r.name, f"{r.sim_s:.0f}", f"{wall:.2f}", f"{speed:.0f}", f"{r.throughput_per_h:.0f}",
                 f"{dev:+.2%}", f"{r.recirculation_rate:.4f}", f"{r.reject_rate:.4f}",
                 f"{r.no_read_rate:.4f}", r.late_replies, r.on_line_at_end)
        target = 20.0 if "pybullet" in r.name else 120.0
        ok &= speed >= target and abs(dev) <= 0.02
    loop.emit(args.figures)
    inline = inline_run(args.seed)
    line = FigureTable(
        "sorter-inline", "Inline sorter (60 m, 2 m/s, one automatic induct 3600/h, 20 chutes)",
        ["run", "sim s", "wall s", "x real time", "throughput /h", "vs analytic 3600/h", "reject rate"],
        {"seed": args.seed})
    line.add("model with direct resolver", f"{inline.sim_s:.0f}", f"{inline.wall_s:.2f}",
             f"{inline.sim_s / inline.wall_s:.0f}", f"{inline.throughput_per_h:.0f}",
             f"{inline.throughput_per_h / 3600 - 1:+.2%}", f"{inline.reject_rate:.4f}")
    line.emit(args.figures)
    print("conservation: checked after every run (inducted = on line + in chutes + reject): OK")
    print("targets: |throughput - analytic| <= 2 %, >= 120 x real time headless, >= 20 x with PyBullet:",
          "MET" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
