"""Message headers shared by VDA 5050 and our own protocols: increasing ``headerId`` per topic.

VDA 5050 asks for a ``headerId`` per topic and sender that increases by one with every message;
receivers use it to drop stale or duplicate messages. One :class:`HeaderIds` lives in each
sender (a vehicle, the controller, the sorter); a :class:`HeaderFloor` per (topic, sender) lives
in each receiver (:class:`StaleFilter` holds them by key).

Why a floor is not simply "the highest id seen": one message with ``headerId`` 2e9 (a bug, a
replay tool, anyone allowed to publish) would make every later real message of that sender
stale, and the receiver would go blind to it. So an id far from the floor (more than
``max_jump`` above it, or far below it) does not move the floor: it is dropped, reported as
suspicious, and remembered as a candidate; only when the next message continues from the
candidate does the sender count as restarted there, and the floor follows it. A real restart
(or a receiver that missed hours of messages) costs one message; a lone forged one costs nothing.
"""

from __future__ import annotations

import logging
from enum import StrEnum

log = logging.getLogger(__name__)

DEFAULT_MAX_JUMP = 10_000
"""A headerId more than this above the floor is suspicious (see :class:`HeaderFloor`)."""


class HeaderIds:
    """Allocates ``headerId`` values: 0, 1, 2, ... separately for every topic this sender uses."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def next(self, topic: str) -> int:
        """The id for the next message on ``topic``."""
        value = self._next.get(topic, 0)
        self._next[topic] = value + 1
        return value


class Verdict(StrEnum):
    """What a receiver does with a message, judged by its headerId."""

    NEW = "new"  # newer than the floor, within reach: accept
    STALE = "stale"  # at or just below the floor (a duplicate or late copy): drop
    SUSPICIOUS = "suspicious"  # far from the floor: drop, and remember as a possible restart
    RESTARTED = "restarted"  # continues a suspicious one: the sender restarted; accept


class HeaderFloor:
    """The headerId floor of one (topic, sender); see the module docstring.

    Args:
        max_jump: how far above the floor (or below it) an id may be and still count as the
            same run of the sender.
    """

    __slots__ = ("last", "max_jump", "_candidate")

    def __init__(self, max_jump: int = DEFAULT_MAX_JUMP) -> None:
        self.max_jump = max_jump
        self.last = -1  # the highest id accepted (-1: none yet)
        self._candidate: int | None = None  # the last suspicious id, a restart not yet confirmed

    def judge(self, header_id: int) -> Verdict:
        """Accept or drop ``header_id``; the floor moves only on NEW and RESTARTED."""
        last = self.last
        if last < 0 or last < header_id <= last + self.max_jump:
            self.last = header_id
            self._candidate = None
            return Verdict.NEW
        if last - self.max_jump <= header_id <= last:
            return Verdict.STALE
        candidate = self._candidate
        if candidate is not None and candidate < header_id <= candidate + self.max_jump:
            self.last = header_id
            self._candidate = None
            return Verdict.RESTARTED
        self._candidate = header_id
        return Verdict.SUSPICIOUS

    def reset(self) -> None:
        """Forget the floor (the sender reconnected and counts from 0 again)."""
        self.last = -1
        self._candidate = None


class StaleFilter:
    """A :class:`HeaderFloor` per (topic, sender): flags stale and suspicious messages (the first
    suspicious one of each (topic, sender) is logged at WARNING on ``bus.header``).

    A sender that restarts begins again at 0; a receiver sees that as stale until it is told the
    sender reconnected (:meth:`reset`), which the connection topic does, or until two messages in
    a row show the new count (see :class:`HeaderFloor`).
    """

    def __init__(self, max_jump: int = DEFAULT_MAX_JUMP) -> None:
        self.max_jump = max_jump
        self._floors: dict[tuple[str, str], HeaderFloor] = {}
        self._warned: set[tuple[str, str]] = set()
        self.suspicious = 0
        """Messages dropped because their headerId was far from the floor."""

    def judge(self, topic: str, sender: str, header_id: int) -> Verdict:
        """The verdict for this message (see :class:`Verdict`)."""
        key = (topic, sender)
        floor = self._floors.get(key)
        if floor is None:
            floor = self._floors[key] = HeaderFloor(self.max_jump)
        last = floor.last
        verdict = floor.judge(header_id)
        if verdict is Verdict.SUSPICIOUS:
            self.suspicious += 1
            if key not in self._warned:
                self._warned.add(key)
                log.warning("suspicious headerId %d on %s from %s (the last was %d): dropped; logged once",
                            header_id, topic, sender, last)
        return verdict

    def accept(self, topic: str, sender: str, header_id: int) -> bool:
        """True when the message is to be served (NEW or RESTARTED)."""
        return self.judge(topic, sender, header_id) in (Verdict.NEW, Verdict.RESTARTED)

    def reset(self, sender: str) -> None:
        """Forget what was seen from ``sender`` (it reconnected and starts counting again)."""
        for key in [k for k in self._floors if k[1] == sender]:
            del self._floors[key]
            self._warned.discard(key)
