"""Time as data: ``Instant`` and ``Duration`` in integer nanoseconds, and the two clocks.

Everything in bulletyard that needs time takes an ``Instant`` as an argument. The simulator owns
a :class:`SimClock` it advances in lock-step with the world; the realtime runner reads a
:class:`WallClock`. Instants count nanoseconds since the Unix epoch (UTC) so that they map
directly onto the ISO 8601 timestamps on the wire. Simulations start at :data:`SIM_EPOCH`
(midnight UTC on 11 November, the first minute of Singles Day) unless told otherwise.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from functools import lru_cache
from typing import NewType, Protocol

Instant = NewType("Instant", int)
"""Nanoseconds since 1970-01-01T00:00:00Z."""

Duration = NewType("Duration", int)
"""A span of time in nanoseconds."""

NS_PER_S = 1_000_000_000
SIM_EPOCH = Instant(int(datetime(2026, 11, 11, tzinfo=UTC).timestamp()) * NS_PER_S)


def seconds(value_s: float) -> Duration:
    """A duration from seconds (rounded to the nanosecond)."""
    return Duration(round(value_s * NS_PER_S))


def to_seconds(value_ns: int) -> float:
    """Seconds from a duration or an instant difference in nanoseconds."""
    return value_ns / NS_PER_S


@lru_cache(maxsize=256)
def _second_stamp(whole_s: int) -> str:
    """``2026-11-11T00:00:00`` for a whole Unix second (cached: every message of a second shares it)."""
    return datetime.fromtimestamp(whole_s, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")


def iso_timestamp(instant: Instant) -> str:
    """ISO 8601 UTC with milliseconds and ``Z``, as VDA 5050 asks: ``2026-11-11T00:00:00.000Z``."""
    return _milli_stamp(int(instant) // 1_000_000)


@lru_cache(maxsize=1024)
def _milli_stamp(whole_ms: int) -> str:
    """The stamp of one millisecond (cached: a fleet stamps many messages at each instant)."""
    whole_s, ms = divmod(whole_ms, 1000)
    return f"{_second_stamp(whole_s)}.{ms:03d}Z"


def parse_timestamp(text: str) -> Instant:
    """Inverse of :func:`iso_timestamp`; accepts any ISO 8601 form with a zone (``Z`` or offset)."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no time zone")
    micros = int(parsed.timestamp()) * 1_000_000 + parsed.microsecond
    return Instant(micros * 1000)


class Clock(Protocol):
    """Where the current instant comes from (only runners hold one)."""

    def now(self) -> Instant:
        """The current instant."""
        ...


class SimClock:
    """A clock that moves only when the simulation runner advances it."""

    def __init__(self, start: Instant = SIM_EPOCH) -> None:
        self._now = Instant(int(start))

    def now(self) -> Instant:
        """The current simulated instant."""
        return self._now

    def advance_to(self, instant: Instant) -> None:
        """Move time forward to ``instant`` (never backwards)."""
        if instant < self._now:
            raise ValueError("a simulated clock never goes backwards")
        self._now = Instant(int(instant))

    def advance(self, span: Duration) -> None:
        """Move time forward by ``span`` nanoseconds."""
        self.advance_to(Instant(self._now + int(span)))


class WallClock:
    """The real UTC clock, for the realtime runner and the edge-box service."""

    def now(self) -> Instant:
        """Nanoseconds since the epoch, from the system clock."""
        return Instant(time.time_ns())
