"""The ``Transport`` port: everything the controller, vehicles and sorter know of the bus.

Two adapters implement it with the same MQTT semantics: ``MqttTransport`` (paho-mqtt 2, a real
broker) and ``InProcTransport`` (one process, deterministic, for simulation and tests). Network
threads only enqueue; the runner takes inbound messages in arrival order with :meth:`drain` (or
:meth:`dispatch`, which calls the handlers given to :meth:`subscribe` on the caller's thread), so
no core object is ever called from a network thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Envelope:
    """One MQTT message.

    Attributes:
        topic: the topic name (no wildcards).
        payload: raw bytes (JSON for every protocol we speak).
        qos: 0 or 1.
        retain: True when published retained, or delivered from the broker's retained store.
        received_s: ``time.monotonic()`` seconds when a network adapter received it (0.0 when made
            locally or by the in-process bus). Only for latency metrics; not part of equality.
    """

    topic: str
    payload: bytes
    qos: int = 0
    retain: bool = False
    received_s: float = field(default=0.0, compare=False, repr=False)


class NotConnectedError(RuntimeError):
    """Publishing on a transport before :meth:`Transport.connect` or after :meth:`Transport.close`.

    (A connected ``MqttTransport`` that is only waiting to reconnect keeps QoS 1 messages instead.)
    """


Handler = Callable[[Envelope], None]
"""Called on the runner's thread (from :meth:`Transport.dispatch`) with a matching message."""


class Transport(Protocol):
    """A connection to the bus for one client (one vehicle, the controller, the sorter)."""

    client_id: str

    def connect(self, will: Envelope | None = None) -> None:
        """Connect, registering ``will`` as the last will published on an unclean drop."""
        ...

    def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> None:
        """Send a message; a retained empty payload clears the retained message."""
        ...

    def subscribe(self, topic_filter: str, handler: Handler | None = None, qos: int = 0) -> None:
        """Receive messages matching ``topic_filter`` (``+`` and ``#`` as MQTT defines them)."""
        ...

    def unsubscribe(self, topic_filter: str) -> None:
        """Stop receiving messages for ``topic_filter``."""
        ...

    def drain(self, max_messages: int | None = None) -> list[Envelope]:
        """Take the inbound messages received so far, oldest first."""
        ...

    def dispatch(self, max_messages: int | None = None) -> int:
        """Drain and call each message's matching handlers; returns how many messages."""
        ...

    def wait(self, timeout_s: float) -> bool:
        """Block up to ``timeout_s`` until an inbound message is queued; True if one is."""
        ...

    def close(self, clean: bool = True) -> None:
        """Disconnect; ``clean=False`` drops the connection so the broker sends the last will."""
        ...
