"""Lock-step runner for one sorter and the controller's sortation, without a broker.

Discrete-event: it jumps the simulated clock to the earliest of the sorter's next wakeup, the next
message delivery and the next world frame, so an hour of sorting costs what its events cost.
Messages go through the same envelopes (JSON bytes) as on MQTT; ``reply_delay`` delays the
controller's replies (to exercise deadlines), and an optional ``world`` (the PyBullet
:class:`sim.sorter_world.SorterWorld`) is synchronised every ``frame_period``.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Protocol

from bus.clock import Duration, Instant
from bus.transport import Envelope
from controller.sortation.planner import SortationPlanner
from sorter.agent import SorterAgent

_NO_DELAY = Duration(0)


class World(Protocol):
    """What the runner needs from a visual/physical world."""

    def sync(self, now: Instant) -> None:
        """Bring bodies to their state at ``now``."""
        ...


@dataclass
class RunStats:
    """Message totals of a run."""

    to_controller: int = 0
    to_sorter: int = 0
    frames: int = 0


class SorterRun:
    """Agent + planner (+ world) in simulated time."""

    def __init__(self, agent: SorterAgent, planner: SortationPlanner, *, reply_delay: Duration = _NO_DELAY,
                 world: World | None = None, frame_period: Duration | None = None) -> None:
        self.agent = agent
        self.planner = planner
        self.reply_delay = reply_delay
        self.world = world
        self.frame_period = frame_period
        self.now = agent.model.now
        self.stats = RunStats()
        self.published: list[Envelope] = []
        self.keep_published = False
        self._mail: list[tuple[int, int, Envelope]] = []
        self._seq = 0
        self._next_frame = self.now if world is not None and frame_period else None
        self._controller_kinds = ("destinationRequest", "divertConfirm", "chuteState", "connection")
        self.from_sorter(self.agent.on_connect(self.now))

    def from_sorter(self, envelopes: list[Envelope]) -> None:
        """Deliver what the sorter published (to the controller, and to :attr:`published` if kept).

        Tests and scenarios use it for operator actions, e.g. ``run.from_sorter(agent.close_chute(...))``.
        """
        if self.keep_published:
            self.published += envelopes
        for env in envelopes:
            if env.topic.rsplit("/", 1)[1] in self._controller_kinds:
                self.stats.to_controller += 1
                for reply in self.planner.handle(self.now, env):
                    self.stats.to_sorter += 1
                    self._seq += 1
                    heapq.heappush(self._mail, (self.now + self.reply_delay, self._seq, reply))

    def run_until(self, end: Instant) -> None:
        """Process everything up to and including ``end``."""
        while True:
            candidates = [t for t in (self.agent.next_wakeup(), self._next_frame,
                                      self._mail[0][0] if self._mail else None) if t is not None]
            t = min(candidates) if candidates else None
            if t is None or t > end:
                break
            self.now = Instant(max(t, self.now))
            while self._mail and self._mail[0][0] <= self.now:
                _, _, env = heapq.heappop(self._mail)
                self.from_sorter(self.agent.handle(self.now, env))
            self.from_sorter(self.agent.tick(self.now))
            if self._next_frame is not None and self.now >= self._next_frame:
                assert self.world is not None
                assert self.frame_period is not None
                self.world.sync(self.now)
                self.stats.frames += 1
                self._next_frame = Instant(self._next_frame + self.frame_period)
        self.now = Instant(max(self.now, end))
        self.from_sorter(self.agent.tick(self.now))
