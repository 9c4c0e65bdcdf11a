"""What sortation tells the rest of the controller (the order book subscribes to these).

Plain frozen dataclasses, so the order book (another module's) depends on nothing here but data.
"""

from __future__ import annotations

from dataclasses import dataclass

from bus.clock import Instant


@dataclass(frozen=True, slots=True)
class ItemInducted:
    """An item was put on the line at an induct (a unit re-inducted after a reject comes again)."""

    at: Instant
    sorter_id: str
    item_id: str
    order_id: str | None
    barcode: str


@dataclass(frozen=True, slots=True)
class ItemSorted:
    """An item reached a destination chute: its order's status moves to *sorted*."""

    at: Instant
    sorter_id: str
    item_id: str
    order_id: str | None
    chute_id: str
    barcode: str | None = None  # the unit's label, when the item was asked about


@dataclass(frozen=True, slots=True)
class ItemRejected:
    """An item ended in the reject chute (needs manual handling)."""

    at: Instant
    sorter_id: str
    item_id: str
    order_id: str | None
    reason: str


SortationEvent = ItemInducted | ItemSorted | ItemRejected
