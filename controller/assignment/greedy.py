"""The greedy baseline: first come first served, nearest idle robot, the trip's default station.

This is what many fleet managers do out of the box and what the OR-Tools assigner is measured
against (``bench/assign.py``). Trips are taken oldest first (ties: higher priority, then id); each
goes to the nearest idle robot whose battery can finish it, via the station the task builder chose
(the one nearest the pod). It shares the charging rule with the OR-Tools assigner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from bus.clock import Instant
from controller.assignment.api import (
    Assignment,
    BatteryPolicy,
    RobotView,
    StationView,
    split_robots,
    trip_tail_cells,
)
from controller.assignment.travel import UNREACHABLE_CELLS, TravelTimes
from controller.tasks.trips import Trip
from warehouse_maps.grid import Cell


class GreedyAssigner:
    """Nearest idle robot, first come first served.

    Args:
        places: cell of every station / chute id a trip may name.
        battery: charging constraints.
    """

    name = "greedy"

    def __init__(self, places: Mapping[str, Cell], battery: BatteryPolicy | None = None) -> None:
        self.places = dict(places)
        self.battery = battery or BatteryPolicy()

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
        idx = dist.index([r.cell for r in ready])
        battery = np.array([r.battery_pct for r in ready])
        free = np.ones(len(ready), dtype=bool)
        b = self.battery
        for trip in sorted(trips, key=lambda t: (t.oldest, -t.priority, t.id)):
            station = self.places[trip.station_id]
            tail = trip_tail_cells(trip, station, dist)
            d = dist.cells_to(idx, trip.pod_home).astype(float)
            ok = free & (d < UNREACHABLE_CELLS) & (battery - (d + tail) * b.pct_per_cell >= b.reserve_pct)
            if not ok.any():
                continue
            d[~ok] = np.inf
            j = int(np.argmin(d))  # lowest index wins ties: robots are in id order
            free[j] = False
            out.append(
                Assignment(
                    ready[j].id, trip.id, trip.station_id, cost_s=(d[j] + tail) / dist.speed_cells_per_s
                )
            )
            if not free.any():
                break
        return out
