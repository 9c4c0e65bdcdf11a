"""What the sorter model reports: items, divert results and the domain events it emits.

These are plain frozen dataclasses, apart from the wire models in ``bus/sorter_protocol.py``;
:class:`sorter.agent.SorterAgent` is the only place that maps one onto the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bus.clock import Instant

REJECT_CHUTE = "reject"
"""Chute id of the reject chute on every sorter."""


class DivertResult(StrEnum):
    """Outcome of an item reaching its chute (or the place it should have left the line)."""

    SORTED = "SORTED"
    RECIRCULATED = "RECIRCULATED"
    REJECTED = "REJECTED"
    LOST = "LOST"


class ChuteStatus(StrEnum):
    """A chute takes items only when OPEN; FULL until a packer clears it; CLOSED by an operator."""

    OPEN = "OPEN"
    FULL = "FULL"
    CLOSED = "CLOSED"


class AssignVerdict(StrEnum):
    """What became of a destination given to the model (all but ACCEPTED/REASSIGNED are counted)."""

    ACCEPTED = "ACCEPTED"
    REASSIGNED = "REASSIGNED"
    DUPLICATE = "DUPLICATE"
    UNKNOWN_ITEM = "UNKNOWN_ITEM"
    UNKNOWN_CHUTE = "UNKNOWN_CHUTE"
    LATE = "LATE"


@dataclass(frozen=True, slots=True)
class Item:
    """A parcel offered to an induct.

    Attributes:
        item_id: unique per sorter run (the feed allocates ``itm-000001``...).
        barcode: what the scanner reads; the controller maps it to a destination.
        oversized: True when the item needs two adjacent carriers.
    """

    item_id: str
    barcode: str
    oversized: bool = False


@dataclass(frozen=True, slots=True)
class Inducted:
    """An item was placed on carriers at an induct."""

    at: Instant
    item_id: str
    barcode: str
    induct_id: str
    carriers: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class DestinationNeeded:
    """The scanner read an item; a destination must arrive before ``deadline`` or it goes to reject."""

    at: Instant
    item_id: str
    barcode: str
    deadline: Instant


@dataclass(frozen=True, slots=True)
class Diverted:
    """An item met its chute: sorted, recirculated, rejected (with a reason) or lost."""

    at: Instant
    item_id: str
    chute_id: str
    result: DivertResult
    reason: str = ""
    recirculations: int = 0


@dataclass(frozen=True, slots=True)
class ChuteChanged:
    """A chute changed state (open, full, closed) or was emptied."""

    at: Instant
    chute_id: str
    status: ChuteStatus
    fill_items: int
    capacity_items: int


SorterEvent = Inducted | DestinationNeeded | Diverted | ChuteChanged
