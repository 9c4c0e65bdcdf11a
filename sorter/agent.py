"""``SorterAgent``: the sorter model on the bus, speaking the sorter protocol.

A pure core like every agent in bulletyard: ``handle(now, envelope)`` and ``tick(now)`` return the
envelopes to publish, ``next_wakeup()`` says when the model next has something to do, ``will()``
is the last will and ``on_connect(now)`` the retained ONLINE connection plus a snapshot of every
chute. Inbound payloads are size-capped and validated here; bad ones are counted and logged,
never raised. A destination that comes after its deadline leaves the item on its way to reject
(the model's deadline fired first) and is counted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bus.clock import Duration, Instant, iso_timestamp, seconds
from bus.header import HeaderIds, StaleFilter
from bus.inbox import Inbox, Rejected
from bus.sorter_protocol import (
    MAX_PAYLOAD_BYTES,
    MESSAGES,
    Counters,
    Destination,
    encode,
    sorter_topic,
)
from bus.topics import sorter_delivery
from bus.transport import Envelope
from sorter.core import SorterCore
from sorter.events import (
    AssignVerdict,
    ChuteChanged,
    ChuteStatus,
    DestinationNeeded,
    Diverted,
    Inducted,
    Item,
    SorterEvent,
)

log = logging.getLogger("bulletyard.sorter")
_STATE_PERIOD = seconds(5.0)


class SorterAgent:
    """One sorter on the bus.

    Args:
        sorter_id: topic segment and ``sorterId`` in every header.
        site: topic segment naming the site.
        model: a :class:`sorter.loop.LoopSorter` or :class:`sorter.inline.InlineSorter`.
        state_period: how often ``state`` is published (nanoseconds).
    """

    def __init__(self, sorter_id: str, site: str, model: SorterCore, *,
                 state_period: Duration = _STATE_PERIOD) -> None:
        self.sorter_id = sorter_id
        self.site = site
        self.model = model
        self.state_period = state_period
        self._ids = HeaderIds()
        self._stale = StaleFilter()
        self._next_state: Instant | None = None
        self.bad_messages = 0
        self.replies_after_deadline = 0
        self.stale_replies = 0
        self.verdicts: dict[AssignVerdict, int] = {}
        self._destination_topic = sorter_topic(site, sorter_id, "destination")
        self._inbox = Inbox({self._destination_topic: Destination}, max_payload_bytes=MAX_PAYLOAD_BYTES)

    # --- the agent protocol ---------------------------------------------------------------
    def subscriptions(self) -> list[str]:
        """Topic filters the runner subscribes this agent to."""
        return [self._destination_topic]

    def will(self) -> Envelope:
        """CONNECTIONBROKEN, retained: the broker publishes it if this sorter drops off the bus."""
        return self._connection(self.model.now, "CONNECTIONBROKEN")

    def on_connect(self, now: Instant) -> list[Envelope]:
        """Retained ONLINE, every chute's state, and the sorter state."""
        out = [self._connection(now, "ONLINE")]
        chutes = self.model.chutes
        out += [self._chute_envelope(chutes.snapshot(now, chutes.get(c))) for c in chutes.destination_ids()]
        out.append(self._state(now))
        self._next_state = Instant(now + self.state_period)
        return out

    def shutdown(self, now: Instant) -> list[Envelope]:
        """OFFLINE, retained: a clean stop."""
        return [self._connection(now, "OFFLINE")]

    def handle(self, now: Instant, msg: Envelope) -> list[Envelope]:
        """Apply an inbound ``destination``; anything else is counted and ignored."""
        out = self._advance(now)
        if msg.topic != self._destination_topic:  # not ours (a wide subscription): ignore
            return out
        reply = self._inbox.decode(msg, now)
        if isinstance(reply, Rejected):  # counted by reason and logged once per reason by the inbox
            self.bad_messages += 1
            return out
        assert isinstance(reply, Destination)
        if reply.sorter_id != self.sorter_id:
            self._bad(msg.topic, f"sorterId {reply.sorter_id!r} on this sorter's topic")
            return out
        if reply.header_id == 0:  # the controller (re)started and counts from 0 again
            self._stale.reset("controller")
        if not self._stale.accept(msg.topic, "controller", reply.header_id):
            log.info("%s: stale or repeated headerId %d dropped", self.sorter_id, reply.header_id)
            self._count(AssignVerdict.DUPLICATE)
            self.stale_replies += 1
            return out
        verdict = self.model.assign(now, reply.item_id, reply.chute_id)
        self._count(verdict)
        if verdict is AssignVerdict.LATE:
            self.replies_after_deadline += 1
        if verdict not in (AssignVerdict.ACCEPTED, AssignVerdict.REASSIGNED):
            # the first of each kind is a warning, the rest debug: a slow controller must not flood the log
            level = logging.WARNING if self.verdicts[verdict] == 1 else logging.DEBUG
            log.log(level, "%s: destination %s -> %s: %s (counted)", self.sorter_id, reply.item_id,
                    reply.chute_id, verdict.value)
        return out + self._advance(now)

    def tick(self, now: Instant) -> list[Envelope]:
        """Run the model up to ``now`` and publish what happened (and the periodic state)."""
        out = self._advance(now)
        if self._next_state is not None and now >= self._next_state:
            out.append(self._state(now))
            self._next_state = Instant(now + self.state_period)
        return out

    def next_wakeup(self) -> Instant | None:
        """The earlier of the model's next event and the next state report."""
        times = [t for t in (self.model.next_event_time(), self._next_state) if t is not None]
        return min(times) if times else None

    # --- feeding --------------------------------------------------------------------------
    def induct(self, now: Instant, item: Item, induct_id: str) -> list[Envelope]:
        """Offer ``item`` at ``induct_id``; returns what happened up to ``now``."""
        self.model.induct(now, item, induct_id)
        return self._advance(now)

    def close_chute(self, now: Instant, chute_id: str, closed: bool = True) -> list[Envelope]:
        """Operator closes (or reopens) a chute."""
        if not self.model.set_chute_closed(now, chute_id, closed):
            log.warning("%s: no chute %r to close", self.sorter_id, chute_id)
        return self._advance(now)

    # --- mapping events to messages -------------------------------------------------------
    def _advance(self, now: Instant) -> list[Envelope]:
        events = self.model.advance_to(now) if now >= self.model.now else self.model.take_events()
        return self._to_envelopes(events)

    def _to_envelopes(self, events: Iterable[SorterEvent]) -> list[Envelope]:
        out = []
        for e in events:
            if isinstance(e, Inducted):
                out.append(self._envelope(e.at, "inducted", item_id=e.item_id, barcode=e.barcode,
                                          induct_id=e.induct_id, carriers=list(e.carriers)))
            elif isinstance(e, DestinationNeeded):
                out.append(self._envelope(e.at, "destinationRequest", item_id=e.item_id, barcode=e.barcode,
                                          deadline=iso_timestamp(e.deadline)))
            elif isinstance(e, Diverted):
                out.append(self._envelope(e.at, "divertConfirm", item_id=e.item_id, chute_id=e.chute_id,
                                          result=e.result.value, reason=e.reason,
                                          recirculations=e.recirculations))
            elif isinstance(e, ChuteChanged):
                out.append(self._chute_envelope(e))
        return out

    def _chute_envelope(self, e: ChuteChanged) -> Envelope:
        return self._envelope(e.at, "chuteState", chute_id=e.chute_id, state=e.status.value,
                              fill_items=e.fill_items, capacity_items=e.capacity_items)

    def _envelope(self, at: Instant, kind: str, **fields: object) -> Envelope:
        """Build, validate and encode one message (every message we send is schema-valid)."""
        topic = sorter_topic(self.site, self.sorter_id, kind)
        message = MESSAGES[kind](header_id=self._ids.next(topic), timestamp=iso_timestamp(at),
                                 sorter_id=self.sorter_id, **fields)
        qos, retain = sorter_delivery(kind)
        return Envelope(topic, encode(message), qos, retain)

    def _connection(self, at: Instant, state: str) -> Envelope:
        return self._envelope(at, "connection", connection_state=state)

    def counters(self) -> Counters:
        """The model's counts plus this agent's bad-input counts."""
        c = self.model.counts
        return Counters(inducted=c.inducted, sorted=c.sorted, rejected=c.rejected,
                        recirculated=c.recirculated, no_reads=c.no_reads, late_replies=c.late_replies,
                        replies_after_deadline=self.replies_after_deadline,
                        lap_limit_rejects=c.lap_limit_rejects, reassigned=c.reassigned,
                        duplicate_replies=c.duplicates + self.stale_replies,
                        unknown_item_replies=c.unknown_items, unknown_chute_replies=c.unknown_chutes,
                        bad_messages=self.bad_messages)

    def _state(self, now: Instant) -> Envelope:
        statuses = [self.model.chutes.get(c).status for c in self.model.chutes.destination_ids()]
        return self._envelope(now, "state", items_on_line=len(self.model.parcels),
                              chutes_open=statuses.count(ChuteStatus.OPEN),
                              chutes_full=statuses.count(ChuteStatus.FULL),
                              chutes_closed=statuses.count(ChuteStatus.CLOSED), counters=self.counters())

    def _count(self, verdict: AssignVerdict) -> None:
        self.verdicts[verdict] = self.verdicts.get(verdict, 0) + 1

    def _bad(self, topic: str, why: str) -> None:
        self.bad_messages += 1
        log.warning("%s: bad message on %s: %s", self.sorter_id, topic, why)
