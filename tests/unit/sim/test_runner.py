"""SimRunner on toy participants over the in-process bus: ordering, jumps, events, wills, determinism."""

from __future__ import annotations

import math

from bus.clock import SIM_EPOCH, Instant, SimClock, seconds
from bus.inproc import InProcBroker
from bus.participant import ParticipantBase
from bus.transport import Envelope
from sim.runner import Seat, SimRunner
from sim.trace import TraceFrame


class Ticker:
    """Publishes its count on ``t/ping`` every ``period_s`` up to ``limit`` times."""

    def __init__(self, period_s: float, limit: int) -> None:
        self.period = seconds(period_s)
        self.limit = limit
        self.sent = 0
        self.next: Instant | None = SIM_EPOCH
        self.pongs: list[tuple[int, bytes]] = []

    def handle(self, now: Instant, msg: Envelope) -> list[Envelope]:
        self.pongs.append((now - SIM_EPOCH, msg.payload))
        return []

    def tick(self, now: Instant) -> list[Envelope]:
        self.sent += 1
        self.next = Instant(now + self.period) if self.sent < self.limit else None
        return [Envelope("t/ping", str(self.sent).encode())]

    def next_wakeup(self) -> Instant | None:
        return self.next

    def will(self) -> Envelope | None:
        return Envelope("t/will/ticker", b"gone", qos=1, retain=True)

    def on_connect(self, now: Instant) -> list[Envelope]:
        return [Envelope("t/online", b"ticker", qos=1, retain=True)]


class Echo(ParticipantBase):
    """Answers every ping with a pong; records what it saw."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, bytes]] = []

    def handle(self, now: Instant, msg: Envelope) -> list[Envelope]:
        self.seen.append((msg.topic, msg.payload))
        return [Envelope("t/pong", msg.payload)] if msg.topic == "t/ping" else []


class Walker:
    """A robot view moving east at 1 m/s."""

    robot_id = "agv-0001"

    def pose(self, now: Instant) -> tuple[float, float, float]:
        return ((now - SIM_EPOCH) / 1e9, -0.5, 0.0)

    def state_name(self) -> str:
        return "driving"


class Frames:
    def __init__(self) -> None:
        self.frames: list[TraceFrame] = []

    def observe(self, frame: TraceFrame) -> None:
        self.frames.append(frame)


def _run(limit: int = 5, until_s: float | None = None):
    clock = SimClock()
    broker = InProcBroker(start=clock.now())
    ticker, echo, frames = Ticker(2.0, limit), Echo(), Frames()
    runner = SimRunner(
        clock=clock, broker=broker, trace_dt_s=0.5, robots=[Walker()], observers=[frames],
        seats=[Seat("ticker", ticker, broker.client("ticker"), [("t/pong", 0)]),
               Seat("echo", echo, broker.client("echo"), [("t/#", 0)])])
    runner.connect_all()
    until = None if until_s is None else Instant(SIM_EPOCH + seconds(until_s))
    stats = runner.run(until=until, done=lambda: ticker.sent >= limit and len(ticker.pongs) >= limit)
    return runner, ticker, echo, frames, stats


def test_messages_are_answered_at_the_same_instant() -> None:
    _, ticker, echo, frames, stats = _run()
    assert ticker.pongs == [(int(seconds(2.0 * k)), str(k + 1).encode()) for k in range(5)]
    assert ("t/online", b"ticker") in echo.seen
    assert stats.sim_time_s == 8.0
    # the clock jumped: one step per trace tick, the wakeups coincide with ticks
    assert [f.t_s for f in frames.frames] == [0.5 * k for k in range(17)]
    assert frames.frames[4].robots["agv-0001"][0] == 2.0


def test_until_stops_the_run_and_scheduled_events_fire() -> None:
    clock = SimClock()
    broker = InProcBroker(start=clock.now())
    ticker, echo = Ticker(1.0, 100), Echo()
    runner = SimRunner(clock=clock, broker=broker, trace_dt_s=10.0,
                       seats=[Seat("ticker", ticker, broker.client("ticker")),
                              Seat("echo", echo, broker.client("echo"), [("t/#", 0)])])
    runner.connect_all()
    runner.schedule(Instant(SIM_EPOCH + seconds(3.5)), "kill ticker",
                    lambda now: runner.deactivate("ticker", clean=False))
    stats = runner.run(until=Instant(SIM_EPOCH + seconds(20.0)))
    assert stats.sim_time_s == 20.0
    pings = [p for t, p in echo.seen if t == "t/ping"]
    assert pings == [b"1", b"2", b"3", b"4"]  # killed at 3.5 s, after its 4th ping at t=3
    assert ("t/will/ticker", b"gone") in echo.seen


def test_same_inputs_same_history() -> None:
    a = _run(limit=7)
    b = _run(limit=7)
    assert a[2].seen == b[2].seen
    assert [f.robots for f in a[3].frames] == [f.robots for f in b[3].frames]
    assert not math.isinf(a[4].sim_time_s)


class Relay(ParticipantBase):
    """Passes each number on, one less, to the relay ``n % 3`` (some earlier in the seat order,
    some later, some itself); every hand-over goes into one shared log."""

    def __init__(self, name: str, log: list[tuple[str, bytes]], start: list[int]) -> None:
        self.name, self.log, self.start = name, log, start

    def handle(self, now: Instant, msg: Envelope) -> list[Envelope]:
        self.log.append((self.name, msg.payload))
        n = int(msg.payload)
        return [Envelope(f"r/{'abc'[n % 3]}", str(n - 1).encode())] if n > 0 else []

    def tick(self, now: Instant) -> list[Envelope]:
        start, self.start = self.start, []
        return [Envelope(f"r/{'abc'[n % 3]}", str(n).encode()) for n in start]

    def next_wakeup(self) -> Instant | None:
        return SIM_EPOCH if self.start else None


class PollOnly:
    """A transport that cannot announce its mail (as over MQTT): the runner must ask it."""

    def __init__(self, inner) -> None:  # noqa: ANN001
        self._inner = inner

    def __getattr__(self, name: str):  # noqa: ANN204
        if name == "on_mail":
            raise AttributeError(name)
        return getattr(self._inner, name)


def _relay_log(*, announced: bool) -> list[tuple[str, bytes]]:
    clock = SimClock()
    broker = InProcBroker(start=clock.now())
    log: list[tuple[str, bytes]] = []
    seats = []
    for name, start in (("a", [7, 11]), ("b", [9]), ("c", [5, 13])):
        transport = broker.client(name)
        seats.append(Seat(name, Relay(name, log, start), transport if announced else PollOnly(transport),
                          [(f"r/{name}", 0)]))
    runner = SimRunner(clock=clock, broker=broker, seats=seats, trace_dt_s=10.0)
    assert (runner._mail is not None) == announced
    runner.connect_all()
    runner.run(until=Instant(SIM_EPOCH + seconds(1.0)))
    return log


def test_serving_announced_mail_keeps_the_order_of_asking_every_seat() -> None:
    announced, polled = _relay_log(announced=True), _relay_log(announced=False)
    assert len(polled) == sum(n + 1 for n in (7, 11, 9, 5, 13))  # every number down to 0 arrived
    assert announced == polled
