"""The one shape of a bus participant, its no-op base, and the steps every runner shares.

A participant is a pure core driven by a runner that owns the clock and the transport: the
controller, a vehicle agent, a sorter agent, an order feeder, the KPI observer. It never reads a
clock or touches a network; the runner hands it ``now`` and publishes what it returns:

- ``handle(now, msg)``: react to one inbound message, return what to publish;
- ``tick(now)``: do what is due at ``now`` (timeouts are data, see STYLE.md);
- ``next_wakeup()``: when ``tick`` must next be called, so a simulator can jump straight there
  and a real-time runner can sleep exactly that long (None: only messages wake it);
- ``will()``: the last will registered when connecting (None: no will);
- ``on_connect(now)``: what to publish once connected (a retained ONLINE, a factsheet).

:class:`ParticipantBase` holds the no-ops, so a participant writes only what it does. The three
runners (``sim.runner.SimRunner``, ``bulletyard.runtime.realtime.RealtimeRunner``,
``robots.fleet.FleetRunner``) differ in how time moves and how they wait; they join a participant
to its transport and publish its answers the same way, through :func:`join` and :func:`publish_all`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from bus.clock import Instant
from bus.transport import Envelope, Transport


class Participant(Protocol):
    """What a runner needs from a pure core."""

    def handle(self, now: Instant, msg: Envelope) -> list[Envelope]:
        """React to one inbound message; returns what to publish."""
        ...

    def tick(self, now: Instant) -> list[Envelope]:
        """Do what is due at ``now``; returns what to publish."""
        ...

    def next_wakeup(self) -> Instant | None:
        """When ``tick`` must next be called (None: only messages wake it)."""
        ...

    def will(self) -> Envelope | None:
        """The last will registered at connect (None: no will)."""
        ...

    def on_connect(self, now: Instant) -> list[Envelope]:
        """Messages to publish once connected (retained ONLINE connection, factsheet...)."""
        ...


class ParticipantBase:
    """A participant that does nothing: subclasses override what they actually do.

    Every method is a no-op answer a runner can rely on: no messages, no wakeup, no will.
    """

    __slots__ = ()

    def handle(self, now: Instant, msg: Envelope) -> list[Envelope]:
        """Ignore the message (a participant that subscribes to nothing)."""
        return []

    def tick(self, now: Instant) -> list[Envelope]:
        """Nothing is timed."""
        return []

    def next_wakeup(self) -> Instant | None:
        """Only messages wake this participant."""
        return None

    def will(self) -> Envelope | None:
        """No last will."""
        return None

    def on_connect(self, now: Instant) -> list[Envelope]:
        """Nothing to announce."""
        return []


def join(transport: Transport, participant: Participant, subscriptions: Iterable[tuple[str, int]]) -> None:
    """Connect ``transport`` with the participant's will and subscribe to ``(filter, qos)`` pairs.

    The participant's ``on_connect`` messages are left to the caller: a simulator joins every seat
    before any of them announces itself, so no retained announcement depends on seat order.
    """
    transport.connect(will=participant.will())
    for topic_filter, qos in subscriptions:
        transport.subscribe(topic_filter, qos=qos)


def publish_all(transport: Transport, envelopes: Sequence[Envelope]) -> int:
    """Publish ``envelopes`` in order with their own QoS and retain flags; returns how many."""
    publish = transport.publish
    for env in envelopes:
        publish(env.topic, env.payload, env.qos, env.retain)
    return len(envelopes)
