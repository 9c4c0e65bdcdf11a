"""``bulletyard sim``, ``bulletyard replay`` and ``bulletyard snapshot``.

``sim`` composes the controller, the vehicles and the WMS feeder on one simulated clock
(:mod:`bulletyard.runtime.sim_setup`), shows a progress bar with ETA, writes ``summary.json``,
``trace.jsonl`` and ``report.html`` into ``--out`` and prints a short KPI table. A run with a
collision exits 1. ``replay`` re-shows a run from its trace (GUI or headless frames);
``snapshot`` renders one moment of a run to a PNG with PyBullet's TinyRenderer.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bulletyard.errors import UsageError
from bulletyard.inputs.files import read_json_input
from bulletyard.inputs.options import positive_number, seconds_option, seed_option
from bulletyard.inputs.paths import output_file_arg, output_folder_arg
from warehouse_maps.limits import env_name, limit


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``sim``, ``replay`` and ``snapshot``."""
    p = sub.add_parser("sim", help="simulate a layout, a fleet and an order stream")
    p.add_argument("--layout", default="small-fc", help="small-fc, fc, sort-center or a layout FILE")
    p.add_argument("--robots", type=int, default=10, help="fleet size (default 10)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--orders", type=int, default=50, help="orders to generate (default 50)")
    g.add_argument("--order-file", help="orders from a JSON / JSON Lines file instead")
    g.add_argument("--parcel-file", help="robotic sortation: parcels from a CSV / JSON Lines file "
                   "(t_s, parcel id, destination[, induct]); --orders counts generated parcels there")
    p.add_argument("--profile", choices=("steady", "peak"), default="steady", help="arrival profile")
    p.add_argument("--rate", type=float, default=None, help="base arrival rate in orders per hour")
    p.add_argument("--peak-factor", type=float, default=None, help="peak: times the base rate (default 10)")
    p.add_argument(
        "--peak-duration", type=float, default=None, metavar="S",
        help="peak: surge length in seconds (default: the first tenth of the orders)",
    )
    p.add_argument("--seed", type=seed_option, default=1, help="root seed (default 1)")
    p.add_argument("--out", default="runs/latest", help="run folder (default runs/latest)")
    p.add_argument("--until", type=float, default=None, metavar="SIM_TIME", help="stop at this many seconds")
    p.add_argument("--gui", action="store_true", help="PyBullet window (needs a display)")
    p.add_argument("--follow", default=None, metavar="ROBOT",
                   help="with --gui: start with the camera following this robot (keys f/b/o change it)")
    p.add_argument("--gui-speed", type=float, default=10.0, metavar="X",
                   help="with --gui: start at X times real time (default 10; keys +/- change it)")
    p.add_argument("--record", action="store_true", help="write PNG frames (and an MP4 when ffmpeg exists)")
    p.add_argument("--broker", default=None, metavar="URL", help="run over MQTT at mqtt://host:port")
    p.add_argument(
        "--real-time-factor", type=float, default=1.0, help="with --broker: sim seconds per second"
    )
    p.add_argument("--trace-dt", type=float, default=0.25, help="seconds between trace frames")
    p.add_argument("--delays", default=None, metavar="P,MIN_S,MAX_S", help="random robot delays (LoRR style)")
    p.add_argument("--kill-robot", action="append", default=[], metavar="ID@T", help="drop a robot at T s")
    p.add_argument("--drop-rate", type=float, default=None, help="QoS 0 loss on the in-process bus")
    p.add_argument("--chute-capacity", type=int, default=None, metavar="N",
                   help="robotic sortation: parcels a chute bag holds before it is swapped (default 60)")
    p.add_argument("--chute-close", action="append", default=[], metavar="ID@T", help="close a chute at T s")
    p.add_argument("--silence-robot", action="append", default=[], metavar="ID@T1-T2",
                   help="keep a robot's states off the bus from T1 to T2 s, it drives on (a Wi-Fi dropout)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--rule", "--assigner", dest="assigner", choices=("pileon", "greedy"), default="pileon",
                   help="operations rule: pileon (default) or greedy, the old baseline (docs/operations.md)")
    p.add_argument("--motion-model", choices=("grid", "rotation"), default="grid",
                   help="controller planning: grid (cells, default) or rotation (cells and headings, "
                   "turns planned; docs/planning.md)")
    p.add_argument("--inventory", default=None, metavar="FILE",
                   help="stock per pod and SKU, CSV or JSON (default: a seeded mixed stock)")
    p.add_argument(
        "--no-sorter", action="store_true", help="leave the layout's sorter out (orders end when picked)"
    )
    p.set_defaults(func=_sim)

    r = sub.add_parser("replay", help="replay a run from its trace")
    r.add_argument("run_dir", help="a folder written by bulletyard sim")
    r.add_argument("--gui", action="store_true", help="PyBullet window (needs a display)")
    r.add_argument("--speed", type=positive_number, default=10.0, help="sim seconds per wall second (GUI)")
    r.add_argument("--frames", default=None, type=output_folder_arg, metavar="DIR",
                   help="headless: write PNG frames here")
    r.add_argument("--every", type=seconds_option(0, above=True), default=5.0,
                   help="headless: seconds between frames")
    r.set_defaults(func=_replay)

    s = sub.add_parser("snapshot", help="render one moment of a run to a PNG")
    s.add_argument("run_dir", help="a folder written by bulletyard sim")
    s.add_argument("--at", type=seconds_option(0), default=0.0, help="simulated seconds since the start")
    s.add_argument("--out", default="frame.png", type=output_file_arg, help="PNG path (default frame.png)")
    s.add_argument("--size", default="960x600", help="WIDTHxHEIGHT in pixels")
    s.set_defaults(func=_snapshot)


def options_from_args(args: argparse.Namespace):
    """SimOptions from parsed arguments (also used by ``demo``)."""
    from bulletyard.inputs.sim_args import check_sim_args
    from bulletyard.runtime.sim_setup import SimOptions
    from sim.faults import fault_plan

    check_sim_args(args)
    return SimOptions(
        layout=args.layout,
        robots=args.robots,
        orders=args.orders,
        order_file=args.order_file,
        profile=args.profile,
        rate_per_h=args.rate,
        peak_factor=getattr(args, "peak_factor", None),
        peak_duration_s=getattr(args, "peak_duration", None),
        seed=args.seed,
        out=Path(args.out),
        until_s=args.until,
        trace_dt_s=args.trace_dt,
        faults=fault_plan(args.delays, args.kill_robot, args.drop_rate, args.chute_close,
                          getattr(args, "silence_robot", ())),
        broker_url=args.broker,
        real_time_factor=args.real_time_factor,
        gui=args.gui,
        follow=getattr(args, "follow", None),
        gui_speed=getattr(args, "gui_speed", 10.0),
        record=args.record,
        assigner=getattr(args, "assigner", "pileon"),
        motion_model=getattr(args, "motion_model", "grid"),
        inventory=getattr(args, "inventory", None),
        sorter=not getattr(args, "no_sorter", False),
        parcel_file=getattr(args, "parcel_file", None),
        chute_capacity=getattr(args, "chute_capacity", None),
    )


def run_sim(options, quiet: bool = False) -> int:
    """Run one simulation with a progress bar and print the KPI table; returns the exit code."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from bulletyard.runtime.sim_setup import Simulation

    try:
        sim = Simulation(options)
    except (ValueError, KeyError) as exc:
        raise UsageError(str(exc)) from None
    console = Console()
    with sim:
        if quiet:
            result = sim.run()
        else:
            total = float(options.until_s) if options.until_s else float(max(1, len(sim.orders)))
            with Progress(
                TextColumn("[bold]sim"),
                BarColumn(),
                TextColumn("{task.description}"),
                TimeRemainingColumn(),
                console=console,
                transient=True,
            ) as bar:
                task = bar.add_task("", total=total)

                def progress(t_s: float) -> None:
                    done = (
                        t_s if options.until_s else len(sim.kpi.cycle_times_s) + sum(sim.kpi.failed.values())
                    )
                    bar.update(
                        task, completed=done, description=f"t={t_s:,.0f} s  open={sim.kpi.open_orders}"
                    )

                result = sim.run(on_progress=progress)
    print_kpi_table(result.summary, console)
    console.print(f"run folder: {result.run_dir} (summary.json, kpi_series.json, trace.jsonl, report.html)")
    if result.exit_code:
        console.print("[red]collision detected: exit status 1[/red]")
    return result.exit_code


def _round(value: object) -> str:
    """A figure to one decimal (``None`` as is)."""
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def print_kpi_table(summary: dict, console) -> None:
    """The short KPI table printed at the end of a run."""
    from rich.table import Table

    if summary.get("sortation"):
        print_sortation_table(summary, console)
        if "throughput_bound_lines_per_hour" not in summary:
            return  # parcels are the run's orders
    table = Table(title="bulletyard run", show_header=True)
    table.add_column("KPI")
    table.add_column("value", justify="right")
    cycle = summary.get("order_cycle_time_s", {})
    rows = [
        ("orders completed / total", f"{summary['orders_completed']} / {summary['orders_total']}"),
        ("orders failed", str(summary["orders_failed"])),
        ("order lines per hour", str(summary["order_lines_per_hour"])),
        ("throughput bound (lines/h) / efficiency",
         f"{summary.get('throughput_bound_lines_per_hour')} / {summary.get('throughput_efficiency')}"),
        ("pile-on (lines per pod visit) / station util.",
         f"{summary.get('pile_on')} / {summary.get('station_utilisation')}"),
        ("cycle time p50 / p95 / max (s)", f"{cycle.get('p50')} / {cycle.get('p95')} / {cycle.get('max')}"),
        ("first order completed (s)", _round(summary["first_order_completed_s"])),
        ("robot utilisation", f"{summary['robot_utilisation']:.1%}"),
        ("travel per line (m)", str(summary["travel_per_line_m"])),
        (
            "collisions (trace) / contacts (PyBullet)",
            f"{summary['collisions']} / {summary['pybullet_contacts']}",
        ),
        ("min robot distance (m)", str(summary["min_robot_distance_m"])),
        *(
            [
                ("sorter items per hour", str(summary["sorter_items_per_hour"])),
                ("recirc. / reject rate", f"{summary['recirculation_rate']} / {summary['reject_rate']}"),
            ]
            if summary.get("sorter")
            else []
        ),
        ("deadlocks", str(summary["deadlocks"])),
        ("simulated / wall time (s)", f"{summary['sim_time_s']} / {summary['wall_time_s']}"),
        ("real-time factor", f"{summary['real_time_factor']} x"),
    ]
    for k, v in rows:
        table.add_row(k, v)
    console.print(table)


def print_sortation_table(summary: dict, console) -> None:
    """The KPI table of a robotic sortation run."""
    from rich.table import Table

    s = summary["sortation"]
    bound = s["bound_parcels_per_hour"]
    i2c, a2c = s["induct_to_chute_s"], s["arrival_to_chute_s"]
    table = Table(title="bulletyard robotic sortation run", show_header=True)
    table.add_column("KPI")
    table.add_column("value", justify="right")
    rows = [
        ("parcels sorted / arrived", f"{s['parcels_sorted']} / {s['parcels_arrived']}"),
        ("parcels failed / rerouted", f"{s['parcels_failed']} / {s['parcels_rerouted']}"),
        ("parcels per hour (per robot)", f"{s['parcels_per_hour']} ({s['parcels_per_robot_hour']})"),
        ("bound: inducts / fleet (parcels/h)", f"{bound['inducts']} / {bound['fleet']}"),
        ("efficiency vs bound", str(s["efficiency"])),
        ("induct utilisation", str(s["induct_utilisation"])),
        ("induct to chute p50 / p95 (s)", f"{i2c['p50']} / {i2c['p95']}"),
        ("arrival to chute p50 / p95 (s)", f"{a2c['p50']} / {a2c['p95']}"),
        ("bag swaps / chute violations", f"{s['chute_bag_swaps']} / {sum(s['chute_violations'].values())}"),
        ("robot utilisation", f"{summary['robot_utilisation']:.1%}"),
        ("collisions (trace) / contacts (PyBullet)",
         f"{summary['collisions']} / {summary['pybullet_contacts']}"),
        ("simulated / wall time (s)", f"{summary['sim_time_s']} / {summary['wall_time_s']}"),
        ("real-time factor", f"{summary['real_time_factor']} x"),
    ]
    for k, v in rows:
        table.add_row(k, v)
    console.print(table)


def _sim(args: argparse.Namespace) -> int:
    return run_sim(options_from_args(args), quiet=args.quiet)


def _layout_of(run_dir: Path):
    from warehouse_maps.catalog import load_layout

    summary = run_dir / "summary.json"
    if not summary.is_file():
        raise UsageError(f"{run_dir}: no summary.json (not a run folder written by bulletyard sim)")
    data = read_json_input(summary)
    layout = data.get("manifest", {}).get("layout") if isinstance(data, dict) else None
    if not isinstance(layout, str) or not layout:
        raise UsageError(f"{summary}: no manifest.layout (not a summary written by bulletyard sim)")
    return load_layout(layout)


def _replay(args: argparse.Namespace) -> int:
    from sim.replay import replay

    run_dir = Path(args.run_dir)
    return replay(
        run_dir,
        _layout_of(run_dir),
        gui=args.gui,
        speed=args.speed,
        frames_dir=Path(args.frames) if args.frames else None,
        every_s=args.every,
    )


def _snapshot(args: argparse.Namespace) -> int:
    from sim.replay import snapshot

    try:
        w, h = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        raise UsageError(f"--size {args.size!r}: expected WIDTHxHEIGHT, e.g. 960x600") from None
    if w < 1 or h < 1 or w * h > limit("pixels"):
        raise UsageError(f"--size {args.size}: needs 1 to {limit('pixels'):,} pixels "
                         f"(raise it with {env_name('pixels')})")
    run_dir = Path(args.run_dir)
    out = snapshot(run_dir, _layout_of(run_dir), args.at, Path(args.out), w, h)
    print(f"wrote {out}")
    return 0
