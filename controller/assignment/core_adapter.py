"""The controller core's matching through the assignment port (issue 8: the core is composed of parts).

Why: :class:`controller.core.Controller` holds executor trips (a sequence of stops) and robots in
the executor and fleet registry; the assigners (:class:`FlowAssigner`, :class:`GreedyAssigner`)
speak :class:`RobotView`, :class:`StationView` and task trips (:class:`controller.tasks.trips.Trip`).
This module translates between the two, and nothing else: the matching itself is the assigner's.

* An executor trip's first stop is its pickup (``pod_home``), the stop that names a
  ``stationId`` is its station (the default choice; the flow assigner may pick another pick
  station, and the trip is then re-targeted there), its last stop (when there are more than two)
  is the return cell, and the ``lines`` parameter of the station stop counts its order lines.
* A trip's age is measured from the first cycle it was offered (the core has no order times),
  so first come first served means the same as in the core's pool order; a trip that comes back
  to the pool after its robot was lost keeps its age (it is remembered while in flight), so it
  goes first again, as it did in the core's own pool.
* Station backlogs come from trips in flight: each trip whose robot has not yet finished the
  station stop counts ``station_service_s`` of work ahead at its station.

Everything is a pure function of the inputs and the cycles seen so far: no clock, no randomness.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np

from bus.clock import Instant, seconds
from controller.assignment.api import Assigner, AssignmentKind, BatteryPolicy, RobotView, StationView
from controller.assignment.flow import FlowAssigner, FlowConfig
from controller.assignment.greedy import GreedyAssigner
from controller.assignment.travel import UNREACHABLE_CELLS, TravelTimes
from controller.config import AssignmentConfig
from controller.execution.trips import Stop
from controller.execution.trips import Trip as ExecTrip
from controller.tasks.trips import Trip as TaskTrip
from controller.tasks.trips import TripKind, TripLine, TripState
from warehouse_maps.grid import Cell, Grid
from warehouse_maps.layout import Layout, PlaceKind

STATION_KEY = "stationId"
MAX_TRAVEL_TABLES = 1024  # about 39 MB on the 9,600-cell fc floor


class _CoreTravel(TravelTimes):
    """Travel times that keep at most ``MAX_TRAVEL_TABLES`` tables in one block allocated at start
    (least recently used rows are reused) and leave the grid's cache alone (:class:`TravelTimes`
    would clear it).

    Why bounded: the core runs for a whole shift and asks for a table per pod it considers, so an
    unbounded cache grew with every pod a long run visited (38 KB each on fc); a table costs
    about 0.1 ms to compute again. Why one block claimed at start: a cache that fills over hours
    makes memory creep for hours, which cannot be told from a leak. A returned table is a
    read-only view of its row, valid until the next call (every caller indexes it at once).
    """

    def __init__(self, grid: Grid, speed_cells_per_s: float = 1.0) -> None:
        super().__init__(grid, speed_cells_per_s)
        rows = min(MAX_TRAVEL_TABLES, int(grid.passable.sum()))
        self._pool = np.full((rows, grid.width * grid.height), UNREACHABLE_CELLS, dtype=np.int32)
        self._row_of: OrderedDict[Cell, int] = OrderedDict()

    def table(self, goal: Cell) -> np.ndarray:
        row = self._row_of.get(goal)
        if row is None:
            raw = self.grid.fresh_distance_table(goal).ravel()
            if len(self._row_of) < len(self._pool):
                row = len(self._row_of)
            else:
                row = self._row_of.popitem(last=False)[1]  # the least recently used
            out = self._pool[row]
            np.copyto(out, raw)
            out[raw < 0] = UNREACHABLE_CELLS
            self._row_of[goal] = row
        else:
            self._row_of.move_to_end(goal)
        view = self._pool[row]
        view.setflags(write=False)
        return view

    def warm(self, goals: Iterable[Cell]) -> int:
        """Compute the tables of ``goals`` now (the last ``MAX_TRAVEL_TABLES`` stay); returns how
        many were new."""
        missing = [g for g in dict.fromkeys(goals) if g not in self._row_of]
        for goal in missing:
            self.table(goal)
        return len(missing)


def make_assigner(
    config: AssignmentConfig, places: dict[str, Cell], pick_stations: Sequence[str]
) -> Assigner:
    """The assigner ``config.solver`` names. Low-battery robots are the core's business (it sends
    them to chargers and never offers them), so the policy here only keeps the trip reserve."""
    battery = BatteryPolicy(
        charge_below_pct=0.0, reserve_pct=config.reserve_pct, pct_per_cell=config.pct_per_cell, chargers=()
    )
    if config.solver == "greedy":
        return GreedyAssigner(places, battery)
    flow = FlowConfig(
        station_candidates=config.station_candidates,
        line_value_s=config.line_value_s,
        age_value_per_s=config.age_value_per_s,
        station_service_s=config.station_service_s,
    )
    return FlowAssigner(places, pick_stations, flow, battery)


def station_of(trip: ExecTrip) -> tuple[int, str] | None:
    """(stop index, station id) of the trip's station stop, or None."""
    for i, stop in enumerate(trip.stops):
        for key, value in stop.parameters:
            if key == STATION_KEY:
                return i, value
    return None


def restation(trip: ExecTrip, station_id: str, cell: Cell) -> ExecTrip:
    """The same trip with its station stop moved to ``station_id`` at ``cell``."""
    found = station_of(trip)
    if found is None or found[1] == station_id:
        return trip
    i, _ = found
    old = trip.stops[i]
    params = tuple((k, station_id if k == STATION_KEY else v) for k, v in old.parameters)
    stops = trip.stops[:i] + (Stop(cell, old.action_type, params),) + trip.stops[i + 1 :]
    return replace(trip, stops=stops)


class CoreAssignment:
    """Runs one assigner for the controller core over executor trips.

    Args:
        layout: the floor (pick stations are the stations a pod trip may use).
        config: which solver and its weights.
    """

    def __init__(self, layout: Layout, config: AssignmentConfig) -> None:
        self.config = config
        stations = sorted(layout.of_kind(PlaceKind.PICK_STATION), key=lambda p: p.id)
        self.places: dict[str, Cell] = {p.id: p.cell for p in stations}
        self.pick_stations = tuple(p.id for p in stations)
        self.assigner = make_assigner(config, self.places, self.pick_stations)
        self.travel = _CoreTravel(layout.grid, config.speed_cells_per_s)
        self._offered: dict[str, Instant] = {}  # trip id -> first cycle offered (pool or in flight)
        # trip id -> (the trip, its view): trips are immutable, so a view holds while the pool keeps
        # the same object (an overloaded site rebuilt thousands of views every cycle)
        self._views: dict[str, tuple[ExecTrip, TaskTrip]] = {}

    @property
    def grid(self) -> Grid:
        return self.travel.grid

    def task_view(self, trip: ExecTrip, now: Instant) -> TaskTrip:
        """The assigner's view of an executor trip (see the module docstring)."""
        first = self._offered.setdefault(trip.trip_id, now)
        found = station_of(trip)
        if found is not None:
            i, sid = found
            kind = TripKind.POD
            lines_param = dict(trip.stops[i].parameters).get("lines", "")
            n_lines = max(1, len([x for x in lines_param.split(",") if x]))
        else:  # no station: the last stop is the drop place
            i, kind, n_lines = len(trip.stops) - 1, TripKind.PARCEL, 1
            cell = trip.stops[i].cell
            sid = f"drop-{cell[0]}_{cell[1]}"
            self.assigner.places.setdefault(sid, cell)
        oid = trip.order_ids[0] if trip.order_ids else trip.trip_id
        lines = tuple(TripLine(oid, k, "", 1) for k in range(n_lines))
        ret = trip.stops[-1].cell if len(trip.stops) > i + 1 else None
        return TaskTrip(
            trip.trip_id, kind, None, trip.stops[0].cell, sid, lines, TripState.OPEN, first, first,
            return_cell=ret,
        )

    def _view(self, trip: ExecTrip, now: Instant) -> TaskTrip:
        """:meth:`task_view`, remembered per trip object."""
        known = self._views.get(trip.trip_id)
        if known is not None and known[0] is trip:
            return known[1]
        view = self.task_view(trip, now)
        self._views[trip.trip_id] = (trip, view)
        return view

    def station_views(self, now: Instant, in_flight: Iterable[tuple[ExecTrip, int]]) -> list[StationView]:
        """Backlog per pick station from (trip, index of its next stop) of trips in flight."""
        ahead = dict.fromkeys(self.pick_stations, 0)
        for trip, next_stop in in_flight:
            found = station_of(trip)
            if found is not None and found[0] >= next_stop and found[1] in ahead:
                ahead[found[1]] += 1
        service = seconds(self.config.station_service_s)
        return [StationView(sid, self.places[sid], now + n * service) for sid, n in ahead.items()]

    def match(
        self,
        now: Instant,
        robots: Sequence[RobotView],
        pool: Sequence[ExecTrip],
        in_flight: Iterable[tuple[ExecTrip, int]] = (),
    ) -> list[tuple[str, ExecTrip]]:
        """(robot id, trip to run) pairs for this cycle; a trip may come back re-targeted to the
        station the assigner chose. Robots must be idle and allowed to work; trips must be open."""
        in_flight = list(in_flight)
        live = {t.trip_id for t in pool} | {t.trip_id for t, _ in in_flight}
        self._offered = {k: v for k, v in self._offered.items() if k in live}
        self._views = {k: v for k, v in self._views.items() if k in live}
        if not robots or not pool:
            return []
        views = [self._view(t, now) for t in pool]
        by_id = {t.trip_id: t for t in pool}
        stations = self.station_views(now, in_flight)
        result = self.assigner.assign(now, list(robots), views, self.travel, stations)
        out: list[tuple[str, ExecTrip]] = []
        for a in result:
            if a.kind is not AssignmentKind.TRIP or a.trip_id is None:
                continue
            trip = by_id[a.trip_id]
            if a.station_id in self.pick_stations:
                trip = restation(trip, a.station_id, self.places[a.station_id])
            out.append((a.robot_id, trip))
        return out
