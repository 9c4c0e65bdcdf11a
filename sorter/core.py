"""What loop and inline sorters share: the event heap, parcels, destinations, deadlines, chutes.

The model is event-driven: a heap holds the next things that will happen (an induct slot, a carrier
reaching the scanner or a chute, a reply deadline, a packer finishing) and :meth:`SorterCore.advance_to`
processes them in time order up to ``now``. Nothing is stepped, so an hour of sorting costs a few
events per item. Subclasses supply geometry: when an item reaches a position, how inducts place
items, and what happens when an item cannot leave at its chute.

Every item that was inducted is, at any instant, in exactly one place: on the conveyor
(:attr:`SorterCore.parcels`), in a destination chute, or in reject. :meth:`SorterCore.check_conservation`
asserts that; benches and tests call it on every run.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bus.clock import NS_PER_S, Duration, Instant, seconds
from bus.recent import RecentWindow
from sorter.chutes import Chute, ChuteBank
from sorter.events import (
    REJECT_CHUTE,
    AssignVerdict,
    DestinationNeeded,
    Diverted,
    DivertResult,
    Item,
    SorterEvent,
)
from sorter.feed import ParcelFeed
from sorter.scanner import Scanner

# event kinds in the heap
SLOT, SCAN, PASS, DEADLINE, CLEAR, ARRIVAL = range(6)

RECENT_FINISHED_S = 600.0
"""Seconds an item id is remembered after it left the line: a destination reply for it within
this time counts as a duplicate, later as an unknown item (ids are forgotten when a later item
leaves, so at least this long)."""

Resolver = Callable[[str], str | None]
"""Barcode -> chute id, for headless runs without a controller (None: ask nobody, wait for reject)."""


class ConservationError(AssertionError):
    """An inducted item is in no place, or in two: a bug in the model."""


@dataclass(slots=True)
class Parcel:
    """An item on the conveyor (mutable, owned by the model).

    Attributes:
        item: what was inducted.
        induct_id: where it entered.
        inducted_at: when.
        carriers: carrier indices it occupies (loop) or ``()`` (inline).
        stage: ``"to_scan"``, ``"awaiting"`` (destination asked) or ``"routed"``.
        chute_id: the chute it is heading for once routed.
        deadline: reply deadline while awaiting.
        reject_reason: why the model sent it to reject (``no_read``, ``late_reply``, ``lap_limit``...).
        recirculations: laps gone round because its chute could not take it.
        version: bumps on every re-route so stale heap entries are ignored.
    """

    item: Item
    induct_id: str
    inducted_at: Instant
    carriers: tuple[int, ...] = ()
    stage: str = "to_scan"
    chute_id: str | None = None
    deadline: Instant | None = None
    reject_reason: str = ""
    recirculations: int = 0
    version: int = 0


@dataclass(slots=True)
class SorterCounts:
    """Running totals (items unless named otherwise); the agent adds its own bad-input counts."""

    inducted: int = 0
    sorted: int = 0
    rejected: int = 0
    recirculated: int = 0
    no_reads: int = 0
    late_replies: int = 0
    lap_limit_rejects: int = 0
    reassigned: int = 0
    duplicates: int = 0
    unknown_items: int = 0
    unknown_chutes: int = 0
    rejects_by_reason: dict[str, int] = field(default_factory=dict)


class SorterCore:
    """Shared machinery; use :class:`sorter.loop.LoopSorter` or :class:`sorter.inline.InlineSorter`."""

    def __init__(self, chutes: ChuteBank, scanner: Scanner, reply_timeout: Duration, start: Instant,
                 resolver: Resolver | None = None) -> None:
        self.chutes = chutes
        self.scanner = scanner
        self.reply_timeout = reply_timeout
        self.resolver = resolver
        self.now = Instant(int(start))
        self.counts = SorterCounts()
        self.parcels: dict[str, Parcel] = {}
        # items that left the line in the last RECENT_FINISHED_S (item id -> chute id), so a late
        # destination reply is told apart from one for an item never seen; older ones are forgotten
        # (a sorter runs for months) and only counted in ``finished_total``
        self.finished: RecentWindow[str] = RecentWindow(seconds(RECENT_FINISHED_S))
        self.finished_total = 0
        self._heap: list[tuple[int, int, int, Any, int]] = []
        self._seq = 0
        self._out: list[SorterEvent] = []
        self._arrivals: dict[int, tuple[float, np.random.Generator]] = {}
        self.feed: ParcelFeed

    # --- time -----------------------------------------------------------------------------
    def next_event_time(self) -> Instant | None:
        """When the model next needs :meth:`advance_to` (None when nothing is pending)."""
        return Instant(self._heap[0][0]) if self._heap else None

    def advance_to(self, now: Instant) -> list[SorterEvent]:
        """Process every event up to and including ``now``; returns what happened, in order."""
        self._process_until(now)
        return self.take_events()

    def _process_until(self, now: Instant) -> None:
        if now < self.now:
            raise ValueError("the sorter model never goes back in time")
        heap = self._heap
        while heap and heap[0][0] <= now:
            at, _, kind, subject, version = heapq.heappop(heap)
            self.now = Instant(at)
            self._dispatch(kind, subject, version)
        self.now = Instant(int(now))

    def take_events(self) -> list[SorterEvent]:
        """Events produced so far and not yet taken (by advance_to or the commands)."""
        out, self._out = self._out, []
        return out

    def _push(self, at: int, kind: int, subject: Any, version: int = 0) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (at, self._seq, kind, subject, version))

    def _dispatch(self, kind: int, subject: Any, version: int) -> None:
        if kind == SLOT:
            self._on_slot(subject, version)
        elif kind == SCAN:
            if subject.version == version and subject.item.item_id in self.parcels:
                self._on_scan(subject)
        elif kind == PASS:
            if subject.version == version and subject.item.item_id in self.parcels:
                self._on_pass(subject)
        elif kind == DEADLINE:
            if subject.version == version and subject.stage == "awaiting":
                self.counts.late_replies += 1
                self._route(subject, REJECT_CHUTE, "late_reply")
        elif kind == ARRIVAL:
            self._on_arrival(subject)
        elif kind == CLEAR:
            chute: Chute = subject
            if chute.clear_due == self.now:
                self._out.append(self.chutes.clear(self.now, chute))

    # --- arrivals -------------------------------------------------------------------------
    def _start_arrivals(self, induct: int, rate_per_h: float, rng: np.random.Generator) -> None:
        """Seeded Poisson arrivals of feed items at ``induct`` (``rate_per_h`` items per hour)."""
        self._arrivals[induct] = (3600.0 * NS_PER_S / rate_per_h, rng)
        self._next_arrival(induct, self.now)

    def _next_arrival(self, induct: int, after: int) -> None:
        mean_ns, rng = self._arrivals[induct]
        self._push(after + max(1, round(rng.exponential(mean_ns))), ARRIVAL, induct)

    def _on_arrival(self, induct: int) -> None:
        self._enqueue(induct, self.feed.next_item())
        self._next_arrival(induct, self.now)

    # --- geometry hooks -------------------------------------------------------------------
    def induct(self, now: Instant, item: Item, induct_id: str) -> None:
        """Queue ``item`` at induct ``induct_id`` (KeyError when there is no such induct)."""
        raise NotImplementedError

    def _enqueue(self, induct: int, item: Item) -> None:
        """Put ``item`` in the queue of induct number ``induct`` and wake the induct."""
        raise NotImplementedError

    def _on_slot(self, subject: Any, version: int) -> None:
        raise NotImplementedError

    def _arrival_time(self, parcel: Parcel, position_m: float, after: Instant) -> Instant | None:
        """When ``parcel`` reaches ``position_m`` at or after ``after`` (None: never, inline)."""
        raise NotImplementedError

    def _missed(self, parcel: Parcel, chute: Chute) -> None:
        """``parcel`` reached ``chute`` and could not leave there."""
        raise NotImplementedError

    def _release(self, parcel: Parcel) -> None:
        """Free what ``parcel`` occupied on the conveyor."""

    # --- item life ------------------------------------------------------------------------
    def _placed(self, parcel: Parcel) -> None:
        """Book a freshly inducted parcel and schedule its scan."""
        self.parcels[parcel.item.item_id] = parcel
        self.counts.inducted += 1
        at = self._arrival_time(parcel, self.scanner.position_m, parcel.inducted_at)
        assert at is not None, "every induct lies upstream of the scanner"
        self._push(at, SCAN, parcel, parcel.version)

    def _on_scan(self, parcel: Parcel) -> None:
        if parcel.stage != "to_scan":
            return
        code = self.scanner.read(parcel.item.barcode)
        if code is None:
            self.counts.no_reads += 1
            self._route(parcel, REJECT_CHUTE, "no_read")
            return
        if parcel.chute_id is not None:  # destination given before the scan
            self._route(parcel, parcel.chute_id)
            return
        parcel.stage = "awaiting"
        parcel.deadline = Instant(self.now + self.reply_timeout)
        if self.resolver is not None:
            chute_id = self.resolver(code)
            if chute_id is not None and chute_id in self.chutes:
                self._route(parcel, chute_id)
                return
        self._out.append(DestinationNeeded(self.now, parcel.item.item_id, code, parcel.deadline))
        self._push(parcel.deadline, DEADLINE, parcel, parcel.version)

    def _route(self, parcel: Parcel, chute_id: str, reject_reason: str = "") -> None:
        """Send ``parcel`` to ``chute_id`` from now on."""
        parcel.stage = "routed"
        parcel.chute_id = chute_id
        parcel.reject_reason = reject_reason
        parcel.version += 1
        chute = self.chutes.get(chute_id)
        at = self._arrival_time(parcel, chute.position_m, self.now)
        if at is None:  # inline: the chute is behind the item already
            self._missed(parcel, chute)
            return
        self._push(at, PASS, parcel, parcel.version)

    def _on_pass(self, parcel: Parcel) -> None:
        chute = self.chutes.get(parcel.chute_id or REJECT_CHUTE)
        if chute is self.chutes.reject:
            reason = parcel.reject_reason or "requested"
            self.counts.rejected += 1
            self.counts.rejects_by_reason[reason] = self.counts.rejects_by_reason.get(reason, 0) + 1
            self._finish(parcel, chute, DivertResult.REJECTED, reason)
        elif chute.can_take():
            self.counts.sorted += 1
            self._finish(parcel, chute, DivertResult.SORTED, "")
            if chute.clear_due is not None and chute.fill_items >= chute.capacity_items:
                self._push(chute.clear_due, CLEAR, chute)
        else:
            self._missed(parcel, chute)

    def _finish(self, parcel: Parcel, chute: Chute, result: DivertResult, reason: str) -> None:
        item_id = parcel.item.item_id
        full = self.chutes.discharge(self.now, chute)
        del self.parcels[item_id]
        self._release(parcel)
        self.finished.add(self.now, item_id, chute.chute_id)
        self.finished_total += 1
        self._out.append(Diverted(self.now, item_id, chute.chute_id, result, reason, parcel.recirculations))
        if full is not None:
            self._out.append(full)

    # --- commands -------------------------------------------------------------------------
    def assign(self, now: Instant, item_id: str, chute_id: str) -> AssignVerdict:
        """Give ``item_id`` the destination ``chute_id`` (a reply to DestinationNeeded, or a reassignment).

        Never raises on bad input: the verdict says what happened and the counts record it.
        A reply after the deadline is LATE (the item is already on its way to reject).
        """
        self._process_until(max(now, self.now))
        parcel = self.parcels.get(item_id)
        if parcel is None:
            if item_id in self.finished:
                self.counts.duplicates += 1
                return AssignVerdict.DUPLICATE
            self.counts.unknown_items += 1
            return AssignVerdict.UNKNOWN_ITEM
        if chute_id not in self.chutes:
            self.counts.unknown_chutes += 1
            return AssignVerdict.UNKNOWN_CHUTE
        if parcel.reject_reason == "late_reply":
            return AssignVerdict.LATE
        if parcel.reject_reason:
            self.counts.duplicates += 1
            return AssignVerdict.DUPLICATE
        if parcel.stage == "to_scan":
            parcel.chute_id = chute_id
            return AssignVerdict.ACCEPTED
        if parcel.stage == "awaiting":
            self._route(parcel, chute_id)
            return AssignVerdict.ACCEPTED
        if parcel.chute_id == chute_id:
            self.counts.duplicates += 1
            return AssignVerdict.DUPLICATE
        self.counts.reassigned += 1
        self._route(parcel, chute_id)
        return AssignVerdict.REASSIGNED

    def set_chute_closed(self, now: Instant, chute_id: str, closed: bool) -> bool:
        """Operator closes (or reopens) a chute; False when there is no such chute."""
        if chute_id not in self.chutes:
            return False
        self._process_until(max(now, self.now))
        event = self.chutes.set_closed(self.now, self.chutes.get(chute_id), closed)
        if event is not None:
            self._out.append(event)
        return True

    # --- accounting -----------------------------------------------------------------------
    def check_conservation(self) -> None:
        """Raise :class:`ConservationError` unless every inducted item is in exactly one place."""
        on_line = len(self.parcels)
        in_chutes = self.chutes.in_chutes()
        rejected = self.chutes.reject.received_items
        if self.counts.inducted != on_line + in_chutes + rejected:
            raise ConservationError(
                f"inducted {self.counts.inducted} != on line {on_line} + chutes {in_chutes} "
                f"+ reject {rejected}"
            )
        if self.finished_total != in_chutes + rejected or set(self.finished) & set(self.parcels):
            raise ConservationError("an item is both finished and on the line, or finished twice")
        if self.counts.sorted != in_chutes or self.counts.rejected != rejected:
            raise ConservationError("divert counts disagree with chute contents")
