"""RealtimeRunner: drives one pure participant (the Controller, the WMS feeder) with the wall clock.

Why here: it is composition-root code (it owns a clock and a network connection), so it lives
in ``bulletyard/``, never in ``controller/``. The loop: take every inbound message the transport
queued, ``handle`` each, ``tick`` when the agent's ``next_wakeup`` has come, publish what comes
back, then block on ``transport.wait`` until the next message or the next wakeup. No busy loop,
no sleep: the only wait is on the transport's condition variable with a computed timeout.

It also measures what the metrics endpoint reports: per-message handling time; reaction time,
from the network adapter receiving a vehicle state (so time queued behind other messages counts)
to the orders that follow being handed to the transport; plan time of the ticks; and message
counts in and out.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from bus.clock import NS_PER_S, Clock, Instant, WallClock
from bus.participant import Participant, join, publish_all
from bus.transport import Envelope, Transport

log = logging.getLogger("bulletyard.runtime")


@dataclass
class RunnerStats:
    """Counters and recent timings (seconds), bounded so memory stays flat over long runs."""

    messages_in: int = 0
    messages_out: int = 0
    ticks: int = 0
    handle_s: deque[float] = field(default_factory=lambda: deque(maxlen=20_000))
    reaction_s: deque[float] = field(default_factory=lambda: deque(maxlen=20_000))
    tick_s: deque[float] = field(default_factory=lambda: deque(maxlen=5_000))
    started_wall_s: float = field(default_factory=time.time)


class Served(Participant, Protocol):
    """A participant that names its own subscriptions (a seat of a simulation is given them)."""

    def subscriptions(self) -> list[tuple[str, int]]:
        """``(topic filter, qos)`` pairs to subscribe before ``on_connect``."""
        ...


class RealtimeRunner:
    """Runs ``agent`` on ``transport`` until :meth:`stop` is called (e.g. from a SIGTERM handler).

    Args:
        agent: the participant, naming its own subscriptions (the Controller, the WMS feeder).
        transport: a connected-or-not transport (connected here with the agent's will).
        clock: the wall clock (injectable for tests).
        max_wait_s: upper bound of one wait, so :meth:`stop` is noticed promptly.
        on_cycle: optional callback after every loop iteration (metrics refresh).
    """

    def __init__(
        self,
        agent: Served,
        transport: Transport,
        clock: Clock | None = None,
        *,
        max_wait_s: float = 0.5,
        on_cycle: Callable[[], None] | None = None,
    ) -> None:
        self.agent = agent
        self.transport = transport
        self.clock = clock or WallClock()
        self.max_wait_s = max_wait_s
        self.on_cycle = on_cycle
        self.stats = RunnerStats()
        self._stop = threading.Event()
        self._wake: Instant | None = None
        self.lock = threading.Lock()  # held while the agent runs: metrics read under it

    def stop(self) -> None:
        """Ask the loop to end after the current iteration (thread- and signal-safe)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stop.is_set()

    def start(self) -> None:
        """Connect, subscribe, and publish what ``on_connect`` returns."""
        join(self.transport, self.agent, self.agent.subscriptions())
        self._publish(self.agent.on_connect(self.clock.now()))

    def _publish(self, envelopes: list[Envelope]) -> None:
        self.stats.messages_out += publish_all(self.transport, envelopes)

    def run_once(self) -> None:
        """One iteration: handle what is queued, tick if due, publish."""
        with self.lock:
            for msg in self.transport.drain():
                t0 = time.perf_counter()
                out = self.agent.handle(self.clock.now(), msg)
                self._publish(out)
                dt = time.perf_counter() - t0
                self.stats.messages_in += 1
                self.stats.handle_s.append(dt)
                if out and msg.topic.endswith("/state"):
                    # from the adapter receiving the state (queueing included) to its orders sent
                    received = msg.received_s or (time.monotonic() - dt)
                    self.stats.reaction_s.append(time.monotonic() - received)
            now = self.clock.now()
            wake = self.agent.next_wakeup()
            if wake is None or wake <= now or self.stats.ticks == 0:
                t0 = time.perf_counter()
                self._publish(self.agent.tick(now))
                self.stats.tick_s.append(time.perf_counter() - t0)
                self.stats.ticks += 1
                wake = self.agent.next_wakeup()
            self._wake = wake  # next_wakeup scans the fleet: ask once per iteration, not twice
        if self.on_cycle is not None:
            self.on_cycle()

    def wait_time_s(self) -> float:
        """How long the loop may block before the agent needs a tick (bounded by ``max_wait_s``);
        uses the wakeup :meth:`run_once` last read."""
        wake = self._wake
        if wake is None:
            return self.max_wait_s
        return max(0.0, min(self.max_wait_s, (wake - self.clock.now()) / NS_PER_S))

    def run(self, until: Instant | None = None) -> None:
        """Loop until stopped (or the clock passes ``until``)."""
        while not self._stop.is_set():
            self.run_once()
            if self._stop.is_set() or (until is not None and self.clock.now() >= until):
                break  # stopped during the iteration (``on_cycle`` or a signal): no last wait
            self.transport.wait(self.wait_time_s())

    def close(self) -> None:
        """Disconnect cleanly (a clean close suppresses the last will, if the participant has one)."""
        self.transport.close(clean=True)
