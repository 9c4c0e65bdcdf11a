"""A parcel as the robotic sortation knows it, and what the parcel flow asks of the robots' side.

Split from :mod:`controller.tasks.parcel_flow` so that file holds the decisions only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bus.clock import Instant
from controller.execution.trips import Trip


@dataclass(slots=True)
class Parcel:
    """A parcel the controller knows: where it waits, where it goes, who carries it."""

    parcel_id: str
    destination: str
    induct: str
    arrived: Instant
    chute: str | None = None
    trip_id: str | None = None
    loaded: bool = False
    held_reason: str = ""  # why it waits although a robot could take it (logged once)
    order_id: str | None = None  # the order it carries (a mixed site), None for an induct's parcel


class ParcelFleet(Protocol):
    """What the parcel flow asks of the robots' side (the controller's dispatch implements it)."""

    def stops_planned(self, trip_id: str) -> int | None:
        """Stops of the trip its robot's plan has reached (None: not under way)."""

    def amend(self, trip: Trip) -> None:
        """Give the trip's robot the new version of its trip (same id, another chute)."""

    def lost_since(self, trip_id: str) -> Instant | None:
        """When the trip's robot was lost (None: it is not lost, or the trip is not under way)."""

    def abandon(self, trip_id: str) -> None:
        """End the trip where its robot stands: the actions of its stops still to come are never
        sent (a parcel handed to manual handling is not tipped)."""
