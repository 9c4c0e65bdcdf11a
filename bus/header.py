"""Message headers shared by VDA 5050 and our own protocols: increasing ``headerId`` per topic.

VDA 5050 asks for a ``headerId`` per topic and sender that increases by one with every message;
receivers use it to drop stale or duplicate messages. One :class:`HeaderIds` lives in each
sender (a vehicle, the controller, the sorter); :class:`StaleFilter` lives in each receiver.
"""

from __future__ import annotations


class HeaderIds:
    """Allocates ``headerId`` values: 0, 1, 2, ... separately for every topic this sender uses."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def next(self, topic: str) -> int:
        """The id for the next message on ``topic``."""
        value = self._next.get(topic, 0)
        self._next[topic] = value + 1
        return value


class StaleFilter:
    """Remembers the highest ``headerId`` seen per (topic, sender) and flags older ones.

    A sender that restarts begins again at 0; a receiver sees that as stale until it is told the
    sender reconnected (:meth:`reset`), which the connection topic does.
    """

    def __init__(self) -> None:
        self._last: dict[tuple[str, str], int] = {}

    def accept(self, topic: str, sender: str, header_id: int) -> bool:
        """True when ``header_id`` is newer than any seen for this topic and sender."""
        key = (topic, sender)
        last = self._last.get(key)
        if last is not None and header_id <= last:
            return False
        self._last[key] = header_id
        return True

    def reset(self, sender: str) -> None:
        """Forget what was seen from ``sender`` (it reconnected and starts counting again)."""
        for key in [k for k in self._last if k[1] == sender]:
            del self._last[key]
