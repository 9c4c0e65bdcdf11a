"""A vehicle the controller cannot hear for a while: ``--silence-robot ID@T1-T2``.

Why: the usual way a robot is lost on a real floor is a Wi-Fi dropout. The vehicle drives on with
the base it was released (VDA 5050 lets it), runs the actions on it, and after a while it is
heard again, somewhere further along. Killing a robot (``--kill-robot``) tests the robot that
never comes back; this fault tests the one that does. Between ``T1`` and ``T2`` none of the
vehicle's ``state`` messages reach the bus (the controller declares it lost after
``fleet.state_timeout_s``); at ``T2`` it publishes its state at once, as a vehicle does when its
link is back. Orders and instant actions sent meanwhile still reach it (the bus is not at fault
in that direction; a real dropout loses those too, which the controller's resend and resync
cover).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bus.clock import Instant, seconds
from bus.participant import Participant
from bus.transport import Envelope
from sim.faults import QuietSpan


class _Vehicle(Participant, Protocol):
    serial: str


def with_silences(
    vehicles: Sequence[_Vehicle], spans: Sequence[QuietSpan], start: Instant
) -> list[Participant]:
    """Each vehicle as the runner should seat it: wrapped in a :class:`QuietVehicle` when spans
    name it (seconds since ``start``). Raises ValueError for a span naming no vehicle."""
    serials = [v.serial for v in vehicles]
    for span in spans:
        if span.target not in serials:
            raise ValueError(f"--silence-robot {span.target}: no such robot ({serials[0]}..{serials[-1]})"
                             if serials else f"--silence-robot {span.target}: no robots")
    out: list[Participant] = []
    for v in vehicles:
        mine = [(Instant(start + seconds(q.from_s)), Instant(start + seconds(q.until_s)))
                for q in spans if q.target == v.serial]
        out.append(QuietVehicle(v, mine) if mine else v)
    return out


class QuietVehicle:
    """Wraps a vehicle participant: its states are dropped during the spans, then one goes out.

    Args:
        agent: the vehicle (a :class:`robots.agent.VehicleAgent`).
        spans: (from, until) instants; states published in ``[from, until)`` are dropped.
    """

    def __init__(self, agent: Participant, spans: Sequence[tuple[Instant, Instant]]) -> None:
        self.agent = agent
        self.spans = sorted(spans)
        self.dropped = 0  # states kept off the bus
        self._owed = False  # states were dropped: once the span is over, one goes out
        self._end: Instant | None = None  # the end of the span now running (or last run)

    def _quiet(self, now: Instant) -> bool:
        return any(a <= now < b for a, b in self.spans)

    def _filter(self, now: Instant, out: list[Envelope]) -> list[Envelope]:
        self._end = next((b for a, b in self.spans if a <= now < b), self._end)
        if self._quiet(now):
            kept = [e for e in out if not e.topic.endswith("/state")]
            self.dropped += len(out) - len(kept)
            self._owed = True
            return kept
        if self._owed and not any(e.topic.endswith("/state") for e in out):
            again = self.agent.on_connect(now)  # heard again: its state now (not its connection again)
            out = out + [e for e in again if not e.topic.endswith(("/connection", "/factsheet"))]
        self._owed = False
        return out

    def handle(self, now: Instant, msg: Envelope) -> list[Envelope]:
        """The vehicle handles the message; its states are dropped while quiet."""
        return self._filter(now, self.agent.handle(now, msg))

    def tick(self, now: Instant) -> list[Envelope]:
        """The vehicle's tick; its states are dropped while quiet."""
        return self._filter(now, self.agent.tick(now))

    def next_wakeup(self) -> Instant | None:
        """The vehicle's wakeup, or the end of a quiet span if that comes first."""
        times = [t for t in (self.agent.next_wakeup(), self._end if self._owed else None) if t is not None]
        return min(times) if times else None

    def will(self) -> Envelope | None:
        """The vehicle's will."""
        return self.agent.will()

    def on_connect(self, now: Instant) -> list[Envelope]:
        """The vehicle's first messages (states dropped if the run starts quiet)."""
        return self._filter(now, self.agent.on_connect(now))
