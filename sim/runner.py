"""``SimRunner``: the lock-step, discrete-event loop that drives every participant of a simulation.

A participant is any pure core with the project-wide shape of :class:`bus.participant.Participant`
(controller, vehicle agent, sorter agent, order feeder, KPI observer). Each sits in a :class:`Seat`
with its own transport and subscriptions. The runner owns time:

1. *settle*: drain every transport in seat order and hand each message to its participant,
   publishing what comes back, until no message is queued (the in-process bus delivers at once);
2. *tick* every participant whose ``next_wakeup()`` has come, then settle again;
3. write a trace frame when the trace tick is due (poses from the robot views, PyBullet contact
   query, KPI and safety observers);
4. jump the :class:`~bus.clock.SimClock` (and the in-process broker's clock) straight to the
   earliest of: the participants' wakeups, the broker's next delayed delivery, the next trace
   tick, scheduled events (faults), the end time. Nothing is stepped at a fixed rate except the
   trace, so idle stretches cost nothing.

With the in-process bus everything is single-threaded and ordered, so the same seed gives the same
trace byte for byte. With MQTT (``pacer`` set) the same loop runs against a scaled wall clock:
instead of jumping, it waits on the transports until the wall clock catches up with the next event.
"""

from __future__ import annotations

import functools
import heapq
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NoReturn, Protocol

from bus.clock import Instant, SimClock, seconds, to_seconds
from bus.participant import Participant, join, publish_all
from bus.transport import Envelope, Transport
from sim.trace import Pose, TraceFrame

MAX_SETTLE_ROUNDS = 10_000
MAX_TICKS_PER_INSTANT = 1_000


class RobotView(Protocol):
    """How the runner sees a robot for the trace (world truth, not what the robot reports)."""

    robot_id: str

    def pose(self, now: Instant) -> Pose:
        """Map-frame pose at ``now``."""
        ...

    def state_name(self) -> str:
        """Short state (idle, driving, waiting, busy, charging, error, offline) for colour and KPIs."""
        ...


@dataclass(slots=True)
class Seat:
    """A participant with its transport and the topic filters it subscribes to.

    ``tick_after_handle``: also tick the participant after every batch of messages it handled, even
    when its ``next_wakeup`` is not due (for cores whose ``next_wakeup`` does not account for work a
    message created; ``tick`` is idempotent). Other seats tick after messages only when their
    wakeup, asked again, has come.
    """

    name: str
    agent: Participant
    transport: Transport
    subscriptions: Sequence[tuple[str, int]] = ()
    active: bool = True
    tick_after_handle: bool = False
    wake: Instant | None = None
    stale: bool = True

    def wakeup(self) -> Instant | None:
        """The participant's ``next_wakeup()``, asked again only after it handled, ticked or was poked.

        A participant's wakeup depends only on its own state, which changes only through the runner's
        calls (and scheduled events, after which every seat is marked stale), so the cached value is the
        answer ``next_wakeup()`` would give. At 100 robots this saves asking each robot twice per instant.
        """
        if self.stale:
            self.wake = self.agent.next_wakeup()
            self.stale = False
        return self.wake


class FrameObserver(Protocol):
    """Anything that wants each trace frame (trace writer, safety checker, KPIs, GUI)."""

    def observe(self, frame: TraceFrame) -> None:
        """Take one frame."""
        ...


@dataclass(order=True, slots=True)
class ScheduledEvent:
    """A callback at a simulated instant (fault injection: kill a robot, close a chute)."""

    at: Instant
    seq: int
    label: str = field(compare=False)
    action: Callable[[Instant], None] = field(compare=False)


@dataclass(frozen=True, slots=True)
class Pacer:
    """Real-time pacing for runs over a real broker: ``factor`` simulated seconds per wall second."""

    factor: float = 1.0
    poll_s: float = 0.002


@dataclass(slots=True)
class RunStats:
    """Counters of one run."""

    messages: int = 0
    ticks: int = 0
    frames: int = 0
    steps: int = 0
    wall_time_s: float = 0.0
    sim_time_s: float = 0.0


class SimRunner:
    """Drives seats and robot views on one simulated clock.

    Args:
        clock: the simulated clock (also the bus clock for the in-process broker).
        seats: participants in a fixed order (the order is part of determinism).
        robots: views used for trace frames.
        broker: the in-process broker (for delayed deliveries); None over MQTT.
        trace_dt_s: simulated seconds between trace frames.
        observers: receive every frame.
        pacer: set for MQTT runs (scaled wall clock instead of jumping).
    """

    def __init__(
        self,
        *,
        clock: SimClock,
        seats: Sequence[Seat],
        robots: Sequence[RobotView] = (),
        broker: object | None = None,
        trace_dt_s: float = 0.25,
        observers: Sequence[FrameObserver] = (),
        pacer: Pacer | None = None,
        frame_hooks: Sequence[Callable[[TraceFrame], None]] = (),
    ) -> None:
        self.clock = clock
        self.seats = list(seats)
        self.robots = list(robots)
        self.broker = broker
        self.trace_dt = seconds(trace_dt_s)
        self.observers = list(observers)
        self.frame_hooks = list(frame_hooks)
        self.pacer = pacer
        self.start = clock.now()
        self.stats = RunStats()
        self._events: list[ScheduledEvent] = []
        self._event_seq = 0
        self._next_frame = self.start
        self._wall0 = 0.0
        # Wakeups in a heap, so an instant costs what is due, not a pass over every seat (at 100
        # robots and more that pass was the runner's main cost). An entry is (wakeup, seat slot,
        # version); a seat that handled, ticked or was poked is "dirty", is asked again and gets
        # a new version, which voids its older entries.
        self._slot = {id(seat): k for k, seat in enumerate(self.seats)}
        self._wakes: list[tuple[Instant, int, int]] = []
        self._version = [0] * len(self.seats)
        self._dirty: set[int] = set(range(len(self.seats)))
        self._touched: set[int] = set()
        # Seats with mail, when every transport can announce it (see settle): a heap of slots to
        # serve in this round, and the slots to serve in the next.
        self._mail: list[int] | None = None
        self._mail_later: set[int] = set()
        self._has_mail = [False] * len(self.seats)
        self._serving = -1
        if self.seats and all(hasattr(seat.transport, "on_mail") for seat in self.seats):
            self._mail = []
            for k, seat in enumerate(self.seats):
                seat.transport.on_mail(functools.partial(self._mail_for, k))  # type: ignore[attr-defined]
                if seat.transport.pending():
                    self._mail_for(k)

    # -- set-up -------------------------------------------------------------------------------------

    def schedule(self, at: Instant, label: str, action: Callable[[Instant], None]) -> None:
        """Call ``action(now)`` when the clock reaches ``at``."""
        self._event_seq += 1
        heapq.heappush(self._events, ScheduledEvent(Instant(int(at)), self._event_seq, label, action))

    def connect_all(self) -> None:
        """Connect each seat with its will, subscribe, publish its ``on_connect`` messages."""
        now = self.clock.now()
        for seat in self.seats:
            join(seat.transport, seat.agent, seat.subscriptions)
        for seat in self.seats:
            self._publish(seat, seat.agent.on_connect(now))

    def deactivate(self, name: str, *, clean: bool) -> None:
        """Take a seat out of the run (a killed robot: ``clean=False`` makes the bus send its will)."""
        for seat in self.seats:
            if seat.name == name and seat.active:
                seat.active = False
                seat.transport.close(clean=clean)

    # -- the loop ---------------------------------------------------------------------------------

    def _publish(self, seat: Seat, out: Sequence[Envelope]) -> None:
        self.stats.messages += publish_all(seat.transport, out)

    def settle(self, now: Instant) -> None:
        """Deliver queued messages until the bus is quiet at ``now``.

        In rounds: each round serves the seats with mail in seat order, each seat taking all its
        queued messages; mail for a seat later in the order is served in the same round, mail for
        the seat being served or an earlier one in the next. When every transport announces its
        mail (in-process bus) only those seats are visited; otherwise (MQTT, where mail arrives on
        a network thread) every seat is asked, in the same order, so both give the same sequence.
        """
        if self._mail is None:
            self._settle_polling(now)
            return
        mail, later = self._mail, self._mail_later
        for _ in range(MAX_SETTLE_ROUNDS):
            if not mail:
                return
            while mail:
                k = heapq.heappop(mail)
                self._has_mail[k] = False
                self._serving = k
                self._serve(self.seats[k], now)
            self._serving = -1
            for k in sorted(later):
                self._has_mail[k] = True
                mail.append(k)  # sorted: already a heap
            later.clear()
        self._storm(now)

    def _settle_polling(self, now: Instant) -> None:
        for _ in range(MAX_SETTLE_ROUNDS):
            moved = False
            for seat in self.seats:
                moved = self._serve(seat, now) or moved
            if not moved:
                return
        self._storm(now)

    def _storm(self, now: Instant) -> NoReturn:
        """The bus kept moving for MAX_SETTLE_ROUNDS rounds at one instant."""
        raise RuntimeError(
            f"the bus did not settle at t={to_seconds(now - self.start):.3f} s (message storm)"
        )

    def _serve(self, seat: Seat, now: Instant) -> bool:
        """Hand a seat its queued messages, publishing its answers; False when it had none."""
        if not seat.active:
            return False
        inbound = seat.transport.drain()
        if not inbound:
            return False
        self._poke(seat, touched=True)
        handle = seat.agent.handle
        for msg in inbound:
            out = handle(now, msg)
            if out:
                self._publish(seat, out)
        return True

    def _mail_for(self, k: int) -> None:
        """Seat ``k`` was sent a message: serve it in this round if it comes after the seat being
        served, else in the next."""
        if k > self._serving:
            if not self._has_mail[k]:
                self._has_mail[k] = True
                heapq.heappush(self._mail, k)
        else:
            self._mail_later.add(k)

    def _poke(self, seat: Seat, *, touched: bool = False) -> None:
        """The seat's state changed: ask its wakeup again (and, if it handled messages, consider it
        for a tick in this instant's next pass)."""
        seat.stale = True
        k = self._slot[id(seat)]
        self._dirty.add(k)
        if touched:
            self._touched.add(k)

    def _refresh(self) -> None:
        """Push the wakeups of dirty seats (new versions void their older heap entries)."""
        for k in self._dirty:
            self._version[k] += 1
            wake = self.seats[k].wakeup()
            if wake is not None:
                heapq.heappush(self._wakes, (wake, k, self._version[k]))
        self._dirty.clear()

    def _live(self, entry: tuple[Instant, int, int]) -> bool:
        return entry[2] == self._version[entry[1]] and self.seats[entry[1]].active

    def _tick_due(self, now: Instant, first: bool) -> bool:
        """Tick seats whose wakeup has come, in seat order: on the first pass of an instant every
        seat whose wakeup is due, then only seats that handled messages since (their wakeup may now
        be due at this very instant); ``tick_after_handle`` seats tick after every batch of
        messages whatever their wakeup."""
        self._refresh()
        touched, self._touched = self._touched, set()
        due: set[int] = set()
        if first:
            wakes = self._wakes
            while wakes and wakes[0][0] <= now:
                entry = heapq.heappop(wakes)
                if self._live(entry):
                    due.add(entry[1])
        else:
            for k in touched:
                wake = self.seats[k].wakeup()
                if wake is not None and wake <= now:
                    due.add(k)
        due.update(k for k in touched if self.seats[k].tick_after_handle)
        ticked = False
        for k in sorted(due):
            seat = self.seats[k]
            if not seat.active:
                continue
            self._poke(seat)
            self._publish(seat, seat.agent.tick(now))
            self.stats.ticks += 1
            ticked = True
        return ticked

    def step_instant(self, now: Instant) -> None:
        """Everything that happens at one instant: events, messages, due ticks, the trace frame."""
        if self._events and self._events[0].at <= now:
            while self._events and self._events[0].at <= now:
                heapq.heappop(self._events).action(now)
            for seat in self.seats:  # an event may change any participant (a delay, a kill)
                self._poke(seat)
        self.settle(now)
        for k in range(MAX_TICKS_PER_INSTANT):
            if not self._tick_due(now, first=k == 0):
                break
            self.settle(now)
        if now >= self._next_frame:
            self._frame(now)
            self._next_frame = Instant(self._next_frame + self.trace_dt)
            while self._next_frame <= now:
                self._next_frame = Instant(self._next_frame + self.trace_dt)
        self.stats.steps += 1

    def _frame(self, now: Instant) -> None:
        t_s = round(to_seconds(now - self.start), 6)
        robots = {r.robot_id: r.pose(now) for r in self.robots}
        state = {r.robot_id: r.state_name() for r in self.robots}
        pods = frozenset(r.robot_id for r in self.robots if getattr(r, "carrying", bool)())  # optional
        frame = TraceFrame(t_s, robots, state, pods=pods)
        for observer in self.observers:
            observer.observe(frame)
        for hook in self.frame_hooks:
            hook(frame)
        self.stats.frames += 1

    def next_instant(self, now: Instant, until: Instant | None) -> Instant:
        """The earliest instant anything happens after ``now``."""
        candidates = [self._next_frame]
        self._refresh()
        wakes, overdue = self._wakes, []
        while wakes:
            entry = wakes[0]
            if not self._live(entry):
                heapq.heappop(wakes)
            elif entry[0] <= now:  # due again at ``now`` after its tick: served at the next instant
                overdue.append(heapq.heappop(wakes))
            else:
                candidates.append(entry[0])
                break
        for entry in overdue:
            heapq.heappush(wakes, entry)
        due = getattr(self.broker, "next_due", None)
        if due is not None:
            bus_due = due()
            if bus_due is not None:
                candidates.append(bus_due)
        if self._events:
            candidates.append(self._events[0].at)
        if until is not None:
            candidates.append(until)
        nxt = min(candidates)
        return nxt if nxt > now else Instant(now + 1)

    def run(
        self,
        *,
        until: Instant | None = None,
        done: Callable[[], bool] = lambda: False,
        on_progress: Callable[[float], None] | None = None,
    ) -> RunStats:
        """Run until ``done()`` holds after an instant, or the clock reaches ``until``."""
        self._wall0 = time.perf_counter()
        now = self.clock.now()
        last_report = -1.0
        while True:
            self.step_instant(now)
            t_s = to_seconds(now - self.start)
            if on_progress is not None and t_s - last_report >= 1.0:
                on_progress(t_s)
                last_report = t_s
            if done() or (until is not None and now >= until):
                break
            nxt = self.next_instant(now, until)
            if self.pacer is not None:
                self._wait_until(nxt)
            self.clock.advance_to(nxt)
            if self.broker is not None:
                self.broker.advance_to(nxt)  # type: ignore[attr-defined]
            now = nxt
        if self.stats.frames == 0:
            self._frame(now)
        self.stats.wall_time_s = time.perf_counter() - self._wall0
        self.stats.sim_time_s = to_seconds(now - self.start)
        return self.stats

    def _wait_until(self, target: Instant) -> None:
        """MQTT runs: wait (serving inbound messages) until the scaled wall clock reaches ``target``."""
        assert self.pacer is not None
        deadline = self._wall0 + to_seconds(target - self.start) / self.pacer.factor
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return
            if any(seat.active and seat.transport.wait(0.0) for seat in self.seats):
                self.settle(self.clock.now())
                continue
            time.sleep(min(remaining, self.pacer.poll_s))
