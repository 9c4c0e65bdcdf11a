"""``InProcTransport``: the bus in one process, with MQTT semantics and deterministic delivery.

One :class:`InProcBroker` stands in for Mosquitto; ``broker.client(client_id)`` gives each
participant its own :class:`InProcTransport`. Publishing appends to the subscribers' inbound
queues at once and in order, so a single-threaded simulation sees exactly the same sequence for
the same inputs. What it keeps from MQTT: ``+``/``#`` filters (:mod:`bus.topicmatch`), retained
messages (an empty retained payload clears), the last will on an unclean close, QoS 0/1 order per
publisher, and persistent sessions (``clean_session=False`` keeps subscriptions and queues QoS 1
messages while the client is away).

Faults (:mod:`bus.faults`) are drawn from the seeded generator. Delayed messages wait in the
broker with a due instant on the simulated clock: the sim runner asks :meth:`InProcBroker.next_due`
when to wake and calls :meth:`InProcBroker.advance_to` to release them.

Not thread-safe by design: one runner thread owns the broker and all its clients, and
:meth:`InProcTransport.wait` never blocks (nothing else could deliver while it waited).
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from bus.clock import SIM_EPOCH, Instant, seconds
from bus.faults import NO_FAULT, FaultDecision, FaultRule, decide
from bus.inproc_client import InProcTransport
from bus.topicmatch import check_topic_name, topic_matches
from bus.transport import Envelope, NotConnectedError

log = logging.getLogger(__name__)

__all__ = ["BrokerCounters", "InProcBroker", "InProcTransport", "NotConnectedError"]


@dataclass(slots=True)
class BrokerCounters:
    """What the in-process broker did, for tests and fault-injection reports (message copies)."""

    published: int = 0
    delivered: int = 0
    dropped_offline: int = 0
    lost: int = 0
    duplicated: int = 0
    reordered: int = 0
    delayed: int = 0
    wills: int = 0


class _Session:
    """Broker-side state of one client id: subscriptions, the live connection, queued QoS 1."""

    __slots__ = ("client_id", "subs", "persistent", "transport", "pending", "held")

    def __init__(self, client_id: str, persistent: bool) -> None:
        self.client_id = client_id
        self.subs: dict[str, int] = {}
        self.persistent = persistent
        self.transport: InProcTransport | None = None
        self.pending: list[Envelope] = []
        self.held: Envelope | None = None


class _SubscriptionIndex:
    """Every session's filters, split into exact topics (a dict lookup) and wildcard filters (few:
    the controller's and observers' ``+``/``#`` filters), and each session's rank in session order."""

    def __init__(self, sessions: Iterable[_Session]) -> None:
        self.rank: dict[_Session, int] = {}
        self.exact: dict[str, list[tuple[_Session, int]]] = {}
        wild: dict[str, list[tuple[_Session, int]]] = {}
        for k, session in enumerate(sessions):
            self.rank[session] = k
            for topic_filter, qos in session.subs.items():
                bucket = wild if ("+" in topic_filter or "#" in topic_filter) else self.exact
                bucket.setdefault(topic_filter, []).append((session, qos))
        self.wild = tuple(wild.items())


class InProcBroker:
    """A deterministic in-memory MQTT broker.

    Args:
        rng: the generator fault rules draw from (required when ``faults`` is not empty).
        faults: rules applied per delivered copy, first matching rule wins.
        start: the simulated instant the broker's clock starts at (for latency faults).
    """

    def __init__(
        self,
        rng: np.random.Generator | None = None,
        faults: Iterable[FaultRule] = (),
        start: Instant = SIM_EPOCH,
    ) -> None:
        self._faults = tuple(faults)
        if self._faults and rng is None:
            raise ValueError("fault injection needs a seeded numpy.random.Generator (rng=...)")
        self._rng = rng
        self._now = Instant(int(start))
        self._sessions: dict[str, _Session] = {}
        self._retained: dict[str, Envelope] = {}
        self._routes: dict[str, tuple[tuple[_Session, int], ...]] = {}
        self._index: _SubscriptionIndex | None = None  # rebuilt after any subscription change
        self._rule_cache: dict[str, FaultRule | None] = {}
        self._delayed: list[tuple[int, int, str, Envelope, bool, tuple[str, str, str]]] = []
        self._seq = 0
        self._last_due: dict[tuple[str, str, str], int] = {}
        self._waiting: dict[tuple[str, str, str], int] = {}
        self._holding: dict[str, _Session] = {}  # sessions with a held-back (reordered) copy
        self.counters = BrokerCounters()

    # -- clients and time -------------------------------------------------------------------

    def client(self, client_id: str, *, clean_session: bool = True) -> InProcTransport:
        """A new (not yet connected) transport for ``client_id`` on this broker."""
        return InProcTransport(self, client_id, clean_session=clean_session)

    @property
    def now(self) -> Instant:
        """The broker's simulated instant."""
        return self._now

    def next_due(self) -> Instant | None:
        """When the next delayed or held-back message is due, or None when nothing waits."""
        if self._holding:
            return self._now
        if self._delayed:
            return Instant(self._delayed[0][0])
        return None

    def advance_to(self, instant: Instant) -> int:
        """Move the simulated clock to ``instant``; deliver what is due. Returns copies released."""
        if instant < self._now:
            raise ValueError(
                f"the bus clock never goes backwards ({instant} < {self._now}); "
                "start the broker at the simulation's start: InProcBroker(start=...)"
            )
        self._now = Instant(int(instant))
        released = 0
        while self._delayed and self._delayed[0][0] <= self._now:
            _, _, client_id, message, reorder, key = heapq.heappop(self._delayed)
            left = self._waiting[key] - 1
            if left:
                self._waiting[key] = left
            else:
                del self._waiting[key]
            session = self._sessions.get(client_id)
            if session is not None:
                self._deliver_now(session, message, reorder)
                released += 1
        holding, self._holding = self._holding, {}
        for session in holding.values():
            if session.held is not None:
                held, session.held = session.held, None
                self._deliver(session, held)
                released += 1
        return released

    def restart(self, *, persistence: bool = False) -> None:
        """Simulate a broker restart: every client is cut off, then reconnects and resubscribes.

        Without ``persistence`` the broker forgets sessions, retained messages and messages in
        flight, as Mosquitto with ``persistence false`` does; no will is sent (the broker, not the
        clients, went away). Clients reconnect at once, which stands in for their back-off.
        """
        online = [s.transport for s in self._sessions.values() if s.transport is not None]
        for transport in online:
            transport._session = None
        if persistence:
            for session in self._sessions.values():
                session.transport = None
        else:
            self._sessions.clear()
            self._holding.clear()
            self._retained.clear()
            self._delayed.clear()
            self._last_due.clear()
            self._waiting.clear()
        self._subscriptions_changed()
        for transport in online:
            transport.connect(transport._will)

    def retained(self) -> dict[str, Envelope]:
        """A copy of the retained store, topic -> message."""
        return dict(self._retained)

    # -- called by InProcTransport ----------------------------------------------------------

    def _attach(self, transport: InProcTransport, clean_session: bool) -> _Session:
        session = self._sessions.get(transport.client_id)
        if session is not None and session.transport is not None:
            log.info("client id %s taken over: dropping the older connection", transport.client_id)
            session.transport._drop_by_broker()
            session = self._sessions.get(transport.client_id)
        if session is None or clean_session or not session.persistent:
            session = _Session(transport.client_id, persistent=not clean_session)
            self._sessions[transport.client_id] = session
            self._subscriptions_changed()
        session.transport = transport
        pending, session.pending = session.pending, []
        for message in pending:
            transport._queue(message)
        self.counters.delivered += len(pending)
        return session

    def _detach(self, session: _Session, will: Envelope | None) -> None:
        session.transport = None
        if session.held is not None:
            held, session.held = session.held, None
            self._holding.pop(session.client_id, None)
            self._deliver(session, held)
        if not session.persistent:
            if self._sessions.get(session.client_id) is session:
                del self._sessions[session.client_id]
            self._subscriptions_changed()
        if will is not None:
            self.counters.wills += 1
            self._publish(session.client_id, will.topic, will.payload, will.qos, will.retain)

    def _subscribe(self, session: _Session, topic_filter: str, qos: int) -> None:
        session.subs[topic_filter] = qos
        self._subscriptions_changed()
        for topic in sorted(self._retained):
            if topic_matches(topic_filter, topic):
                stored = self._retained[topic]
                self._deliver(session, Envelope(topic, stored.payload, min(stored.qos, qos), True))

    def _unsubscribe(self, session: _Session, topic_filter: str) -> None:
        session.subs.pop(topic_filter, None)
        self._subscriptions_changed()

    def _route(self, topic: str) -> tuple[tuple[_Session, int], ...]:
        """The sessions a message on ``topic`` goes to, with the best QoS of their matching filters,
        in session order (the order is part of determinism).

        Why an index: asking every session's every filter cost sessions x filters per new topic,
        which at 500 vehicles (each with its own order topic) made connecting the fleet quadratic.
        Exact filters are looked up; only the few wildcard filters are matched.
        """
        check_topic_name(topic)
        if self._index is None:
            self._index = _SubscriptionIndex(self._sessions.values())
        index = self._index
        best: dict[_Session, int] = {}
        for session, qos in index.exact.get(topic, ()):
            if qos > best.get(session, -1):
                best[session] = qos
        for topic_filter, members in index.wild:
            if topic_matches(topic_filter, topic):
                for session, qos in members:
                    if qos > best.get(session, -1):
                        best[session] = qos
        rank = index.rank
        routes = tuple(sorted(best.items(), key=lambda item: rank[item[0]]))
        self._routes[topic] = routes
        return routes

    def _subscriptions_changed(self) -> None:
        self._routes.clear()
        self._index = None

    def _publish(self, sender: str, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        routes = self._routes.get(topic)
        if routes is None:
            routes = self._route(topic)
        self.counters.published += 1
        if retain:
            if payload:
                self._retained[topic] = Envelope(topic, payload, qos, True)
            else:
                self._retained.pop(topic, None)
        if not routes:
            return
        # Copies are immutable, so subscribers share one Envelope per delivered QoS level.
        message = Envelope(topic, payload, qos, False)
        downgraded: Envelope | None = None
        faults = bool(self._faults)
        for session, sub_qos in routes:
            copy = message
            if sub_qos < qos:
                if downgraded is None:
                    downgraded = Envelope(topic, payload, sub_qos, False)
                copy = downgraded
            if faults:
                self._deliver_faulty(sender, session, copy, self._decide(copy))
                continue
            transport = session.transport
            if transport is not None and session.held is None:  # the hot path: straight into the queue
                transport._queue(copy)
                self.counters.delivered += 1
            else:
                self._deliver(session, copy)

    def _decide(self, message: Envelope) -> FaultDecision:
        topic = message.topic
        if topic in self._rule_cache:
            rule = self._rule_cache[topic]
        else:
            rule = next((r for r in self._faults if r.matches(topic)), None)
            self._rule_cache[topic] = rule
        if rule is None:
            return NO_FAULT
        assert self._rng is not None  # the constructor refuses fault rules without a generator
        return decide(rule, message.qos, self._rng)

    def _deliver_faulty(self, sender: str, session: _Session, message: Envelope, fate: FaultDecision) -> None:
        if fate.drop:
            self.counters.lost += 1
            return
        if fate.copies > 1:
            self.counters.duplicated += fate.copies - 1
        key = (sender, session.client_id, message.topic)
        if fate.delay_s > 0 or key in self._waiting:
            # Never overtake an earlier, still delayed message of this publisher on this topic.
            due = max(int(self._now) + seconds(fate.delay_s), self._last_due.get(key, 0))
            self._last_due[key] = due
            for _ in range(fate.copies):
                self._seq += 1
                self.counters.delayed += 1
                self._waiting[key] = self._waiting.get(key, 0) + 1
                heapq.heappush(self._delayed, (due, self._seq, session.client_id, message, fate.reorder, key))
            return
        for _ in range(fate.copies):
            self._deliver_now(session, message, fate.reorder)

    def _deliver_now(self, session: _Session, message: Envelope, reorder: bool) -> None:
        if reorder and session.held is None and session.transport is not None:
            session.held = message
            self._holding[session.client_id] = session
            self.counters.reordered += 1
            return
        self._deliver(session, message)

    def _deliver(self, session: _Session, message: Envelope) -> None:
        transport = session.transport
        if transport is not None:
            transport._queue(message)
            self.counters.delivered += 1
            if session.held is not None:
                held, session.held = session.held, None
                self._holding.pop(session.client_id, None)
                transport._queue(held)
                self.counters.delivered += 1
        elif session.persistent and message.qos >= 1:
            session.pending.append(message)
        else:
            self.counters.dropped_offline += 1
