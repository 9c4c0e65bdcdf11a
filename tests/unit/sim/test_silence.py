"""``--silence-robot``: a vehicle's states are kept off the bus during its span, then one goes out."""

from __future__ import annotations

import pytest

from bus.clock import Instant, seconds
from bus.transport import Envelope
from sim.faults import QuietSpan
from sim.silence import QuietVehicle, with_silences


class Talker:
    """A vehicle that publishes a visualization on every tick, and a state while it drives (or
    once after a connect, as :class:`robots.agent.VehicleAgent` does)."""

    def __init__(self, serial: str) -> None:
        self.serial = serial
        self.driving = True
        self.dirty = False

    def _out(self, kinds: tuple[str, ...]) -> list[Envelope]:
        return [Envelope(f"uagv/v2/m/{self.serial}/{k}", b"{}") for k in kinds]

    def handle(self, now: Instant, msg: Envelope) -> list[Envelope]:
        return self.tick(now)

    def tick(self, now: Instant) -> list[Envelope]:
        say = self.driving or self.dirty
        self.dirty = False
        return self._out(("state", "visualization") if say else ("visualization",))

    def next_wakeup(self) -> Instant | None:
        return None

    def will(self) -> Envelope | None:
        return None

    def on_connect(self, now: Instant) -> list[Envelope]:
        self.dirty = True
        return self._out(("connection", "factsheet")) + self.tick(now)


def kinds(out: list[Envelope]) -> list[str]:
    return [e.topic.rsplit("/", 1)[1] for e in out]


def test_states_are_dropped_in_the_span_and_one_goes_out_when_it_ends() -> None:
    v = QuietVehicle(Talker("a"), [(Instant(seconds(10)), Instant(seconds(20)))])
    assert kinds(v.tick(Instant(seconds(5)))) == ["state", "visualization"]
    assert v.next_wakeup() is None
    assert kinds(v.tick(Instant(seconds(10)))) == ["visualization"]
    assert kinds(v.handle(Instant(seconds(15)), Envelope("x", b""))) == ["visualization"]
    assert v.dropped == 2
    assert v.next_wakeup() == Instant(seconds(20))  # it wakes to be heard again
    assert kinds(v.tick(Instant(seconds(20)))) == ["state", "visualization"]
    assert v.next_wakeup() is None
    assert kinds(v.tick(Instant(seconds(21)))) == ["state", "visualization"]


def test_a_vehicle_with_nothing_to_say_at_the_end_of_its_span_still_says_its_state() -> None:
    talker = Talker("a")
    v = QuietVehicle(talker, [(Instant(seconds(10)), Instant(seconds(20)))])
    assert kinds(v.tick(Instant(seconds(12)))) == ["visualization"]
    talker.driving = False  # it stopped while unheard: nothing new to say at 20 s
    assert kinds(v.tick(Instant(seconds(20)))) == ["visualization", "state", "visualization"]
    assert kinds(v.tick(Instant(seconds(21)))) == ["visualization"]


def test_only_the_named_robot_is_wrapped_and_an_unknown_one_is_refused() -> None:
    robots = [Talker("agv-0001"), Talker("agv-0002")]
    start = Instant(seconds(100))
    agents = with_silences(robots, [QuietSpan("agv-0002", 1.0, 2.0)], start)
    assert agents[0] is robots[0]
    assert isinstance(agents[1], QuietVehicle)
    assert agents[1].spans == [(Instant(seconds(101)), Instant(seconds(102)))]
    with pytest.raises(ValueError, match="--silence-robot agv-0009: no such robot"):
        with_silences(robots, [QuietSpan("agv-0009", 1.0, 2.0)], start)
