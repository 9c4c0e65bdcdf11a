"""Client-side subscription table shared by both transports: filter -> (QoS, handler).

A transport keeps the filters it subscribed to (to resubscribe after a reconnect) and the
handler for each; :meth:`HandlerTable.handlers_for` finds the handlers of every filter that
matches a topic, cached per topic because a runner sees the same few topics over and over.
"""

from __future__ import annotations

import logging
from collections import deque

from bus.topicmatch import check_topic_filter, topic_matches
from bus.transport import Envelope, Handler

log = logging.getLogger(__name__)


class HandlerTable:
    """The filters one client subscribed to, in subscription order."""

    def __init__(self) -> None:
        self._subs: dict[str, tuple[int, Handler | None]] = {}
        self._cache: dict[str, tuple[Handler, ...]] = {}
        self._logged: set[tuple[str, str]] = set()
        self.handler_errors = 0
        """How many handler calls raised (see :meth:`dispatch`)."""

    def add(self, topic_filter: str, qos: int, handler: Handler | None) -> None:
        """Record (or replace) a subscription."""
        check_topic_filter(topic_filter)
        self._subs[topic_filter] = (qos, handler)
        self._cache.clear()

    def remove(self, topic_filter: str) -> bool:
        """Forget a subscription; False if it was not there."""
        self._cache.clear()
        return self._subs.pop(topic_filter, None) is not None

    def filters(self) -> list[tuple[str, int]]:
        """(filter, qos) pairs in subscription order (what to resubscribe after a reconnect)."""
        return [(f, qos) for f, (qos, _) in self._subs.items()]

    def handlers_for(self, topic: str) -> tuple[Handler, ...]:
        """Handlers of all filters matching ``topic`` (each filter's handler once)."""
        found = self._cache.get(topic)
        if found is None:
            found = tuple(h for f, (_, h) in self._subs.items() if h is not None and topic_matches(f, topic))
            if len(self._cache) >= 10_000:  # random topics must not grow memory without bound
                self._cache.clear()
            self._cache[topic] = found
        return found

    def dispatch(self, messages: list[Envelope]) -> int:
        """Call the matching handlers for each message, in order; returns how many messages.

        A handler that raises does not cost the other handlers or the rest of the batch their
        messages: the error is counted in :attr:`handler_errors` and logged with its traceback
        the first time per (topic, exception type), then only counted.
        """
        for message in messages:
            for handler in self.handlers_for(message.topic):
                try:
                    handler(message)
                except Exception as err:  # noqa: BLE001 - one bad message must not stop the runner
                    self.handler_errors += 1
                    key = (message.topic, type(err).__name__)
                    if key not in self._logged:
                        self._logged.add(key)
                        log.exception("handler %r failed on %s", handler, message.topic)
        return len(messages)


def check_qos(qos: int) -> int:
    """Accept QoS 0 and 1 only (the two levels bulletyard uses), else raise ValueError."""
    if qos not in (0, 1):
        raise ValueError(f"qos must be 0 or 1, got {qos!r}")
    return qos


def as_payload(payload: bytes | bytearray | memoryview | str) -> bytes:
    """Payload as bytes; a str is encoded as UTF-8 (convenience for tests and tools)."""
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode("utf-8")
    if isinstance(payload, bytearray | memoryview):
        return bytes(payload)
    raise TypeError(f"payload must be bytes, got {type(payload).__name__}")


def take(inbox: deque[Envelope], max_messages: int | None) -> list[Envelope]:
    """Remove and return up to ``max_messages`` (all when None) from the front of ``inbox``.

    Both transports drain their inbound queue this way; the MQTT one holds its lock around it.
    """
    if max_messages is None or max_messages >= len(inbox):
        taken = list(inbox)
        inbox.clear()
        return taken
    return [inbox.popleft() for _ in range(max_messages)]


class HandlerDispatch:
    """What every transport does the same way with its handlers: :meth:`dispatch` drains the
    queued messages and calls the handlers of the matching filters on the caller's thread.

    A transport mixes this in and provides ``_table`` (its :class:`HandlerTable`) and ``drain``.
    """

    _table: HandlerTable

    def drain(self, max_messages: int | None = None) -> list[Envelope]:
        """Take queued inbound messages, oldest first (each transport says how)."""
        raise NotImplementedError

    @property
    def handler_errors(self) -> int:
        """How many handler calls raised during :meth:`dispatch` (each logged once per topic)."""
        return self._table.handler_errors

    def dispatch(self, max_messages: int | None = None) -> int:
        """Drain and call the handlers of the matching filters, on the caller's thread."""
        return self._table.dispatch(self.drain(max_messages))
