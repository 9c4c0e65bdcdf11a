"""A discrete-event travel simulation of goods-to-person picking, for comparing assigners.

Robots take distance-table travel times at ``speed_cells_per_s`` (1 cell/s by default), a station
works one pod at a time for ``exchange_s`` plus ``pick_s_per_line`` per line, and pods queue at
busy stations. There is **no collision or congestion model**: robots never wait for each other on
the floor, so absolute throughputs are optimistic for every assigner alike. Orders come from the
seeded order stream, go through the real :class:`OrderBook`, :class:`TaskBuilder` and the assigner
under test; every ``plan_period_s`` the idle robots and open trips are (re)planned.
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from bus.clock import SIM_EPOCH, Instant, seconds, to_seconds
from controller.assignment.api import Assigner, RobotView, StationView
from controller.assignment.travel import TravelTimes
from controller.orders.book import OrderBook
from controller.orders.inventory import Inventory
from controller.orders.model import Order
from controller.tasks.builder import TaskBuilder
from controller.tasks.trips import TripState
from warehouse_maps.grid import Cell
from warehouse_maps.layout import Layout, PlaceKind


@dataclass(frozen=True, slots=True)
class SimConfig:
    """Timing of the simulated operation (seconds)."""

    horizon_s: float = 3600.0
    plan_period_s: float = 5.0
    speed_cells_per_s: float = 1.0
    exchange_s: float = 4.0
    pick_s_per_line: float = 6.0
    failures: tuple[tuple[str, float], ...] = ()  # (robot id, seconds): the robot breaks down


@dataclass
class SimResult:
    """What one run measured."""

    assigner: str
    robots: int
    lines_picked: int = 0
    orders_picked: int = 0
    orders_submitted: int = 0
    refused: int = 0
    trips_done: int = 0
    travel_cells: int = 0
    cycles: int = 0
    plan_wall_s: list[float] = field(default_factory=list)
    station_busy_s: dict[str, float] = field(default_factory=dict)
    assignments: list[tuple[float, str, str, str]] = field(default_factory=list)
    failed_trips_returned: int = 0
    duplicate_picks: int = 0
    units_picked: int = 0

    def lines_per_h(self, horizon_s: float) -> float:
        """Completed (picked) order lines per simulated hour."""
        return self.lines_picked * 3600.0 / horizon_s

    def station_utilisation(self, horizon_s: float, n_stations: int) -> float:
        """Share of station time spent exchanging pods and picking (started services)."""
        return sum(self.station_busy_s.values()) / (horizon_s * max(n_stations, 1))

    def travel_per_line(self) -> float:
        """Robot travel in cells per picked line."""
        return self.travel_cells / max(self.lines_picked, 1)


def simulate(layout: Layout, inventory: Inventory, orders: list[Order], assigner: Assigner,
             n_robots: int, dist: TravelTimes, cfg: SimConfig = SimConfig(),
             on_return: Callable[[str, Cell, set[Cell]], Cell] | None = None) -> SimResult:
    """Run one simulation; ``inventory`` is consumed (pass a fresh one per run).

    ``on_return(pod_id, home, occupied_cells)`` may choose where a pod goes back to (slotting, e.g.
    :meth:`SlottingPlan.return_cell`); default: its home. A pod that moves gets a new home.
    """
    start = SIM_EPOCH
    book = OrderBook(inventory)
    builder = TaskBuilder(layout)
    stations = {p.id: p.cell for p in layout.of_kind(PlaceKind.PICK_STATION)}
    station_free = {sid: start for sid in stations}
    parking = layout.cells_of(PlaceKind.PARKING) or layout.grid.free_cells
    robot_cell = {f"agv-{i + 1:04d}": parking[i % len(parking)] for i in range(n_robots)}
    robot_trip: dict[str, str | None] = {rid: None for rid in robot_cell}
    pods_out: set[str] = set()  # pods on robots: their storage cell is free meanwhile
    claimed: set[Cell] = set()  # cells that pods on their way back will take
    res = SimResult(getattr(assigner, "name", type(assigner).__name__), n_robots)
    events: list[tuple[int, int, str, tuple]] = []
    seq = 0

    def push(at: int, kind: str, data: tuple) -> None:
        nonlocal seq
        heapq.heappush(events, (at, seq, kind, data))
        seq += 1

    queue: dict[str, deque[tuple]] = {sid: deque() for sid in stations}
    working = {sid: False for sid in stations}

    def start_service(now: Instant, sid: str) -> None:
        """The station takes the first pod in its queue (first come, first served by arrival)."""
        job = queue[sid].popleft()
        working[sid] = True
        in_service.add(job[0])
        busy = min(int(job[3]), int(end - now))  # count only service inside the horizon
        res.station_busy_s[sid] = res.station_busy_s.get(sid, 0.0) + to_seconds(busy)
        push(Instant(now + job[3]), "served", job)

    in_service: set[str] = set()  # robots whose pod is being picked
    failed: set[str] = set()
    cancelled: set[tuple[str, str]] = set()  # (robot, trip) journeys ended by a failure
    picked_parts: set[tuple[str, int, str | None]] = set()
    end = start + seconds(cfg.horizon_s)
    for rid, at_s in cfg.failures:
        push(Instant(start + seconds(at_s)), "fail", (rid,))
    for order in orders:
        if order.created is not None and order.created < end:
            push(order.created, "order", (order,))
    t = start
    while t < end:
        push(t, "plan", ())
        t = Instant(t + seconds(cfg.plan_period_s))
    speed = cfg.speed_cells_per_s

    while events:
        now, _, kind, data = heapq.heappop(events)
        if now >= end:
            break
        now = Instant(now)
        if kind == "order":
            res.orders_submitted += 1
            if not book.submit(data[0], now):
                res.refused += 1
        elif kind == "plan":
            idle = [RobotView(r, robot_cell[r]) for r in sorted(robot_cell)
                    if robot_trip[r] is None and r not in failed]
            if not idle:
                continue
            trips = builder.build(now, book, inventory, layout)
            if not trips:
                continue
            views = [StationView(s, c, station_free[s]) for s, c in stations.items()]
            t0 = time.perf_counter()
            plan = assigner.assign(now, idle, trips, dist, views)
            res.plan_wall_s.append(time.perf_counter() - t0)
            res.cycles += 1
            for a in plan:
                if a.trip_id is None:
                    continue
                trip = builder.dispatch(a.trip_id, a.robot_id, a.station_id, now, book)
                robot_trip[a.robot_id] = trip.id
                if trip.pod_id is not None:
                    pods_out.add(trip.pod_id)
                res.assignments.append((to_seconds(now - start), a.robot_id, trip.id, a.station_id))
                leg1 = dist.cells(robot_cell[a.robot_id], trip.pod_home)
                leg2 = dist.cells(trip.pod_home, stations[a.station_id])
                res.travel_cells += leg1 + leg2
                arrive = Instant(now + seconds((leg1 + leg2) / speed))
                service = seconds(cfg.exchange_s + cfg.pick_s_per_line * trip.n_lines)
                # the planner's view of the station: busy until this pod will be done
                station_free[a.station_id] = Instant(max(arrive, station_free[a.station_id]) + service)
                push(arrive, "arrive", (a.robot_id, trip.id, a.station_id, service))
        elif kind == "fail":
            rid = data[0]
            trip_id = robot_trip.get(rid)
            failed.add(rid)
            if trip_id is None or rid in in_service or builder.trip(trip_id).state is not TripState.ASSIGNED:
                continue  # idle, or its pod is being picked / going home: it drops out afterwards
            # on its way to the pod or the station, or queueing: the trip goes back to the pool
            # (the pod is taken back to its cell by hand; the next robot fetches it from there)
            pod_id = builder.trip(trip_id).pod_id
            res.failed_trips_returned += len(builder.robot_failed(rid, now))
            pods_out.discard(pod_id)
            cancelled.add((rid, trip_id))
            for sid in stations:
                queue[sid] = deque(job for job in queue[sid] if job[0] != rid)
            robot_trip[rid] = None
        elif kind == "arrive" and (data[0], data[1]) in cancelled:
            continue
        elif kind == "arrive":
            sid = data[2]
            queue[sid].append(data)
            if not working[sid]:
                start_service(now, sid)
        elif kind == "served":
            rid, trip_id, sid, _ = data
            working[sid] = False
            if queue[sid]:
                start_service(now, sid)
            push(now, "picked", (rid, trip_id, sid))
        elif kind == "picked":
            rid, trip_id, sid = data
            trip = builder.trip(trip_id)
            in_service.discard(rid)
            for ln in trip.lines:
                key = (ln.order_id, ln.line_index, trip.pod_id)
                res.duplicate_picks += key in picked_parts
                picked_parts.add(key)
                res.units_picked += ln.quantity
            res.orders_picked += len(builder.picked(trip_id, now, book, inventory))
            res.lines_picked += trip.n_lines
            home = trip.return_cell or trip.pod_home
            if on_return is not None and trip.pod_id is not None:
                occupied = {p.home for p in inventory.pods if p.id not in pods_out} | claimed
                home = on_return(trip.pod_id, home, occupied)
                claimed.add(home)
            leg3 = dist.cells(stations[sid], home)
            res.travel_cells += leg3
            push(Instant(now + seconds(leg3 / speed)), "returned", (rid, trip_id, home))
        elif kind == "returned":
            rid, trip_id, home = data
            pod_id = builder.trip(trip_id).pod_id
            builder.returned(trip_id, now)
            pods_out.discard(pod_id)
            claimed.discard(home)
            if pod_id is not None and inventory.pod(pod_id).home != home:
                inventory.move_pod(pod_id, home)
                builder.set_home(pod_id, home)
            res.trips_done += 1
            robot_trip[rid] = None
            robot_cell[rid] = home
    return res


def fresh_inventory(layout: Layout, n_skus: int, seed: int) -> Inventory:
    """The bench's seeded inventory (the same for every assigner)."""
    return Inventory.generate(layout.cells_of(PlaceKind.STORAGE), n_skus, np.random.default_rng(seed),
                              units_per_slot=1000)
