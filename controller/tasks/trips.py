"""Trips: the unit of work a robot is assigned.

A *pod trip* fetches a storage pod from its cell, carries it to a pick station where the lines it
serves are picked (lines of many orders: that is batching), and brings it back. A *parcel trip*
(robotic sortation) carries one parcel from an induct station to the chute of its destination.
Both have the same shape for the assigner: a pickup cell, a drop place (station or chute), an
optional return cell, and a value (the order lines served).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeAlias

from bus.clock import Instant
from warehouse_maps.grid import Cell

TripId: TypeAlias = str


class TripKind(StrEnum):
    """What a trip carries."""

    POD = "pod"
    PARCEL = "parcel"


class TripState(StrEnum):
    """Where a trip is: in the pool, with a robot, done (or back in the pool after a failure)."""

    OPEN = "open"  # waiting in the pool for a robot
    ASSIGNED = "assigned"  # a robot is on it (fetching, carrying or queueing)
    PICKED = "picked"  # lines picked / parcel dropped; the robot is taking the pod home
    DONE = "done"


@dataclass(frozen=True, slots=True)
class TripLine:
    """Part of an order line this trip serves: ``quantity`` units of ``sku`` for line ``line_index``."""

    order_id: str
    line_index: int
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Trip:
    """A snapshot of one trip, as the assigner sees it.

    Args:
        id: stable trip id (``T000001``).
        kind: pod or parcel.
        pod_id: the pod fetched (pod trips) or ``None``.
        pod_home: the cell the robot picks up at: the pod's current cell, or the induct cell.
        station_id: the pick station (pod trips; the default choice, the assigner may pick
            another) or the chute place id (parcel trips; fixed).
        lines: order lines served (empty for parcel trips).
        state: see :class:`TripState`.
        created: when the trip was opened.
        oldest: creation time of the oldest order it serves (for ageing / first come first served).
        priority: highest order priority it serves.
        return_cell: where the pod goes after the station (``None``: the robot stays at the drop).
        robot_id: the robot on it, when assigned.
        parcel_id: the parcel (parcel trips).
    """

    id: TripId
    kind: TripKind
    pod_id: str | None
    pod_home: Cell
    station_id: str
    lines: tuple[TripLine, ...]
    state: TripState
    created: Instant
    oldest: Instant
    priority: int = 0
    return_cell: Cell | None = None
    robot_id: str | None = None
    parcel_id: str | None = None

    @property
    def n_lines(self) -> int:
        """Order lines served by this visit."""
        return len(self.lines)

    @property
    def order_ids(self) -> tuple[str, ...]:
        """Distinct orders served, sorted."""
        return tuple(sorted({ln.order_id for ln in self.lines}))
