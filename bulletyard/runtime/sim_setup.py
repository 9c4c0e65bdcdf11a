"""Composition of one simulation: layout, world, bus, controller, vehicles, WMS feeder, observers.

This is composition-root code (it may import every package): it picks the adapters (in-process bus
or MQTT, stand-in vehicles), derives every random stream from the one root seed with
``numpy.random.SeedSequence(seed).spawn``, wires the participants into a :class:`sim.runner.SimRunner`
and, after the run, writes ``summary.json``, ``kpi_series.json``, ``trace.jsonl`` and ``report.html``
into the run folder.

Determinism: the seat order is fixed (feeder, controller, vehicles by serial, observer), the
in-process bus delivers in order, and every stream is seeded, so one seed gives one trace.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from bulletyard.runtime.collector import tuned_for_run
from bulletyard.runtime.sim_summary import run_summary
from bulletyard.runtime.site import has_sortation_area, is_robotic_site
from bulletyard.runtime.sortation_setup import RoboticSortationSite
from bus.clock import SIM_EPOCH, Instant, SimClock, seconds
from bus.inproc import InProcBroker
from controller.config import ControllerConfig
from controller.core import Controller
from controller.orders.inventory import Inventory
from controller.orders.stock import load_stock, mixed_stock
from robots.fleet import map_bounds_m
from sim.faults import DelayInjector, FaultPlan
from sim.kpi import KpiCollector
from sim.observer import KpiObserver
from sim.record import FrameRecorder
from sim.report import write_report
from sim.report_data import SERIES_FILE, kpi_series, run_data
from sim.runner import Pacer, Seat, SimRunner
from sim.safety import check_frames
from sim.scenario import (
    PEAK_FACTOR,
    OrderFeeder,
    ScheduledOrder,
    SurgeWatch,
    generate_orders,
    load_order_file,
)
from sim.scene import SceneMarks
from sim.silence import with_silences
from sim.station_conveyor import SortingLine
from sim.trace import TraceFrame, TraceWriter, read_trace
from sim.vehicles import SimRobot
from sim.wait_causes import WaitCauses
from sim.world import World
from warehouse_maps.catalog import load_layout
from warehouse_maps.layout import Cell, Layout, PlaceKind

ORDERS_PER_ROBOT_H = 12.0
STALL_S = 1800.0
CHUTE_SAMPLE_S = 10.0  # chute fill for the report: every chute, every 10 simulated seconds


@dataclass(frozen=True)
class SimOptions:
    """Everything ``bulletyard sim`` takes (see ``docs/simulation.md``)."""

    layout: str = "small-fc"
    robots: int = 10
    orders: int = 50
    order_file: str | None = None
    profile: str = "steady"
    rate_per_h: float | None = None
    peak_factor: float | None = None  # peak: times the base rate during the surge (default 10)
    peak_duration_s: float | None = None  # peak: surge length (default: the first tenth of the orders)
    seed: int = 1
    out: Path = Path("runs/latest")
    until_s: float | None = None
    max_sim_s: float = 24 * 3600.0
    trace_dt_s: float = 0.25
    faults: FaultPlan = field(default_factory=FaultPlan)
    broker_url: str | None = None
    real_time_factor: float = 1.0
    gui: bool = False
    follow: str | None = None  # with gui: robot id the camera follows at start
    gui_speed: float = 10.0  # with gui: times real time at start
    record: bool = False
    record_every_s: float = 2.0
    contacts: bool = True
    speed_mps: float = 1.0
    assigner: str = "pileon"  # operations rule: pileon or greedy (docs/operations.md)
    motion_model: str = "grid"  # controller planning: grid or rotation (docs/planning.md)
    inventory: str | None = None  # stock file (CSV or JSON); None: the seeded mixed stock
    sorter: bool = True  # run the layout's conveyor sorter when it has one (equipment.sorter)
    parcel_file: str | None = None  # robotic sortation: parcels from a file instead of the generator
    chute_capacity: int | None = None  # robotic sortation: parcels per chute bag (None: the default)
    sortation_settings: tuple[tuple[str, object], ...] = ()  # other robotic_sortation config fields


@dataclass
class SimResult:
    """What a run produced."""

    summary: dict[str, object]
    run_dir: Path
    exit_code: int


def robot_cells(layout: Layout, count: int) -> list[Cell]:
    """Start cells: parking first, then free floor that is no place at all (sorted, deterministic)."""
    cells = sorted(layout.cells_of(PlaceKind.PARKING))
    if len(cells) < count:
        taken = {p.cell for p in layout.places} | {p.fixture for p in layout.places if p.fixture}
        cells += [c for c in sorted(layout.grid.free_cells, key=lambda c: (c[1], c[0])) if c not in taken]
    if len(cells) < count:
        raise ValueError(f"layout {layout.name} has room for {len(cells)} robots, not {count}")
    return cells[:count]


def _with_destinations(orders: list[ScheduledOrder], destinations: list[str]) -> list[ScheduledOrder]:
    """Orders without a destination get one in turn (``D001``, ``D002``...; deterministic)."""
    return [replace(o, destination=destinations[k % len(destinations)]) if o.destination is None else o
            for k, o in enumerate(orders)]


class Simulation:
    """One configured run; :meth:`run` executes it and writes the run folder."""

    def __init__(self, options: SimOptions) -> None:
        self.options = options
        self.layout = load_layout(options.layout)
        self.run_dir = Path(options.out)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        ss = np.random.SeedSequence(options.seed)
        ctl_seq, order_seq, fault_seq, bus_seq, sorter_seq, stock_seq = ss.spawn(6)
        self.clock = SimClock(SIM_EPOCH)
        self.start = self.clock.now()
        robotic = is_robotic_site(self.layout)  # parcels only; a mixed site sorts its picked orders
        area = has_sortation_area(self.layout)
        self.orders = [] if robotic else self._orders(np.random.default_rng(order_seq))
        self.kpi = KpiCollector(
            bin_s=60.0,
            cell_size_m=self.layout.cell_size_m,
            grid_shape=(self.layout.grid.height, self.layout.grid.width),
            station_cells=frozenset(self.layout.cells_of(PlaceKind.PICK_STATION)),
        )
        sorter_equipment = (self.layout.equipment or {}).get("sorter") if options.sorter else None
        self.config = ControllerConfig(
            assignment={"solver": options.assigner}, sortation={"enabled": bool(sorter_equipment)},
            execution={"motion_model": options.motion_model},
            robotic_sortation={"enabled": area, **dict(options.sortation_settings), **(
                {"chute_capacity": options.chute_capacity} if options.chute_capacity else {})},
        )
        self.parcel_site = RoboticSortationSite(
            self.layout, self.config.robotic_sortation, self.config.site, self.start, self.kpi, robotic
        ) if area else None
        self.site = self.config.site
        self.world = World(self.layout, gui=options.gui)
        self.vehicles: list[SimRobot] = []
        bounds = map_bounds_m(self.layout)  # an order node off the map is refused (noRouteError)
        for k, cell in enumerate(robot_cells(self.layout, options.robots)):
            x, y = self.layout.cell_centre_m(cell)
            self.vehicles.append(
                SimRobot(f"agv-{k + 1:04d}", self.world, x, y, start=self.start, map_id=self.layout.name,
                         bounds_m=bounds)
            )
        self.controller = Controller(
            self.config, self.layout, np.random.default_rng(ctl_seq), inventory=self._stock(stock_seq)
        )
        self.kpi.wait_probe = WaitCauses(self.controller.executor, self.config.execution.step_s)
        self.sorting: SortingLine | None = None
        if sorter_equipment:
            self.orders = _with_destinations(self.orders, self.controller.sortation.groups)
            self.sorting = SortingLine(
                self.config.site, sorter_equipment, np.random.default_rng(sorter_seq), self.start
            )
        if self.parcel_site is not None and not robotic:  # a mixed site: orders end in a chute
            self.orders = _with_destinations(self.orders, self.parcel_site.destinations)
        if self.parcel_site is not None and robotic:
            self.orders = self.parcel_site.parcels(options, order_seq)  # type: ignore[assignment]
            self.feeder = self.parcel_site.feeder(self.orders)  # type: ignore[assignment, arg-type]
            self.observer = self.parcel_site.observer  # type: ignore[assignment]
        else:
            self.feeder = OrderFeeder(self.orders, self.site, self.start, self.kpi)
            robotic_sorter = None if self.parcel_site is None else self.parcel_site.config.sorter_id
            self.observer = KpiObserver(self.kpi, self.site, self.start, robotic_sorter=robotic_sorter)
        self.broker = None
        if options.broker_url is None:
            self.broker = InProcBroker(
                np.random.default_rng(bus_seq), options.faults.bus_rules(), start=self.start
            )
            make = self.broker.client
        else:
            make = self._mqtt_factory(options.broker_url)
        seats = [
            Seat("wms", self.feeder, make("wms")),
            Seat(
                "controller",
                self.controller,
                make("controller"),
                self.controller.subscriptions(),
            ),
        ]
        agents = with_silences(self.vehicles, options.faults.silences, self.start)  # --silence-robot
        seats += [Seat(v.serial, a, make(v.serial), v.subscriptions()) for v, a in zip(self.vehicles, agents)]
        if self.sorting is not None:
            seats.append(Seat("sorter", self.sorting, make("sorter"), self.sorting.subscriptions()))
        if self.parcel_site is not None:
            bank = self.parcel_site.chutes
            seats.append(Seat("chutes", bank, make("chutes"), bank.subscriptions()))
            if not robotic:
                parcels = self.parcel_site.observer
                seats.append(Seat("parcels", parcels, make("parcels"), parcels.subscriptions()))
        seats.append(Seat("observer", self.observer, make("observer"), self.observer.subscriptions()))
        self.trace = TraceWriter(self.run_dir / "trace.jsonl")
        self.recorder = (
            FrameRecorder(self.world, self.run_dir, options.record_every_s) if options.record else None
        )
        self.marks = SceneMarks(self.world) if options.gui or options.record else None
        self.gui = None
        if options.gui:
            from sim.gui import GuiController

            self.gui = GuiController(self.world, self.vehicles, self.kpi, self.marks,
                                     follow=options.follow, speed=options.gui_speed)
        pacer = Pacer(options.real_time_factor) if options.broker_url else None
        self.runner = SimRunner(
            clock=self.clock,
            seats=seats,
            robots=self.vehicles,
            broker=self.broker,
            trace_dt_s=options.trace_dt_s,
            observers=[self.kpi],
            frame_hooks=[self._on_frame],
            pacer=pacer,
        )
        self._schedule_faults(np.random.default_rng(fault_seq))
        self.surge = None if options.profile != "peak" or options.order_file else SurgeWatch(
            self.orders, options.peak_factor or PEAK_FACTOR, options.peak_duration_s)
        if self.surge is not None:
            self.runner.schedule(Instant(self.start + seconds(self.surge.end_s)), "surge end",
                                 lambda now: self.surge.note(self.kpi.open_orders))
        self._last_progress = (0, 0.0)
        self._next_chute_sample_s = 0.0

    # -- set-up helpers ---------------------------------------------------------------------------

    def _orders(self, rng: np.random.Generator) -> list[ScheduledOrder]:
        o = self.options
        if o.order_file:
            return load_order_file(o.order_file)
        rate = o.rate_per_h or ORDERS_PER_ROBOT_H * max(1, o.robots)
        return generate_orders(
            self.layout, o.orders, rng, profile=o.profile, rate_per_h=rate,  # type: ignore[arg-type]
            peak_factor=o.peak_factor or PEAK_FACTOR, peak_duration_s=o.peak_duration_s,
        )

    def _stock(self, seq: np.random.SeedSequence) -> Inventory:
        if self.options.inventory:
            return load_stock(self.options.inventory, self.layout)
        return mixed_stock(self.layout, np.random.default_rng(seq))

    def _mqtt_factory(self, url: str) -> Callable[[str], object]:
        from bus.mqtt import MqttTransport

        tag = hashlib.sha256(f"{url}{self.options.seed}{time.time_ns()}".encode()).hexdigest()[:6]
        return lambda name: MqttTransport(url, f"sim-{tag}-{name}")

    def _schedule_faults(self, rng: np.random.Generator) -> None:
        plan = self.options.faults
        by_id = {v.serial: v for v in self.vehicles}
        for kill in plan.kills:
            if kill.target not in by_id:
                raise ValueError(
                    f"--kill-robot {kill.target}: no such robot (agv-0001..agv-{len(by_id):04d})"
                )
            self.runner.schedule(
                Instant(self.start + seconds(kill.t_s)),
                f"kill {kill.target}",
                lambda now, rid=kill.target: self._kill(rid),
            )
        if self.parcel_site is not None:
            for close in plan.chute_closes:
                bank = self.parcel_site.chutes
                if close.target not in bank.bags:
                    raise ValueError(f"--chute-close {close.target}: no such chute ({min(bank.bags)}..)")
                self.runner.schedule(Instant(self.start + seconds(close.t_s)), f"close {close.target}",
                                     lambda now, cid=close.target, b=bank: b.close_chute(now, cid))
        elif plan.chute_closes and self.sorting is None:
            raise ValueError(f"--chute-close: layout {self.layout.name} has no sorter (equipment.sorter)")
        for close in plan.chute_closes if self.parcel_site is None else ():
            assert self.sorting is not None
            if close.target not in self.sorting.agent.model.chutes:
                count = self.sorting.config.chutes.count
                raise ValueError(f"--chute-close {close.target}: no such chute (c001..c{count:03d})")
            self.runner.schedule(
                Instant(self.start + seconds(close.t_s)),
                f"close {close.target}",
                lambda now, cid=close.target, line=self.sorting: line.close_chute(now, cid),
            )
        if plan.delays is not None:
            self.delays = DelayInjector(
                plan.delays, sorted(by_id), rng, lambda rid, now, span: by_id[rid].hold(now, span)
            )
            self._schedule_delay_draw(self.start)

    def _schedule_delay_draw(self, at: Instant) -> None:
        def draw(now: Instant) -> None:
            self.delays.draw(now)
            self._schedule_delay_draw(Instant(now + seconds(1.0)))

        self.runner.schedule(at, "delays", draw)

    def _kill(self, robot_id: str) -> None:
        vehicle = next(v for v in self.vehicles if v.serial == robot_id)
        vehicle.kill()
        if getattr(self, "delays", None) is not None:
            self.delays.remove(robot_id)
        self.runner.deactivate(robot_id, clean=False)

    # -- per frame --------------------------------------------------------------------------------

    def _on_frame(self, frame: TraceFrame) -> None:
        self.trace.write(frame)
        for rid, (x, y, th) in frame.robots.items():
            self.world.set_pose(rid, x, y, th)
        if self.options.contacts:
            self.kpi.contacts(self.world.robot_contacts())
        if self.sorting is not None and frame.t_s >= self._next_chute_sample_s:  # every chute, every 10 s
            for chute_id, fill in self.sorting.fill_levels(None):
                self.kpi.chute_sample(chute_id, frame.t_s, fill)
            self._next_chute_sample_s = frame.t_s + CHUTE_SAMPLE_S
        if self.marks is not None:
            self.marks.note(frame)
            draw_gui = self.gui is not None and self.gui.due()
            if draw_gui or (self.recorder is not None and self.recorder.due(frame.t_s)):
                self._draw(frame, draw_gui)
        if self.recorder is not None:
            self.recorder.maybe_capture(frame.t_s)
        if self.gui is not None:
            self.gui.pace(frame)

    def _draw(self, frame: TraceFrame, gui: bool) -> None:
        """Robot colours, scene marks (and the GUI's overlay) for a picture, in one batch."""
        assert self.marks is not None
        paths = {v.serial: v.path_ahead() for v in self.vehicles}
        chutes = self.sorting.fill_levels(None) if self.sorting is not None else []
        with self.world.batch():
            for rid, state in frame.state.items():
                self.world.set_state(rid, state)
            self.marks.draw(frame, paths, set(frame.pods), dict(chutes))
            if gui and self.gui is not None:
                self.gui.show(frame, paths)

    def done(self) -> bool:
        """Every order published and resolved, or nothing has progressed for too long."""
        if not self.feeder.exhausted:
            return False
        if self.kpi.open_orders == 0:
            return True
        now_s = (self.clock.now() - self.start) / 1e9
        resolved = len(self.kpi.cycle_times_s) + sum(self.kpi.failed.values())
        if resolved != self._last_progress[0]:
            self._last_progress = (resolved, now_s)
        return now_s - self._last_progress[1] > STALL_S or now_s >= self.options.max_sim_s

    # -- run --------------------------------------------------------------------------------------

    def run(self, on_progress: Callable[[float], None] | None = None) -> SimResult:
        """Run to the end and write the run folder."""
        o = self.options
        wall0 = time.perf_counter()
        self.runner.connect_all()
        until = None if o.until_s is None else Instant(self.start + seconds(o.until_s))
        with tuned_for_run():
            stats = self.runner.run(until=until, done=self.done, on_progress=on_progress)
        wall_s = time.perf_counter() - wall0
        self.trace.close()
        for order_id in sorted(self.kpi.arrivals) if o.until_s is None else ():
            self.kpi.order_failed(order_id, stats.sim_time_s, "not completed: the run stalled")
        safety = check_frames(read_trace(self.trace.path), self.world.footprint_radius_m)
        summary = run_summary(self, stats.sim_time_s, wall_s, safety, stats.messages, stats.frames)
        (self.run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        series = kpi_series(self.kpi, self.layout, stats.sim_time_s)
        (self.run_dir / SERIES_FILE).write_text(json.dumps(series) + "\n", encoding="utf-8")
        write_report(self.run_dir / "report.html", run_data(self.run_dir.name, summary, series))
        bad = safety.collision_count > 0 or self.kpi.pybullet_contacts > 0
        return SimResult(summary, self.run_dir, 1 if bad else 0)

    def __enter__(self) -> Simulation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release PyBullet and transports (also on leaving a ``with`` block)."""
        self.trace.close()
        self.world.close()
        if self.options.broker_url:
            for seat in self.runner.seats:
                if seat.active:
                    seat.transport.close(clean=True)
