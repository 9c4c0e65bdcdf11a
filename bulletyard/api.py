"""The Python API: ``bulletyard.simulate(...)``, one ``bulletyard sim`` run from a program.

For users who check their site in their own CI (``docs/testing-your-site.md``) and for the sweep,
whose every cell is one call. The options are the command line's, under the same names (dashes
become underscores, ``--rate`` is ``rate_per_h``, ``--until`` is ``until_s``); they go through the
command line's own option builder, so a bad value raises the same error the CLI prints (a
``ValueError`` subclass naming the option). The run folder is written exactly as by the CLI.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Kpis:
    """The headline figures of one run (``summary.json`` has them all; names carry the units).

    A figure the run could not measure (no order completed, no sorter) is ``None``.
    """

    orders_total: int
    orders_completed: int
    orders_failed: int
    lines_per_hour: float | None
    parcels_per_hour: float | None
    offered_lines_per_hour: float | None
    cycle_time_p50_s: float | None
    cycle_time_p95_s: float | None
    cycle_time_max_s: float | None
    first_order_completed_s: float | None
    backlog_at_surge_end: int | None
    robot_utilisation: float
    travel_per_line_m: float | None
    collisions: int
    pybullet_contacts: int
    deadlocks: int
    sim_time_s: float
    wall_time_s: float

    @classmethod
    def from_summary(cls, summary: dict[str, Any], offered_lines_per_hour: float | None = None) -> Kpis:
        """The KPIs of a ``summary.json`` (fields it does not have are ``None``; extra ones ignored)."""
        cycle = summary.get("order_cycle_time_s") or {}
        peak = summary.get("peak") or {}
        return cls(
            orders_total=int(summary.get("orders_total", 0)),
            orders_completed=int(summary.get("orders_completed", 0)),
            orders_failed=int(summary.get("orders_failed", 0)),
            lines_per_hour=summary.get("order_lines_per_hour"),
            parcels_per_hour=summary.get("sorter_items_per_hour") if summary.get("sorter") else None,
            offered_lines_per_hour=offered_lines_per_hour,
            cycle_time_p50_s=cycle.get("p50"),
            cycle_time_p95_s=cycle.get("p95"),
            cycle_time_max_s=cycle.get("max"),
            first_order_completed_s=summary.get("first_order_completed_s"),
            backlog_at_surge_end=peak.get("backlog_at_surge_end"),
            robot_utilisation=float(summary.get("robot_utilisation", 0.0)),
            travel_per_line_m=summary.get("travel_per_line_m"),
            collisions=int(summary.get("collisions", 0)),
            pybullet_contacts=int(summary.get("pybullet_contacts", 0)),
            deadlocks=int(summary.get("deadlocks", 0)),
            sim_time_s=float(summary.get("sim_time_s", 0.0)),
            wall_time_s=float(summary.get("wall_time_s", 0.0)),
        )

    def as_dict(self) -> dict[str, Any]:
        """Field name to value, in declaration order."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """What :func:`simulate` returns: typed KPIs, the whole summary and where the run folder is."""

    kpis: Kpis
    summary: dict[str, Any]
    run_dir: Path
    exit_code: int  # 1 when the run had a collision (as ``bulletyard sim``), else 0


def simulate(
    layout: str = "small-fc",
    robots: int = 10,
    orders: int = 50,
    *,
    order_file: str | None = None,
    profile: str = "steady",
    rate_per_h: float | None = None,
    peak_factor: float | None = None,
    peak_duration_s: float | None = None,
    seed: int = 1,
    out: str | Path = "runs/latest",
    until_s: float | None = None,
    trace_dt_s: float = 0.25,
    delays: str | None = None,
    kill_robot: Sequence[str] = (),
    drop_rate: float | None = None,
    chute_close: Sequence[str] = (),
    assigner: str = "pileon",
    sorter: bool = True,
) -> SimulationResult:
    """Run one headless simulation, write its run folder and return its KPIs.

    Same options and defaults as ``bulletyard sim``; deterministic for a seed (two calls with the
    same options give the same KPIs, wall time aside).

    Raises:
        ValueError: a bad option, layout or fault (the message is the CLI's error line).
    """
    from bulletyard.commands.sim_cmd import options_from_args
    from bulletyard.errors import UsageError
    from bulletyard.runtime.sim_setup import Simulation

    if profile not in ("steady", "peak"):
        raise UsageError(f"profile {profile!r}: choose steady or peak")
    args = argparse.Namespace(
        layout=layout, robots=robots, orders=orders, order_file=order_file, profile=profile,
        rate=rate_per_h, peak_factor=peak_factor, peak_duration=peak_duration_s, seed=seed,
        out=str(out), until=until_s, trace_dt=trace_dt_s, delays=delays, kill_robot=list(kill_robot),
        drop_rate=drop_rate, chute_close=list(chute_close), broker=None, real_time_factor=1.0,
        gui=False, record=False, assigner=assigner, no_sorter=not sorter,
    )
    options = options_from_args(args)
    try:
        sim = Simulation(options)
    except (ValueError, KeyError) as exc:  # as run_sim does: a layout too small, an unknown robot
        raise UsageError(str(exc)) from None
    with sim:
        result = sim.run()
    offered = _offered_lines_per_hour(sim, float(result.summary.get("sim_time_s", 0.0)))
    return SimulationResult(
        kpis=Kpis.from_summary(result.summary, offered),
        summary=result.summary,
        run_dir=result.run_dir,
        exit_code=result.exit_code,
    )


def _offered_lines_per_hour(sim: Any, sim_time_s: float) -> float | None:
    """Order lines that arrived during the run per simulated hour: the demand, an upper bound of
    the completed lines per hour (nothing is completed before it arrives)."""
    if sim_time_s <= 0:
        return None
    lines = sum(len(o.lines) for o in sim.orders if o.t_s <= sim_time_s)
    return round(lines / (sim_time_s / 3600.0), 2)
