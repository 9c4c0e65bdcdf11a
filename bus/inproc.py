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
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from bus.clock import SIM_EPOCH, Instant, seconds
from bus.faults import NO_FAULT, FaultDecision, FaultRule, decide
from bus.handlers import HandlerTable, as_payload, check_qos
from bus.topicmatch import check_topic_filter, check_topic_name, topic_matches
from bus.transport import Envelope, Handler

log = logging.getLogger(__name__)


class NotConnectedError(RuntimeError):
    """Publishing or subscribing on a transport that is not connected."""


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
        self._rule_cache: dict[str, FaultRule | None] = {}
        self._delayed: list[tuple[int, int, str, Envelope, bool]] = []
        self._seq = 0
        self._last_due: dict[tuple[str, str], int] = {}
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
        if any(s.held is not None for s in self._sessions.values()):
            return self._now
        if self._delayed:
            return Instant(self._delayed[0][0])
        return None

    def advance_to(self, instant: Instant) -> int:
        """Move the simulated clock to ``instant``; deliver what is due. Returns copies released."""
        if instant < self._now:
            raise ValueError(f"the bus clock never goes backwards ({instant} < {self._now})")
        self._now = Instant(int(instant))
        released = 0
        while self._delayed and self._delayed[0][0] <= self._now:
            _, _, client_id, message, reorder = heapq.heappop(self._delayed)
            session = self._sessions.get(client_id)
            if session is not None:
                self._deliver_now(session, message, reorder)
                released += 1
        for session in self._sessions.values():
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
            self._retained.clear()
            self._delayed.clear()
            self._last_due.clear()
        self._routes.clear()
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
            self._routes.clear()
        session.transport = transport
        pending, session.pending = session.pending, []
        transport._inbox.extend(pending)
        self.counters.delivered += len(pending)
        return session

    def _detach(self, session: _Session, will: Envelope | None) -> None:
        session.transport = None
        if session.held is not None:
            held, session.held = session.held, None
            self._deliver(session, held)
        if not session.persistent:
            if self._sessions.get(session.client_id) is session:
                del self._sessions[session.client_id]
            self._routes.clear()
        if will is not None:
            self.counters.wills += 1
            self._publish(session.client_id, will.topic, will.payload, will.qos, will.retain)

    def _subscribe(self, session: _Session, topic_filter: str, qos: int) -> None:
        session.subs[topic_filter] = qos
        self._routes.clear()
        for topic in sorted(self._retained):
            if topic_matches(topic_filter, topic):
                stored = self._retained[topic]
                self._deliver(session, Envelope(topic, stored.payload, min(stored.qos, qos), True))

    def _unsubscribe(self, session: _Session, topic_filter: str) -> None:
        session.subs.pop(topic_filter, None)
        self._routes.clear()

    def _route(self, topic: str) -> tuple[tuple[_Session, int], ...]:
        check_topic_name(topic)
        found = []
        for session in self._sessions.values():
            best = -1
            for topic_filter, qos in session.subs.items():
                if qos > best and topic_matches(topic_filter, topic):
                    best = qos
            if best >= 0:
                found.append((session, best))
        routes = tuple(found)
        self._routes[topic] = routes
        return routes

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
        at_qos = (Envelope(topic, payload, 0, False), Envelope(topic, payload, qos, False))
        if not self._faults:
            for session, sub_qos in routes:
                self._deliver(session, at_qos[1 if sub_qos >= qos else 0])
            return
        for session, sub_qos in routes:
            message = at_qos[1 if sub_qos >= qos else 0]
            self._deliver_faulty(sender, session, message, self._decide(message))

    def _decide(self, message: Envelope) -> FaultDecision:
        topic = message.topic
        if topic in self._rule_cache:
            rule = self._rule_cache[topic]
        else:
            rule = next((r for r in self._faults if r.matches(topic)), None)
            self._rule_cache[topic] = rule
        if rule is None:
            return NO_FAULT
        return decide(rule, message.qos, self._rng)

    def _deliver_faulty(self, sender: str, session: _Session, message: Envelope, fate: FaultDecision) -> None:
        if fate.drop:
            self.counters.lost += 1
            return
        if fate.copies > 1:
            self.counters.duplicated += fate.copies - 1
        if fate.delay_s > 0:
            key = (sender, session.client_id)
            due = max(int(self._now) + seconds(fate.delay_s), self._last_due.get(key, 0))
            self._last_due[key] = due
            for _ in range(fate.copies):
                self._seq += 1
                self.counters.delayed += 1
                heapq.heappush(self._delayed, (due, self._seq, session.client_id, message, fate.reorder))
            return
        for _ in range(fate.copies):
            self._deliver_now(session, message, fate.reorder)

    def _deliver_now(self, session: _Session, message: Envelope, reorder: bool) -> None:
        if reorder and session.held is None and session.transport is not None:
            session.held = message
            self.counters.reordered += 1
            return
        self._deliver(session, message)

    def _deliver(self, session: _Session, message: Envelope) -> None:
        transport = session.transport
        if transport is not None:
            transport._inbox.append(message)
            self.counters.delivered += 1
            if session.held is not None:
                held, session.held = session.held, None
                transport._inbox.append(held)
                self.counters.delivered += 1
        elif session.persistent and message.qos >= 1:
            session.pending.append(message)
        else:
            self.counters.dropped_offline += 1


class InProcTransport:
    """One client of an :class:`InProcBroker`; implements :class:`bus.transport.Transport`.

    Args:
        broker: the broker it talks to.
        client_id: unique per participant; reusing one takes the session over.
        clean_session: False keeps subscriptions and QoS 1 messages across a disconnect.
    """

    def __init__(self, broker: InProcBroker, client_id: str, *, clean_session: bool = True) -> None:
        if not client_id:
            raise ValueError("client_id must not be empty")
        self.client_id = client_id
        self.clean_session = clean_session
        self._broker = broker
        self._inbox: deque[Envelope] = deque()
        self._table = HandlerTable()
        self._session: _Session | None = None
        self._will: Envelope | None = None

    @property
    def connected(self) -> bool:
        """True between :meth:`connect` and :meth:`close`."""
        return self._session is not None

    def connect(self, will: Envelope | None = None) -> None:
        """Connect, registering ``will``; resubscribes the filters this object already holds."""
        if self._session is not None:
            raise RuntimeError(f"{self.client_id} is already connected")
        if will is not None:
            check_topic_name(will.topic)
            check_qos(will.qos)
        self._will = will
        self._session = self._broker._attach(self, self.clean_session)
        for topic_filter, qos in self._table.filters():
            self._broker._subscribe(self._session, topic_filter, qos)

    def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> None:
        """Publish; delivery into subscribers' queues happens before this returns (faults aside)."""
        if self._session is None:
            raise NotConnectedError(f"{self.client_id}: publish to {topic!r} while not connected")
        if qos != 0 and qos != 1:
            check_qos(qos)
        if type(payload) is not bytes:
            payload = as_payload(payload)
        self._broker._publish(self.client_id, topic, payload, qos, retain)

    def subscribe(self, topic_filter: str, handler: Handler | None = None, qos: int = 0) -> None:
        """Subscribe; matching retained messages are queued at once."""
        check_qos(qos)
        check_topic_filter(topic_filter)
        self._table.add(topic_filter, qos, handler)
        if self._session is not None:
            self._broker._subscribe(self._session, topic_filter, qos)

    def unsubscribe(self, topic_filter: str) -> None:
        """Stop receiving ``topic_filter`` (already queued messages stay queued)."""
        self._table.remove(topic_filter)
        if self._session is not None:
            self._broker._unsubscribe(self._session, topic_filter)

    def drain(self, max_messages: int | None = None) -> list[Envelope]:
        """Take queued inbound messages, oldest first."""
        inbox = self._inbox
        if max_messages is None or max_messages >= len(inbox):
            taken = list(inbox)
            inbox.clear()
            return taken
        return [inbox.popleft() for _ in range(max_messages)]

    def dispatch(self, max_messages: int | None = None) -> int:
        """Drain and call the handlers of the matching filters on this thread."""
        return self._table.dispatch(self.drain(max_messages))

    def wait(self, timeout_s: float) -> bool:
        """True if a message is queued. Never blocks: only this thread could deliver one."""
        return bool(self._inbox)

    def pending(self) -> int:
        """How many inbound messages are queued."""
        return len(self._inbox)

    def flush(self, timeout_s: float = 0.0) -> bool:
        """Every publish is already handed to the broker: always True (API parity with MQTT)."""
        return True

    def wait_ready(self, timeout_s: float = 0.0) -> bool:
        """True when connected with all subscriptions in place (immediate in-process)."""
        return self.connected

    def close(self, clean: bool = True) -> None:
        """Disconnect; ``clean=False`` is a dropped connection: the broker publishes the will."""
        session, self._session = self._session, None
        if session is None:
            return
        self._broker._detach(session, None if clean else self._will)

    def _drop_by_broker(self) -> None:
        """The broker ended this connection (client id takeover): like an unclean drop."""
        self.close(clean=False)
