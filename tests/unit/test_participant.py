"""The participant base and the join/publish steps every runner shares, over the in-process bus."""

from __future__ import annotations

from bus.clock import SIM_EPOCH
from bus.inproc import InProcBroker
from bus.participant import Participant, ParticipantBase, join, publish_all
from bus.transport import Envelope


class Announcer(ParticipantBase):
    """Overrides only its will; everything else is the base's no-op."""

    def will(self) -> Envelope | None:
        return Envelope("p/will", b"gone", qos=1, retain=True)


def test_base_answers_nothing() -> None:
    base: Participant = ParticipantBase()
    assert base.handle(SIM_EPOCH, Envelope("x", b"")) == []
    assert base.tick(SIM_EPOCH) == []
    assert base.next_wakeup() is None
    assert base.will() is None
    assert base.on_connect(SIM_EPOCH) == []


def test_join_registers_the_will_and_subscriptions_and_publish_all_keeps_flags() -> None:
    broker = InProcBroker()
    subject, listener = broker.client("subject"), broker.client("listener")
    join(listener, ParticipantBase(), [("p/#", 1)])
    join(subject, Announcer(), [])
    sent = [Envelope("p/a", b"1", qos=1, retain=True), Envelope("p/b", b"2", qos=0)]
    assert publish_all(subject, sent) == 2
    got = listener.drain()
    assert [(e.topic, e.payload, e.qos) for e in got] == [("p/a", b"1", 1), ("p/b", b"2", 0)]
    assert broker.retained()["p/a"].payload == b"1"
    assert "p/b" not in broker.retained()
    subject.close(clean=False)  # dropped off the bus: the broker publishes the will
    (will,) = listener.drain()
    assert (will.topic, will.payload) == ("p/will", b"gone")
    assert broker.retained()["p/will"].payload == b"gone"
