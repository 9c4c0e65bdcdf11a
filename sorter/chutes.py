"""Chutes: capacity, open / full / closed, and the packer who empties a full chute after a while.

Shared by the loop and the inline sorter. A chute is FULL when it holds ``capacity_items``; the
model then schedules a clearing at ``now + clear_time``; clearing empties it (counted in
``cleared_items`` so conservation holds) and reopens it unless an operator closed it meanwhile.
The reject chute has no capacity limit and never closes.
"""

from __future__ import annotations

from dataclasses import dataclass

from bus.clock import Duration, Instant
from sorter.events import REJECT_CHUTE, ChuteChanged, ChuteStatus


@dataclass(slots=True)
class Chute:
    """One chute's mutable state (owned by a :class:`ChuteBank`).

    Attributes:
        chute_id: wire name (``c001``... or ``reject``).
        position_m: metres along the conveyor.
        capacity_items: items it holds before FULL (0 = unlimited, the reject chute).
        fill_items: items in it now.
        received_items: every item ever discharged into it (cleared ones included).
        closed: set by an operator; a closed chute takes nothing.
        clear_due: when the packer will have emptied it, or None.
    """

    chute_id: str
    position_m: float
    capacity_items: int
    fill_items: int = 0
    received_items: int = 0
    closed: bool = False
    clear_due: Instant | None = None

    @property
    def status(self) -> ChuteStatus:
        """CLOSED wins over FULL; otherwise FULL at capacity; otherwise OPEN."""
        if self.closed:
            return ChuteStatus.CLOSED
        if self.capacity_items and self.fill_items >= self.capacity_items:
            return ChuteStatus.FULL
        return ChuteStatus.OPEN

    def can_take(self) -> bool:
        """True when an item arriving now would be discharged into this chute."""
        return self.status is ChuteStatus.OPEN


class ChuteBank:
    """All chutes of one sorter, by id, plus the reject chute."""

    def __init__(self, chute_ids: list[str], positions_m: list[float], capacity_items: int,
                 clear_time: Duration, reject_position_m: float) -> None:
        if len(chute_ids) != len(positions_m):
            raise ValueError("one position per chute")
        self.clear_time = clear_time
        self.chutes: dict[str, Chute] = {
            cid: Chute(cid, pos, capacity_items) for cid, pos in zip(chute_ids, positions_m)
        }
        self.reject = Chute(REJECT_CHUTE, reject_position_m, 0)
        self.chutes[REJECT_CHUTE] = self.reject
        self.version = 0
        """Bumps on every state change (full, cleared, closed, opened): viewers redraw only then."""

    def __contains__(self, chute_id: object) -> bool:
        return chute_id in self.chutes

    def get(self, chute_id: str) -> Chute:
        """The chute named ``chute_id`` (KeyError when there is none)."""
        return self.chutes[chute_id]

    def destination_ids(self) -> list[str]:
        """Every chute but reject, in id order."""
        return sorted(c for c in self.chutes if c != REJECT_CHUTE)

    def snapshot(self, now: Instant, chute: Chute) -> ChuteChanged:
        """The chute's state as an event."""
        return ChuteChanged(now, chute.chute_id, chute.status, chute.fill_items, chute.capacity_items)

    def discharge(self, now: Instant, chute: Chute) -> ChuteChanged | None:
        """Put one item in ``chute``; returns an event when that made it FULL (and books the packer)."""
        chute.fill_items += 1
        chute.received_items += 1
        if chute.capacity_items and chute.fill_items >= chute.capacity_items:
            chute.clear_due = Instant(now + self.clear_time)
            self.version += 1
            return self.snapshot(now, chute)
        return None

    def clear(self, now: Instant, chute: Chute) -> ChuteChanged:
        """The packer emptied ``chute``."""
        chute.fill_items = 0
        chute.clear_due = None
        self.version += 1
        return self.snapshot(now, chute)

    def set_closed(self, now: Instant, chute: Chute, closed: bool) -> ChuteChanged | None:
        """Operator closes or reopens a chute; an event when the state changed."""
        if chute.chute_id == REJECT_CHUTE or chute.closed == closed:
            return None
        chute.closed = closed
        self.version += 1
        return self.snapshot(now, chute)

    def in_chutes(self) -> int:
        """Items discharged into destination chutes so far (cleared ones included)."""
        return sum(c.received_items for c in self.chutes.values() if c is not self.reject)
