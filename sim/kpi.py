"""KPIs of a run, collected as it goes with bounded memory, and written as ``summary.json``.

The runner feeds the collector what it observes on the bus and in the world (order arrivals and
status, robot states and poses at trace ticks, sorter counters); the collector keeps only running
sums, time bins and one float per finished order, so a ten-hour run at 500 robots does not grow
beyond a few megabytes. Times are seconds since the start of the run.

Definitions (also in docs/simulation.md):
- robot utilisation: share of robot-time in any state but ``idle``, ``charging`` and ``offline``;
- travel per line: metres driven by all robots / order lines completed;
- deadlock: a robot with work that has not moved for ``deadlock_after_s`` (one per episode);
- order cycle time: completion minus arrival on the WMS topic;
- station visit: a robot busy (running an action) on a pick station's cell, one per episode;
  station utilisation: share of station-time with a robot busy on it (from the trace alone).
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from controller.stats import percentile
from sim.trace import Pose, TraceFrame

IDLE_STATES = frozenset({"idle", "charging", "offline"})
WORKING_STILL_STATES = frozenset({"waiting", "driving"})

BUSY_KINDS = ("moving", "turning", "waiting", "action")


class WaitProbe(Protocol):
    """Splits waiting robot-time by cause (``sim/wait_causes.py``: from the controller's graph)."""

    causes: tuple[str, ...]  # every cause split() may name, in report order

    def split(self, t_s: float, kinds: Mapping[str, str], waiting: Mapping[str, float],
              idle: Mapping[str, float]) -> tuple[Counter[str], Counter[str]]:
        """Seconds per cause over the interval ending at ``t_s``: of the ``waiting`` robots, and of
        the ``idle`` ones the controller has work for (both: robot -> seconds); ``kinds``: every
        robot's busy kind (or ``idle``)."""
        ...

    def has_work(self, robot: str) -> bool:
        """The controller has a trip for ``robot`` (so an idle-looking robot is not idle)."""
        ...


def _busy_kind(state: str, moved_m: float, before: Pose | None, after: Pose) -> str:
    """What a busy robot did over one trace interval, from its state at the interval's end.

    ``driving`` splits by what the body did: turning in place (heading changed, position not) or
    moving; ``waiting`` is standing with nodes ahead that are not released yet, i.e. waiting on
    the controller's execution graph (another robot first, or the next window); ``busy`` is an
    action running (pick, drop, station time).
    """
    if state == "driving":
        turned = before is not None and abs(after[2] - before[2]) > 1e-6
        return "turning" if turned and moved_m < 1e-3 else "moving"
    if state == "waiting":
        return "waiting"
    return "action"


@dataclass(slots=True)
class _RobotTrack:
    last_pose: Pose | None = None
    last_t_s: float = 0.0
    still_since_s: float | None = None
    in_deadlock: bool = False
    at_station: bool = False
    busy_s: float = 0.0
    seen_s: float = 0.0
    travel_m: float = 0.0


@dataclass(slots=True)
class KpiCollector:
    """Running KPIs of one simulation.

    Args:
        bin_s: width of the time bins for throughput plots.
        cell_size_m: for the congestion heat map.
        grid_shape: (height, width) of the layout grid.
        deadlock_after_s: a working robot stuck this long counts as one deadlock.
    """

    bin_s: float = 60.0
    cell_size_m: float = 1.0
    grid_shape: tuple[int, int] = (1, 1)
    deadlock_after_s: float = 120.0
    arrivals: dict[str, tuple[float, int]] = field(default_factory=dict)
    cycle_times_s: array = field(default_factory=lambda: array("d"))
    completed_lines: int = 0
    failed: Counter = field(default_factory=Counter)
    first_completion_s: float | None = None
    arrivals_per_bin: Counter = field(default_factory=Counter)
    lines_per_bin: Counter = field(default_factory=Counter)
    robots: dict[str, _RobotTrack] = field(default_factory=dict)
    deadlocks: int = 0
    congestion: np.ndarray | None = None
    sorter: Counter = field(default_factory=Counter)
    chute_fill: dict[str, array] = field(default_factory=dict)  # per chute: t_s, fill, t_s, fill, ...
    pybullet_contacts: int = 0
    pybullet_contact_pairs: set = field(default_factory=set)
    orders_total: int = 0
    station_cells: frozenset = frozenset()  # (x, y) cells of the pick stations
    station_busy_s: float = 0.0
    station_visits: int = 0
    busy_by_kind: Counter = field(default_factory=Counter)  # robot-seconds: moving, turning, waiting, action
    station_busy_by_cell: Counter = field(default_factory=Counter)  # (x, y) -> seconds busy
    state_s_per_bin: dict[int, Counter] = field(default_factory=dict)  # bin -> state -> robot-seconds
    last_frame_t_s: float = 0.0
    wait_probe: WaitProbe | None = None  # set: summary.json gets waiting_by_cause
    waiting_by_cause: Counter = field(default_factory=Counter)  # robot-seconds per cause
    idle_work_by_cause: Counter = field(default_factory=Counter)  # idle-looking with a trip: robot-s

    # -- orders ---------------------------------------------------------------------------------

    def order_arrived(self, order_id: str, t_s: float, lines: int) -> None:
        """An order entered the system (published on the WMS topic)."""
        if order_id in self.arrivals:
            return
        self.orders_total += 1
        self.arrivals[order_id] = (t_s, lines)
        self.arrivals_per_bin[int(t_s // self.bin_s)] += lines

    def order_completed(self, order_id: str, t_s: float) -> None:
        """The controller reported the order complete (counted once)."""
        arrival = self.arrivals.pop(order_id, None)
        if arrival is None:
            return
        self.cycle_times_s.append(t_s - arrival[0])
        self.completed_lines += arrival[1]
        self.lines_per_bin[int(t_s // self.bin_s)] += arrival[1]
        if self.first_completion_s is None:
            self.first_completion_s = t_s

    def order_failed(self, order_id: str, t_s: float, reason: str) -> None:
        """The controller gave up on (or refused) the order with a reason."""
        if self.arrivals.pop(order_id, None) is not None:
            self.failed[reason or "unspecified"] += 1

    @property
    def open_orders(self) -> int:
        """Orders neither complete nor failed."""
        return len(self.arrivals)

    # -- robots -----------------------------------------------------------------------------------

    def observe(self, frame: TraceFrame) -> None:
        """Account one trace frame: travel, busy time, congestion, stuck robots."""
        if self.congestion is None:
            self.congestion = np.zeros(self.grid_shape, dtype=np.float64)
        self.last_frame_t_s = max(self.last_frame_t_s, frame.t_s)
        kinds: dict[str, str] = {}
        waiting: dict[str, float] = {}
        idle: dict[str, float] = {}
        for rid, pose in frame.robots.items():
            track = self.robots.get(rid)
            if track is None:
                track = self.robots[rid] = _RobotTrack(last_t_s=frame.t_s)
            state = frame.state.get(rid, "idle")
            dt = frame.t_s - track.last_t_s
            moved = 0.0
            if track.last_pose is not None:
                moved = math.hypot(pose[0] - track.last_pose[0], pose[1] - track.last_pose[1])
                track.travel_m += moved
            track.seen_s += dt
            if dt > 0:
                states = self.state_s_per_bin.get(b := int(track.last_t_s // self.bin_s))
                if states is None:
                    states = self.state_s_per_bin[b] = Counter()
                states[state] += dt
            kind = "idle"
            if state not in IDLE_STATES:
                track.busy_s += dt
                kind = _busy_kind(state, moved, track.last_pose, pose)
                self.busy_by_kind[kind] += dt
                if kind == "waiting" and dt > 0:
                    waiting[rid] = dt
            elif state == "idle" and dt > 0:
                idle[rid] = dt
            kinds[rid] = kind
            cell = (int(pose[0] // self.cell_size_m), int(-pose[1] // self.cell_size_m))
            working_at_station = state == "busy" and cell in self.station_cells
            if working_at_station:
                self.station_busy_s += dt
                self.station_busy_by_cell[cell] += dt
                if not track.at_station:
                    self.station_visits += 1
            track.at_station = working_at_station
            still = moved < 1e-3
            if still and state in WORKING_STILL_STATES:
                cx, cy = int(pose[0] // self.cell_size_m), int(-pose[1] // self.cell_size_m)
                if 0 <= cy < self.grid_shape[0] and 0 <= cx < self.grid_shape[1]:
                    self.congestion[cy, cx] += dt
            # a stall can look idle: a vehicle at the end of its released nodes reports idle while
            # the controller still holds a trip for it, so that counts towards a deadlock too
            stalled = still and (state in WORKING_STILL_STATES or (
                state == "idle" and self.wait_probe is not None and self.wait_probe.has_work(rid)))
            if stalled:
                if track.still_since_s is None:
                    track.still_since_s = frame.t_s
                elif not track.in_deadlock and frame.t_s - track.still_since_s >= self.deadlock_after_s:
                    track.in_deadlock = True
                    self.deadlocks += 1
            else:
                track.still_since_s = None
                track.in_deadlock = False
            track.last_pose = pose
            track.last_t_s = frame.t_s
        if self.wait_probe is not None:
            held, idle_work = self.wait_probe.split(frame.t_s, kinds, waiting, idle)
            self.waiting_by_cause.update(held)
            self.idle_work_by_cause.update(idle_work)

    def contacts(self, pairs: list[tuple[str, str]]) -> None:
        """PyBullet contact pairs at one trace tick (new pairs count once per episode)."""
        now = set(pairs)
        self.pybullet_contacts += len(now - self.pybullet_contact_pairs)
        self.pybullet_contact_pairs = now

    # -- sorter -----------------------------------------------------------------------------------

    def sorter_event(self, kind: str, count: int = 1) -> None:
        """Count a sorter outcome: ``inducted``, ``sorted``, ``recirculated``, ``rejected``, ``lost``."""
        self.sorter[kind] += count

    def chute_sample(self, chute_id: str, t_s: float, fill: float) -> None:
        """Fill level (0..1) of one chute at a time, kept for the report (one sample per bin, as
        two floats: 16 bytes per chute and bin, about 1 MB for 200 chutes over ten hours)."""
        samples = self.chute_fill.get(chute_id)
        if samples is None:
            samples = self.chute_fill[chute_id] = array("d")
        if samples and int(samples[-2] // self.bin_s) == int(t_s // self.bin_s):
            samples[-2], samples[-1] = t_s, fill
        else:
            samples.extend((t_s, fill))

    def chute_series(self, chute_id: str) -> list[tuple[float, float]]:
        """The fill samples of one chute as ``(t_s, fill)`` pairs (empty for an unknown chute)."""
        samples = self.chute_fill.get(chute_id, array("d"))
        return list(zip(samples[0::2], samples[1::2], strict=True))

    # -- summary ----------------------------------------------------------------------------------

    def summary(self, *, sim_time_s: float, wall_time_s: float) -> dict[str, object]:
        """The KPI part of ``summary.json``."""
        cycles = np.frombuffer(self.cycle_times_s, dtype=np.float64) if len(self.cycle_times_s) else None
        hours = sim_time_s / 3600.0 if sim_time_s > 0 else math.nan
        seen = sum(t.seen_s for t in self.robots.values())
        travel = sum(t.travel_m for t in self.robots.values())
        inducted = self.sorter.get("inducted", 0)

        def pct(q: float) -> float | None:
            return None if cycles is None else round(percentile(cycles.tolist(), q), 3)

        return {
            "orders_total": self.orders_total,
            "orders_completed": len(self.cycle_times_s),
            "orders_failed": sum(self.failed.values()),
            "orders_failed_by_reason": dict(sorted(self.failed.items())),
            "orders_open": self.open_orders,
            "order_lines_completed": self.completed_lines,
            "order_lines_per_hour": round(self.completed_lines / hours, 2) if hours == hours else None,
            "order_cycle_time_s": {
                "p50": pct(50),
                "p95": pct(95),
                "max": None if cycles is None else round(float(cycles.max()), 3),
            },
            "first_order_completed_s": self.first_completion_s,
            "robot_utilisation": round(sum(t.busy_s for t in self.robots.values()) / seen, 4)
            if seen
            else 0.0,
            "travel_m": round(travel, 2),
            "travel_per_line_m": round(travel / self.completed_lines, 3) if self.completed_lines else None,
            "sorter_items_per_hour": round(self.sorter.get("sorted", 0) / hours, 2)
            if hours == hours
            else None,
            "recirculation_rate": round(self.sorter.get("recirculated", 0) / inducted, 4)
            if inducted
            else None,
            "reject_rate": round(self.sorter.get("rejected", 0) / inducted, 4) if inducted else None,
            "sorter_counts": dict(sorted(self.sorter.items())),
            "deadlocks": self.deadlocks,
            "station_visits_seen": self.station_visits,
            "station_utilisation": round(self.station_busy_s / (len(self.station_cells) * sim_time_s), 4)
            if self.station_cells and sim_time_s > 0
            else None,
            "pybullet_contacts": self.pybullet_contacts,
            "busy_time_share": self.busy_shares(),
            **(self.standing_with_work() if self.wait_probe is not None else {}),
        }

    def busy_shares(self) -> dict[str, float]:
        """Share of busy robot-time (see :func:`_busy_kind`) per kind, and the busy robot-seconds."""
        busy = sum(self.busy_by_kind.values())
        shares = {k: round(self.busy_by_kind[k] / busy, 4) if busy else 0.0 for k in BUSY_KINDS}
        return {**shares, "busy_robot_s": round(busy, 1)}

    def standing_with_work(self) -> dict[str, object]:
        """Standing robots with work, by cause (``sim/wait_causes.py``; needs ``wait_probe``).

        ``waiting_by_cause``: share of busy robot-time per cause, adding up to
        ``busy_time_share["waiting"]`` (up to rounding). A vehicle whose released nodes are all
        reached and that was told no horizon yet reports idle although the controller has a trip
        for it (its next step blocked, or no window yet); that time is outside busy time, so it is
        given apart: ``idle_with_work_s`` (robot-seconds, per cause in ``idle_with_work_by_cause``),
        and ``standing_with_work_share``, waiting plus that over busy time plus that.
        """
        busy = sum(self.busy_by_kind.values())
        causes = self.wait_probe.causes if self.wait_probe is not None else ()
        names = [*causes, *sorted((set(self.waiting_by_cause) | set(self.idle_work_by_cause)) - set(causes))]
        idle = sum(self.idle_work_by_cause.values())
        work = busy + idle
        standing = self.busy_by_kind["waiting"] + idle
        return {
            "waiting_by_cause": {k: round(self.waiting_by_cause[k] / busy, 4) if busy else 0.0
                                 for k in names},
            "idle_with_work_s": round(idle, 1),
            "idle_with_work_by_cause": {k: round(float(self.idle_work_by_cause[k]), 1) for k in names},
            "standing_with_work_share": round(standing / work, 4) if work else 0.0,
        }

    def robots_by_state(self) -> dict[str, list[float]]:
        """Mean number of robots in each recorded state per time bin (for the stacked-area plot).

        The states are the ones the simulated vehicles report (``sim.vehicles.SimRobot.state_name``):
        driving (turning included), busy (an action running), waiting (nodes ahead, not moving:
        waiting on the plan or on another robot), idle and offline.
        """
        last = max(self.state_s_per_bin, default=-1)
        names = sorted({s for c in self.state_s_per_bin.values() for s in c})
        # the last bin is cut short by the end of the run: divide by the time it covers
        spans = [self.bin_s] * last + [max(self.last_frame_t_s - last * self.bin_s, 1e-9)]
        return {
            name: [self.state_s_per_bin.get(b, Counter()).get(name, 0.0) / spans[b] for b in range(last + 1)]
            for name in names
        }

    def utilisation_by_robot(self) -> Mapping[str, float]:
        """Share of time busy per robot (for the report)."""
        return {rid: (t.busy_s / t.seen_s if t.seen_s else 0.0) for rid, t in sorted(self.robots.items())}
