"""The assignment port: what an assigner sees, what it returns, and how its solver is configured.

Public API (used by the controller, issue 8)::

    assigner.assign(now, robots: list[RobotView], trips: list[Trip], dist: TravelTimes,
                    stations: list[StationView] | None = None) -> list[Assignment]

Both :class:`controller.assignment.flow.FlowAssigner` (OR-Tools) and
:class:`controller.assignment.greedy.GreedyAssigner` (nearest idle robot, first come first served)
implement :class:`Assigner`. Robots already on a trip keep it (they are constraints, not choices);
robots that are unavailable are skipped; a robot whose battery is below the charge threshold is
sent to a charger instead of a trip, and a robot is never given a trip its battery cannot finish.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Literal, Protocol

from bus.clock import Instant
from controller.assignment.travel import TravelTimes
from controller.tasks.trips import Trip
from warehouse_maps.grid import Cell


@dataclass(frozen=True, slots=True)
class RobotView:
    """What the assigner knows of one robot.

    Args:
        id: robot id (``agv-0001``).
        cell: where it is now (or where it will be free, for a robot finishing a trip).
        busy_trip_id: the trip it is on, or ``None`` when idle.
        battery_pct: state of charge, 0-100.
        available: False when it is offline, faulted or charging.
    """

    id: str
    cell: Cell
    busy_trip_id: str | None = None
    battery_pct: float = 100.0
    available: bool = True


@dataclass(frozen=True, slots=True)
class StationView:
    """A pick station (or chute) and when it will have worked off the pods already sent to it."""

    id: str
    cell: Cell
    free_at: Instant | None = None


class AssignmentKind(StrEnum):
    """A trip to run, or a charger to go to."""

    TRIP = "trip"
    CHARGE = "charge"


@dataclass(frozen=True, slots=True)
class Assignment:
    """One decision: ``robot_id`` runs ``trip_id`` via ``station_id`` (or charges at ``station_id``).

    ``cost_s`` is the planner's estimate of the robot's time on it (travel plus station wait).
    """

    robot_id: str
    trip_id: str | None
    station_id: str
    kind: AssignmentKind = AssignmentKind.TRIP
    cost_s: float = 0.0


@dataclass(frozen=True, slots=True)
class BatteryPolicy:
    """Charging needs as constraints.

    Args:
        charge_below_pct: an idle robot under this goes to a charger, not to a trip.
        reserve_pct: charge a robot must still have when a trip ends.
        pct_per_cell: charge used per cell travelled.
        chargers: charger place ids and cells (robots go to the nearest one).
    """

    charge_below_pct: float = 20.0
    reserve_pct: float = 10.0
    pct_per_cell: float = 0.01
    chargers: tuple[tuple[str, Cell], ...] = ()


@dataclass(frozen=True, slots=True)
class SolverProfile:
    """How OR-Tools is run, recorded in every result so a run can be reproduced.

    ``deterministic`` (simulation, tests): fixed ``random_seed``, one worker, a deterministic
    time limit. ``deployment``: wall-clock limit, more workers. The min-cost-flow model used for
    robot -> trip -> station is exact and has no randomness, so both profiles give the same plan;
    the limits apply to CP-SAT side models.
    """

    name: Literal["deterministic", "deployment"] = "deterministic"
    random_seed: int = 0
    num_workers: int = 1
    max_deterministic_time_s: float | None = 1.0
    max_time_s: float | None = None

    def as_dict(self) -> dict[str, object]:
        """Plain dict for run manifests."""
        return asdict(self)


DEPLOYMENT = SolverProfile("deployment", 0, 4, None, 1.0)


class Assigner(Protocol):
    """Decides which idle robot runs which open trip, and via which station."""

    def assign(
        self,
        now: Instant,
        robots: Sequence[RobotView],
        trips: Sequence[Trip],
        dist: TravelTimes,
        stations: Sequence[StationView] | None = None,
    ) -> list[Assignment]:
        """Assignments for this planning cycle (each robot and each trip at most once)."""
        ...


def split_robots(
    robots: Sequence[RobotView], dist: TravelTimes, battery: BatteryPolicy
) -> tuple[list[RobotView], list[Assignment]]:
    """Idle robots that may take trips, and charger assignments for the ones too low to work.

    Shared by every assigner so that charging is the same constraint for all of them.
    """
    ready: list[RobotView] = []
    charge: list[Assignment] = []
    for robot in sorted(robots, key=lambda r: r.id):
        if not robot.available or robot.busy_trip_id is not None:
            continue
        if robot.battery_pct < battery.charge_below_pct and battery.chargers:
            cid, ccell = min(battery.chargers, key=lambda c: (dist.cells(robot.cell, c[1]), c[0]))
            charge.append(
                Assignment(robot.id, None, cid, AssignmentKind.CHARGE, dist.seconds(robot.cell, ccell))
            )
            continue
        ready.append(robot)
    return ready, charge


def trip_tail_cells(trip: Trip, station_cell: Cell, dist: TravelTimes) -> int:
    """Cells from the pickup to the station and on to the return cell (the robot-independent part)."""
    cells = dist.cells(trip.pod_home, station_cell)
    if trip.return_cell is not None:
        cells += dist.cells(station_cell, trip.return_cell)
    return cells
