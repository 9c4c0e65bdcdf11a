"""Robots to trips to stations in one OR-Tools min-cost flow per planning cycle.

The network, per cycle::

    source -> robot (cap 1) -> trip_in -> trip_out (cap 1) -> station -> sink
              cost: travel       cost: minus the   cost: pod->station    slots of cap 1 whose
              robot->pickup      trip's value      ->return travel       cost grows with the queue

Solved with ``SimpleMinCostFlow.solve_max_flow_with_min_cost``: as many idle robots as possible
get a trip, and among those plans the cheapest. The choice is joint: which robot, which trip and
which station. Minimised: travel time (distance tables, :class:`TravelTimes`) plus station queue
time (convex slot costs, so pods spread over stations rather than queueing at the nearest; the
station idle / queue trade-off of Kou et al., AAAI 2020), minus the value of the trip: order
lines served (a pod visit that serves many lines is worth more: batching), waiting time (ageing,
so no trip starves) and priority. Costs are integers in tenths of a second.

To meet one cycle for 500 robots x 2,000 trips in well under a second, each robot gets arcs only to
its ``robot_candidates`` best trips (by travel + best tail - value, computed for every pair with
numpy) and each pod trip to its ``station_candidates`` best stations. Min-cost flow is exact and
deterministic: no seed or time limit is involved; the :class:`SolverProfile` is recorded anyway.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from bus.clock import Instant, to_seconds
from controller.assignment.api import (
    Assignment,
    BatteryPolicy,
    RobotView,
    SolverProfile,
    StationView,
    split_robots,
)
from controller.assignment.travel import UNREACHABLE_CELLS, TravelTimes
from controller.tasks.trips import Trip, TripKind
from warehouse_maps.grid import Cell


@dataclass(frozen=True, slots=True)
class FlowConfig:
    """Weights and pruning of the flow model (seconds unless named otherwise).

    Args:
        robot_candidates: trips each robot may be matched to (best by estimated net cost).
        nearest_trips: further trips per robot, the nearest ones.
        nearest_robots: robots per trip, the nearest ones (every trip stays reachable).
        station_candidates: pick stations considered per pod trip.
        line_value_s: worth of serving one order line, in seconds of robot time.
        age_value_per_s: credit per second a trip has waited since its oldest order arrived.
        priority_value_s: credit per priority level.
        station_service_s: expected station time per pod visit (pod exchange + picks).
        queue_free_s: station queue shorter than this costs nothing (the robot is still driving).
        slots_per_station: queue positions modelled per station per cycle.
    """

    robot_candidates: int = 16
    nearest_trips: int = 4
    nearest_robots: int = 4
    station_candidates: int = 3
    line_value_s: float = 60.0
    age_value_per_s: float = 0.02
    priority_value_s: float = 20.0
    station_service_s: float = 20.0
    queue_free_s: float = 60.0
    slots_per_station: int = 12


SCALE = 10  # cost units per second


def _top_k_rows(matrix: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of the ``k`` smallest entries of each row."""
    n_rows, n_cols = matrix.shape
    k = min(k, n_cols)
    if k <= 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    if k < n_cols:
        cols = np.argpartition(matrix, k - 1, axis=1)[:, :k]
    else:
        cols = np.tile(np.arange(n_cols), (n_rows, 1))
    return np.repeat(np.arange(n_rows), k), cols.ravel()


class FlowAssigner:
    """OR-Tools min-cost-flow assigner (see the module docstring).

    Args:
        places: cell of every pick station and chute id a trip may name.
        pick_stations: ids of the interchangeable pick stations pod trips may go to.
        config: weights and pruning.
        battery: charging constraints.
        profile: solver profile, recorded with results.
    """

    name = "ortools-flow"

    def __init__(
        self,
        places: Mapping[str, Cell],
        pick_stations: Sequence[str],
        config: FlowConfig | None = None,
        battery: BatteryPolicy | None = None,
        profile: SolverProfile | None = None,
    ) -> None:
        self.places = dict(places)
        self.pick_stations = tuple(pick_stations)
        self.config = config or FlowConfig()
        self.battery = battery or BatteryPolicy()
        self.profile = profile or SolverProfile()

    def assign(
        self,
        now: Instant,
        robots: Sequence[RobotView],
        trips: Sequence[Trip],
        dist: TravelTimes,
        stations: Sequence[StationView] | None = None,
    ) -> list[Assignment]:
        """Assignments for this cycle; see the module docstring."""
        ready, out = split_robots(robots, dist, self.battery)
        if not ready or not trips:
            return out
        cfg, speed = self.config, dist.speed_cells_per_s
        trips = sorted(trips, key=lambda t: t.id)
        n_r, n_t = len(ready), len(trips)
        ridx = dist.index([r.cell for r in ready])

        # phase 1: robot -> pickup travel for every pair (cells)
        leg1 = np.empty((n_r, n_t), dtype=np.int64)
        for j, trip in enumerate(trips):
            leg1[:, j] = dist.cells_to(ridx, trip.pod_home)

        # phase 2: station options and tail travel (pickup -> station -> return) per trip
        station_ids = sorted({*self.pick_stations, *(t.station_id for t in trips)})
        s_of = {s: k for k, s in enumerate(station_ids)}
        opt_trip, opt_station, opt_cells = self._station_options(trips, station_ids, dist)
        best_tail = np.full(n_t, np.inf)
        worst_tail = np.zeros(n_t)
        np.minimum.at(best_tail, opt_trip, opt_cells)
        np.maximum.at(worst_tail, opt_trip, opt_cells)

        # phase 3: trip value and per-robot candidate trips
        value_s = np.array(
            [
                cfg.line_value_s * max(t.n_lines, 1)
                + cfg.priority_value_s * t.priority
                + cfg.age_value_per_s * max(0.0, to_seconds(now - t.oldest))
                for t in trips
            ]
        )
        battery = np.array([r.battery_pct for r in ready])[:, None]
        b = self.battery
        feasible = (
            (leg1 < UNREACHABLE_CELLS)
            & np.isfinite(best_tail)[None, :]
            & (battery - (leg1 + worst_tail[None, :]) * b.pct_per_cell >= b.reserve_pct)
        )
        score = leg1 / speed + best_tail[None, :] / speed - value_s[None, :]
        score[~feasible] = np.inf
        arc_r, arc_t = self._candidate_arcs(score, np.where(feasible, leg1, UNREACHABLE_CELLS))
        if arc_r.size == 0:
            return out

        # phase 4: the network
        src, sink = 0, 1
        r0 = 2
        tin0 = r0 + n_r
        tout0 = tin0 + n_t
        s0 = tout0 + n_t
        offset = float(value_s.max())
        backlog = self._backlog_s(now, stations)
        slot_tail, slot_cost = [], []
        for sid in station_ids:
            base = backlog.get(sid, 0.0)
            for q in range(cfg.slots_per_station):
                slot_tail.append(s0 + s_of[sid])
                slot_cost.append(max(0.0, base + q * cfg.station_service_s - cfg.queue_free_s))
        n_slots = len(slot_tail)
        overflow_cost = [
            max(0.0, backlog.get(s, 0.0) + cfg.slots_per_station * cfg.station_service_s - cfg.queue_free_s)
            for s in station_ids
        ]
        tails = np.concatenate(
            [
                np.full(n_r, src),
                r0 + arc_r,
                tin0 + np.arange(n_t),
                tout0 + opt_trip,
                np.array(slot_tail, dtype=np.int64),
                s0 + np.arange(len(station_ids)),
            ]
        )
        heads = np.concatenate(
            [
                r0 + np.arange(n_r),
                tin0 + arc_t,
                tout0 + np.arange(n_t),
                s0 + opt_station,
                np.full(n_slots, sink),
                np.full(len(station_ids), sink),
            ]
        )
        caps = np.concatenate(
            [
                np.ones(n_r),
                np.ones(arc_r.size),
                np.ones(n_t),
                np.ones(opt_trip.size),
                np.ones(n_slots),
                np.full(len(station_ids), n_r),
            ]
        ).astype(np.int64)
        costs_s = np.concatenate(
            [
                np.zeros(n_r),
                leg1[arc_r, arc_t] / speed,
                offset - value_s,
                opt_cells / speed,
                np.array(slot_cost),
                np.array(overflow_cost),
            ]
        )
        costs = np.rint(costs_s * SCALE).astype(np.int64)
        flow = min_cost_flow.SimpleMinCostFlow()
        flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
        supplies = np.zeros(s0 + len(station_ids), dtype=np.int64)
        supplies[src], supplies[sink] = n_r, -n_r
        flow.set_nodes_supplies(np.arange(supplies.size), supplies)
        status = flow.solve_max_flow_with_min_cost()
        if status != flow.OPTIMAL:
            raise RuntimeError(f"min-cost flow failed with status {status}")

        # phase 5: read the plan back
        flows = flow.flows(np.arange(tails.size))
        a0 = n_r
        chosen = np.nonzero(flows[a0 : a0 + arc_r.size])[0]
        o0 = n_r + arc_r.size + n_t
        opt_used = np.nonzero(flows[o0 : o0 + opt_trip.size])[0]
        station_of_trip = {
            int(opt_trip[i]): (station_ids[int(opt_station[i])], float(opt_cells[i])) for i in opt_used
        }
        for i in chosen:
            r, t = int(arc_r[i]), int(arc_t[i])
            sid, tail = station_of_trip[t]
            out.append(Assignment(ready[r].id, trips[t].id, sid, cost_s=(leg1[r, t] + tail) / speed))
        return out

    def _candidate_arcs(self, score: np.ndarray, leg1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Robot -> trip arcs worth offering the solver (sorted, unique, all feasible).

        Each robot keeps its best trips by net score and its nearest trips; each trip keeps its
        nearest robots, so every trip can be reached even when all robots prefer the same few.
        """
        cfg = self.config
        n_r, n_t = score.shape
        pairs = [_top_k_rows(score, cfg.robot_candidates), _top_k_rows(leg1, cfg.nearest_trips)]
        near_r = _top_k_rows(leg1.T, cfg.nearest_robots)
        pairs.append((near_r[1], near_r[0]))
        keys = np.unique(np.concatenate([r * n_t + t for r, t in pairs]))
        arc_r, arc_t = keys // n_t, keys % n_t
        ok = np.isfinite(score[arc_r, arc_t])
        return arc_r[ok], arc_t[ok]

    def _station_options(
        self, trips: Sequence[Trip], station_ids: Sequence[str], dist: TravelTimes
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(trip index, station index, tail cells) for each allowed trip -> station pair."""
        cfg = self.config
        s_of = {s: k for k, s in enumerate(station_ids)}
        picks = [s for s in self.pick_stations]
        pick_idx = dist.index([self.places[s] for s in picks])
        pidx = dist.index([t.pod_home for t in trips])
        to_station = np.stack([dist.table(self.places[s])[pidx] for s in picks], axis=1) if picks else None
        o_t, o_s, o_c = [], [], []
        for j, trip in enumerate(trips):
            if trip.kind is TripKind.POD and picks:
                tail = to_station[j].copy()
                if trip.return_cell is not None:
                    tail += dist.table(trip.return_cell)[pick_idx]
                n = min(cfg.station_candidates, len(picks))
                best = np.argsort(tail, kind="stable")[:n]
                for k in best:
                    if tail[k] < UNREACHABLE_CELLS:
                        o_t.append(j)
                        o_s.append(s_of[picks[int(k)]])
                        o_c.append(int(tail[k]))
            else:
                cell = self.places[trip.station_id]
                tail = dist.cells(trip.pod_home, cell)
                if trip.return_cell is not None:
                    tail += dist.cells(cell, trip.return_cell)
                if tail < UNREACHABLE_CELLS:
                    o_t.append(j)
                    o_s.append(s_of[trip.station_id])
                    o_c.append(tail)
        return (np.array(o_t, dtype=np.int64), np.array(o_s, dtype=np.int64), np.array(o_c, dtype=np.float64))

    @staticmethod
    def _backlog_s(now: Instant, stations: Sequence[StationView] | None) -> dict[str, float]:
        if not stations:
            return {}
        return {
            s.id: max(0.0, to_seconds(s.free_at - now)) if s.free_at is not None else 0.0 for s in stations
        }
