"""A simulation's ``summary.json``: the manifest (what produced the run), the KPIs, the throughput
figures against the site's bound, and a block for each part that ran.

Why apart from :mod:`bulletyard.runtime.sim_setup`: they read the composed simulation and derive
plain dictionaries; composing the simulation is that module's job.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from typing import TYPE_CHECKING

from bulletyard.runtime.site import is_robotic_site
from sim.bound import throughput_bound
from sim.safety import SafetyReport
from warehouse_maps.layout import Layout, PlaceKind

if TYPE_CHECKING:
    from bulletyard.runtime.sim_setup import Simulation


def layout_hash(layout: Layout) -> str:
    """A short hash of the floor and its places (two runs on the same layout share it)."""
    h = hashlib.sha256(layout.grid.passable.tobytes())
    for p in layout.places:
        h.update(f"{p.id}:{p.kind}:{p.cell}".encode())
    return h.hexdigest()[:16]


def throughput_figures(sim: Simulation, summary: dict[str, object]) -> dict[str, object]:
    """Pile-on (lines per pod visit), the throughput bound (lines/h) and the efficiency (issue 18)."""
    counters = sim.controller.counters
    visits, lines = counters["station_visits"], counters["lines_picked"]
    pile_on = round(lines / visits, 3) if visits else None
    trip_m = float(summary["travel_m"]) / visits if visits else None  # type: ignore[arg-type]
    bound = throughput_bound(
        stations=len(sim.layout.cells_of(PlaceKind.PICK_STATION)),
        robots=sim.options.robots,
        pick_time_s=sim.config.pick_time_s,
        pile_on=pile_on,
        trip_m=trip_m,
        speed_mps=sim.options.speed_mps,
    )
    achieved = summary.get("order_lines_per_hour")
    return {
        "operations_rule": sim.config.assignment.solver,
        "pile_on": pile_on,
        "station_visits": visits,
        "order_lines_picked": lines,
        "throughput_bound_lines_per_hour": bound["bound"],
        "throughput_bound_by": {"station": bound["station"], "travel": bound["travel"]},
        "throughput_efficiency": round(float(achieved) / bound["bound"], 4)  # type: ignore[arg-type]
        if bound["bound"] and achieved is not None
        else None,
    }


def run_manifest(sim: Simulation) -> dict[str, object]:
    """What produced this run (seed, layout hash, configuration)."""
    o = sim.options
    return {
        "seed": o.seed,
        "layout": sim.layout.name,
        "layout_hash": layout_hash(sim.layout),
        "robots": o.robots,
        "orders": len(sim.orders),
        "order_file": o.order_file,
        "profile": o.profile,
        **({"peak_factor": o.peak_factor, "peak_duration_s": o.peak_duration_s}
           if o.peak_factor is not None or o.peak_duration_s is not None else {}),
        "inventory": o.inventory or "mixed (seeded)",
        "operations_rule": o.assigner,
        "motion_model": o.motion_model,
        "until_s": o.until_s,
        "trace_dt_s": o.trace_dt_s,
        "faults": o.faults.as_dict(),
        "transport": "mqtt" if o.broker_url else "inproc",
        "real_time_factor_target": o.real_time_factor if o.broker_url else None,
        "vehicles": "robots.agent.VehicleAgent + sim.pybullet_drive.PyBulletDrive",
        "sorter": "sorter.agent.SorterAgent + sorter.loop.LoopSorter" if sim.sorting else None,
        **({"parcel_file": o.parcel_file,
            "robotic_sortation": sim.config.robotic_sortation.model_dump(),
            "chutes": "sim.chute_bank.ChuteBank"} if sim.parcel_site is not None else {}),
        "controller": "controller.core.Controller",
        "controller_config_hash": hashlib.sha256(sim.config.model_dump_json().encode()).hexdigest()[:16],
        "start": "2026-11-11T00:00:00.000Z",
    }


def run_summary(sim: Simulation, sim_time_s: float, wall_s: float, safety: SafetyReport, messages: int,
                frames: int) -> dict[str, object]:
    """The whole ``summary.json`` of a finished run: manifest, KPIs, safety, and a block per part
    that ran (robotic sortation, conveyor sorter, bus, delays, recording).

    Args:
        sim: the finished simulation.
        sim_time_s: simulated length of the run, seconds.
        wall_s: wall-clock length of the run, seconds.
        safety: the trace's collision check.
        messages: bus messages delivered.
        frames: trace frames written.
    """
    summary: dict[str, object] = {"manifest": run_manifest(sim)}
    summary.update(sim.kpi.summary(sim_time_s=sim_time_s, wall_time_s=wall_s))
    if sim.sorting is None:  # no conveyor sorter ran: its throughput is unknown, not zero
        summary["sorter_items_per_hour"] = None
    summary.update(
        {
            "collisions": safety.collision_count,
            "min_robot_distance_m": safety.as_dict()["min_distance_m"],
            "safety": safety.as_dict(),
            "wall_time_s": round(wall_s, 3),
            "sim_time_s": round(sim_time_s, 3),
            "real_time_factor": round(sim_time_s / wall_s, 2) if wall_s > 0 else None,
            "messages": messages,
            "trace_frames": frames,
            "controller_counters": dict(sorted(sim.controller.counters.items())),
        }
    )
    if sim.surge is not None:
        summary["peak"] = sim.surge.as_dict(summary["first_order_completed_s"])
    if sim.parcel_site is not None:
        summary["sortation"] = sim.parcel_site.summary(summary, sim.options.robots, sim.options.speed_mps)
        flow = sim.controller.parcels
        summary["sortation"]["controller"] = {  # type: ignore[index]
            "counts": dict(sorted(flow.counts.items())),
            "held_at_induct_by_reason": dict(sorted(flow.held_reasons.items())),
            "failed_by_reason": dict(sorted(flow.failed_reasons.items())),
            "on_lost_robots": len(flow.lost_aboard),  # at the end: waiting for their robots
        }
    if sim.parcel_site is None or not is_robotic_site(sim.layout):
        summary.update(throughput_figures(sim, summary))
    if getattr(sim, "delays", None) is not None:
        summary["delays_injected"] = {
            "count": sim.delays.delays,
            "robot_seconds": round(sim.delays.delayed_s, 1),
        }
    if sim.sorting is not None:
        model = sim.sorting.agent.model
        model.check_conservation()
        summary["sorter"] = {
            "counters": sim.sorting.agent.counters().model_dump(by_alias=True),
            "conveyor": dict(sim.sorting.counts),
            "planner": {
                k: v for k, v in asdict(sim.controller.sortation.planner.counts).items() if k != "extra"
            },
        }
    if sim.broker is not None:
        summary["bus"] = {k: getattr(sim.broker.counters, k) for k in ("published", "delivered", "lost")}
    if sim.recorder is not None:
        video = sim.recorder.finish()
        summary["recording"] = {"frames": sim.recorder.count, "video": str(video) if video else None,
                                "video_error": sim.recorder.video_error}
    return summary
