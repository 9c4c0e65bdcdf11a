"""``InProcTransport``: one participant's connection to an :class:`~bus.inproc.InProcBroker`.

The broker owns the delivery rules (see :mod:`bus.inproc`); this side keeps the client's state:
its inbound queue, its subscriptions and handlers (resubscribed on every connect) and its will.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from bus.handlers import HandlerDispatch, HandlerTable, as_payload, check_qos, take
from bus.topicmatch import check_topic_filter, check_topic_name
from bus.transport import Envelope, Handler, NotConnectedError

if TYPE_CHECKING:
    from bus.inproc import InProcBroker, _Session


class InProcTransport(HandlerDispatch):
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
        self._mail_hook: Callable[[], None] | None = None

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

    def on_mail(self, hook: Callable[[], None] | None) -> None:
        """Call ``hook()`` each time a message is queued for this client (None: stop).

        Why: a simulation runner with hundreds of clients, most without mail at a given moment,
        serves only the ones that were told something instead of asking every queue.
        """
        self._mail_hook = hook

    def _queue(self, message: Envelope) -> None:
        """The broker queues one message for this client."""
        self._inbox.append(message)
        if self._mail_hook is not None:
            self._mail_hook()

    def drain(self, max_messages: int | None = None) -> list[Envelope]:
        """Take queued inbound messages, oldest first."""
        if not self._inbox:  # the common case in a simulation: most clients have no mail
            return []
        return take(self._inbox, max_messages)

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
