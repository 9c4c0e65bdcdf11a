"""``SortationPlanner``: the controller side of the sorter protocol.

It answers every ``destinationRequest`` at once (well inside its deadline) with a chute that
serves the item's destination and is open, spreading a destination's items over its chutes. It
tracks chute states from ``chuteState``; when a chute fills or closes it reassigns the items
still heading there to another open chute of the same destination, and when a destination has
no chute left that is not closed it borrows one from the destination with the most chutes.
``divertConfirm`` SORTED becomes an :class:`ItemSorted` event for the order book.

Bad input (unparsable payloads, confirms for items never asked about, repeated confirms,
requests already past their deadline) is counted in :attr:`SortationPlanner.counts` and logged.
No wall clock and no randomness: time comes in as ``now``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from bus.clock import Instant, iso_timestamp, parse_timestamp, seconds
from bus.header import HeaderIds, StaleFilter
from bus.inbox import Inbox, Rejected
from bus.participant import ParticipantBase
from bus.recent import RecentWindow
from bus.sorter_protocol import (
    MAX_PAYLOAD_BYTES,
    MESSAGES,
    ChuteState,
    Connection,
    Destination,
    DestinationRequest,
    DivertConfirm,
    Inducted,
    encode,
    parse_sorter_topic,
    sorter_filter,
    sorter_topic,
)
from bus.topics import SorterTopic, sorter_delivery
from bus.transport import Envelope
from controller.sortation.events import ItemInducted, ItemRejected, ItemSorted, SortationEvent
from controller.sortation.mapping import ChutePlan

log = logging.getLogger("bulletyard.controller.sortation")
REJECT = "reject"
RECENT_DONE_S = 600.0
"""How long a confirmed item id is remembered, to count a redelivered (QoS 1) confirm once: a broker
redelivers within seconds of a reconnect, so ten minutes is ample, and the set stays the size of ten
minutes of sorting instead of growing over a shift."""
RECENT_DONE_ITEMS = 100_000
"""A cap on the remembered ids as well, for a burst faster than any sorter."""
KINDS_READ = ("inducted", "destinationRequest", "divertConfirm", "chuteState", "connection")
"""Sorter messages the planner reads (``inducted`` only to tell orders their units are on the line)."""


@dataclass(frozen=True, slots=True)
class Parcel:
    """What the warehouse system told us about a label."""

    order_id: str | None
    destination: str


@dataclass(slots=True)
class _InFlight:
    sorter_id: str
    destination: str
    chute_id: str
    order_id: str | None
    barcode: str = ""


@dataclass(slots=True)
class PlannerCounts:
    """Requests answered and bad input seen."""

    inducted: int = 0
    requests: int = 0
    answered: int = 0
    expired_requests: int = 0
    unknown_destinations: int = 0
    reassigned: int = 0
    borrowed_chutes: int = 0
    sorted: int = 0
    rejected: int = 0
    recirculated: int = 0
    duplicate_confirms: int = 0
    unknown_confirms: int = 0
    bad_messages: int = 0
    stale_messages: int = 0
    extra: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SorterInbound:
    """A decoded message from a sorter: the topic it came on, the sorter, and its body."""

    topic: str
    sorter_id: str
    body: Inducted | DestinationRequest | DivertConfirm | ChuteState | Connection


class SortationPlanner(ParticipantBase):
    """Destination decisions for every sorter of one site.

    Nothing is time-driven here: replies go out as requests arrive, so ``tick`` and
    ``next_wakeup`` are the participant base's no-ops.

    Args:
        site: topic segment.
        plan: destination -> chutes (see :mod:`controller.sortation.mapping`).
        on_event: optional callback for :class:`ItemSorted` / :class:`ItemRejected` (also kept in
            :attr:`events` until :meth:`take_events`).
    """

    def __init__(self, site: str, plan: ChutePlan, on_event: Callable[[SortationEvent], None] | None = None,
                 strategy: Literal["fill_first", "round_robin"] = "fill_first") -> None:
        self.site = site
        self.strategy = strategy
        self.plan: dict[str, list[str]] = {d: list(c) for d, c in sorted(plan.items())}
        self.on_event = on_event
        self.events: list[SortationEvent] = []
        self.counts = PlannerCounts()
        self.chute_state: dict[tuple[str, str], str] = {}
        self.parcels: dict[str, Parcel] = {}
        self.in_flight: dict[str, _InFlight] = {}
        self.done: RecentWindow[None] = RecentWindow(seconds(RECENT_DONE_S), RECENT_DONE_ITEMS)
        self._turn: dict[str, int] = {}
        self._ids = HeaderIds()
        self._stale = StaleFilter()
        self.connection: dict[str, str] = {}
        self._inbox = Inbox({sorter_filter(site, None, k): MESSAGES[k] for k in KINDS_READ},
                            max_payload_bytes=MAX_PAYLOAD_BYTES)

    # --- set-up ---------------------------------------------------------------------------
    def subscriptions(self) -> list[str]:
        """Topic filters to subscribe to."""
        return [sorter_filter(self.site, None, k) for k in KINDS_READ]

    def register_parcel(self, barcode: str, order_id: str | None, destination: str) -> None:
        """Tell the planner what a label means (from the order book / WMS)."""
        self.parcels[barcode] = Parcel(order_id, destination)

    def adopt(self, sorter_id: str, item_id: str, barcode: str) -> None:
        """An item a previous controller may have answered (recovered from the journal): its
        confirm is credited to ``barcode``'s order; a recirculation gets a fresh chute."""
        if item_id in self.in_flight or item_id in self.done:
            return
        parcel = self.resolve(barcode)
        self.in_flight[item_id] = _InFlight(sorter_id, parcel.destination, "", parcel.order_id, barcode)

    def resolve(self, barcode: str) -> Parcel:
        """Registered parcels first; otherwise the label ``DEST:serial`` names its destination."""
        known = self.parcels.get(barcode)
        return known if known is not None else Parcel(None, barcode.split(":", 1)[0])

    def take_events(self) -> list[SortationEvent]:
        """Sortation events since the last call."""
        out, self.events = self.events, []
        return out

    # --- the agent protocol ---------------------------------------------------------------
    def handle(self, now: Instant, msg: Envelope) -> list[Envelope]:
        """React to one sorter message; never raises on bad input."""
        inbound = self.decode(msg)
        return [] if inbound is None else self.on_message(now, inbound)

    def decode(self, msg: Envelope) -> SorterInbound | None:
        """The typed value of one sorter message; None for a topic not read here or a message
        that does not decode (counted in ``counts.bad_messages``, logged once per reason)."""
        parsed = parse_sorter_topic(msg.topic)
        if parsed is None or parsed[0] != self.site:
            return None
        _, sorter_id, kind = parsed
        if kind not in KINDS_READ:
            return None
        body = self._inbox.decode(msg)
        if isinstance(body, Rejected):  # counted by reason and logged once per reason by the inbox
            self.counts.bad_messages += 1
            return None
        if body.sorter_id != sorter_id:
            self.counts.bad_messages += 1
            log.warning("%s: sorterId %r does not match the topic", msg.topic, body.sorter_id)
            return None
        return SorterInbound(msg.topic, sorter_id, body)

    def on_message(self, now: Instant, inbound: SorterInbound) -> list[Envelope]:
        """Act on one decoded sorter message."""
        topic, sorter_id, body = inbound.topic, inbound.sorter_id, inbound.body
        if isinstance(body, Connection):
            if body.connection_state == "ONLINE":  # a restarted sorter counts header ids from 0 again
                self._stale.reset(sorter_id)
            self.connection[sorter_id] = body.connection_state
            return []
        if not self._stale.accept(topic, sorter_id, body.header_id):
            self.counts.stale_messages += 1
            return []
        if isinstance(body, DestinationRequest):
            return self._on_request(now, sorter_id, body)
        if isinstance(body, DivertConfirm):
            return self._on_confirm(now, sorter_id, body)
        if isinstance(body, Inducted):
            return self._on_inducted(now, sorter_id, body)
        assert isinstance(body, ChuteState)
        return self._on_chute(now, sorter_id, body)

    # --- decisions ------------------------------------------------------------------------
    def _usable(self, sorter_id: str, chute_id: str) -> bool:
        return self.chute_state.get((sorter_id, chute_id), "OPEN") == "OPEN"

    def choose(self, sorter_id: str, destination: str, avoid: str | None = None) -> str | None:
        """An open chute for ``destination``, or None when none is open.

        ``fill_first`` sends a destination's items to its first open chute until that one is full,
        so its chutes fill one after another and a packer clears one while the next fills;
        ``round_robin`` spreads items evenly, so all of them fill (and block) at about the same time.
        """
        chutes = self.plan.get(destination)
        if not chutes:
            return None
        start = self._turn.get(destination, 0) if self.strategy == "round_robin" else 0
        for k in range(len(chutes)):
            chute = chutes[(start + k) % len(chutes)]
            if chute != avoid and self._usable(sorter_id, chute):
                self._turn[destination] = start + k + 1
                return chute
        return None

    def _on_inducted(self, now: Instant, sorter_id: str, msg: Inducted) -> list[Envelope]:
        """An item went on the line: an event for its order (when the label is one we know)."""
        self.counts.inducted += 1
        parcel = self.parcels.get(msg.barcode)
        order_id = parcel.order_id if parcel else None
        self._emit(ItemInducted(now, sorter_id, msg.item_id, order_id, msg.barcode))
        return []

    def _emit(self, event: SortationEvent) -> None:
        self.events.append(event)
        if self.on_event is not None:
            self.on_event(event)

    def _on_request(self, now: Instant, sorter_id: str, req: DestinationRequest) -> list[Envelope]:
        self.counts.requests += 1
        try:
            deadline = parse_timestamp(req.deadline)
        except ValueError:
            self.counts.bad_messages += 1
            return []
        if now > deadline:
            self.counts.expired_requests += 1
            log.warning("%s: request for %s arrived after its deadline", sorter_id, req.item_id)
            return []
        parcel = self.resolve(req.barcode)
        chute = self.choose(sorter_id, parcel.destination)
        if chute is None:
            chute = self._borrow(sorter_id, parcel.destination)
        if chute is None:
            if parcel.destination not in self.plan:
                self.counts.unknown_destinations += 1
            chute = self.plan.get(parcel.destination, [REJECT])[0]
        self.in_flight[req.item_id] = _InFlight(
            sorter_id, parcel.destination, chute, parcel.order_id, req.barcode
        )
        self.counts.answered += 1
        return [self._destination(now, sorter_id, req.item_id, chute)]

    def _borrow(self, sorter_id: str, destination: str) -> str | None:
        """Every chute of ``destination`` is closed: take one from the richest other destination."""
        mine = self.plan.get(destination)
        if not mine or any(self.chute_state.get((sorter_id, c), "OPEN") != "CLOSED" for c in mine):
            return None
        donors = sorted((d for d in self.plan if d != destination and len(self.plan[d]) > 1),
                        key=lambda d: (-len(self.plan[d]), d))
        for donor in donors:
            for chute in self.plan[donor]:
                if self._usable(sorter_id, chute):
                    self.plan[donor].remove(chute)
                    mine.insert(0, chute)
                    self.counts.borrowed_chutes += 1
                    log.info("chute %s moves from %s to %s", chute, donor, destination)
                    return chute
        return None

    def _on_confirm(self, now: Instant, sorter_id: str, msg: DivertConfirm) -> list[Envelope]:
        item = msg.item_id
        flight = self.in_flight.get(item)
        if item in self.done:
            self.counts.duplicate_confirms += 1
            log.warning("%s: repeated divertConfirm for %s ignored", sorter_id, item)
            return []
        if msg.result == "RECIRCULATED":
            self.counts.recirculated += 1
            return self._reassign(now, flight, item, msg.chute_id) if flight else []
        self.in_flight.pop(item, None)
        self.done.add(now, item, None)
        if flight is None and msg.result == "SORTED":  # rejects of unread items were never asked about
            self.counts.unknown_confirms += 1
        order_id = flight.order_id if flight else None
        at = parse_timestamp(msg.timestamp)
        event: SortationEvent
        if msg.result == "SORTED":
            self.counts.sorted += 1
            label = flight.barcode if flight else None
            event = ItemSorted(at, sorter_id, item, order_id, msg.chute_id, label)
        else:
            self.counts.rejected += 1
            event = ItemRejected(at, sorter_id, item, order_id, msg.reason or msg.result.lower())
        self._emit(event)
        return []

    def _on_chute(self, now: Instant, sorter_id: str, msg: ChuteState) -> list[Envelope]:
        self.chute_state[(sorter_id, msg.chute_id)] = msg.state
        if msg.state == "OPEN":
            return []
        out = []
        for item in sorted(i for i, f in self.in_flight.items()
                           if f.sorter_id == sorter_id and f.chute_id == msg.chute_id):
            out += self._reassign(now, self.in_flight[item], item, msg.chute_id)
        return out

    def _reassign(self, now: Instant, flight: _InFlight, item: str, from_chute: str) -> list[Envelope]:
        chute = self.choose(flight.sorter_id, flight.destination, avoid=from_chute)
        if chute is None:
            chute = self._borrow(flight.sorter_id, flight.destination)
        if chute is None or chute == flight.chute_id:
            return []
        flight.chute_id = chute
        self.counts.reassigned += 1
        return [self._destination(now, flight.sorter_id, item, chute)]

    def _destination(self, now: Instant, sorter_id: str, item_id: str, chute_id: str) -> Envelope:
        topic = sorter_topic(self.site, sorter_id, "destination")
        msg = Destination(header_id=self._ids.next(topic), timestamp=iso_timestamp(now), sorter_id=sorter_id,
                          item_id=item_id, chute_id=chute_id)
        return Envelope(topic, encode(msg), *sorter_delivery(SorterTopic.DESTINATION))
