"""In-process broker specifics: seeded faults, simulated latency, takeover, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from bus.clock import SIM_EPOCH, Instant, seconds
from bus.faults import FaultRule
from bus.inproc import InProcBroker, NotConnectedError
from bus.transport import Envelope


def pair(broker: InProcBroker, topic_filter: str = "t/#", qos: int = 1):  # noqa: ANN201
    sub = broker.client("sub")
    sub.connect()
    sub.subscribe(topic_filter, qos=qos)
    pub = broker.client("pub")
    pub.connect()
    return pub, sub


def run(seed: int, rules: list[FaultRule], count: int = 200, qos: int = 0) -> list[bytes]:
    broker = InProcBroker(np.random.default_rng(seed), rules)
    pub, sub = pair(broker)
    for i in range(count):
        pub.publish(f"t/{i % 5}", str(i).encode(), qos=qos)
    step = 0
    while (due := broker.next_due()) is not None and step < 10_000:
        broker.advance_to(due)
        step += 1
    return [m.payload for m in sub.drain()]


def test_no_faults_without_a_generator() -> None:
    with pytest.raises(ValueError, match="seeded"):
        InProcBroker(faults=[FaultRule(loss_p=0.5)])


def test_fault_rule_validation() -> None:
    with pytest.raises(ValueError, match="loss_p"):
        FaultRule(loss_p=1.5)
    with pytest.raises(ValueError, match="latency_s"):
        FaultRule(latency_s=(2.0, 1.0))


def test_same_seed_same_delivery_other_seed_differs() -> None:
    rules = [FaultRule("t/#", loss_p=0.1, duplicate_p=0.1, reorder_p=0.1, latency_s=(0.01, 0.2))]
    first = run(7, rules)
    assert first == run(7, rules)
    assert first != run(8, rules)


def test_loss_drops_qos0_only_unless_asked() -> None:
    rules = [FaultRule("t/#", loss_p=0.5)]
    lossy = run(1, rules, count=400, qos=0)
    assert 120 < len(lossy) < 280
    assert lossy == sorted(lossy, key=int)  # loss alone never reorders
    assert len(run(1, rules, count=400, qos=1)) == 400
    assert len(run(1, [FaultRule("t/#", loss_p=0.5, lossy_qos1=True)], count=400, qos=1)) < 300


def test_duplicates_come_back_to_back() -> None:
    got = run(3, [FaultRule("t/#", duplicate_p=0.3)], count=300)
    assert len(got) > 330
    assert list(dict.fromkeys(got)) == [str(i).encode() for i in range(300)]


def test_reorder_swaps_with_the_next_message() -> None:
    broker = InProcBroker(np.random.default_rng(5), [FaultRule("t/#", reorder_p=0.2)])
    pub, sub = pair(broker)
    for i in range(300):
        pub.publish("t/x", str(i).encode())
    broker.advance_to(broker.now)  # release a trailing held-back message
    got = [int(m.payload) for m in sub.drain()]
    assert sorted(got) == list(range(300))
    assert got != list(range(300))
    assert broker.counters.reordered > 20
    assert all(abs(v - i) <= 1 for i, v in enumerate(got))


def test_latency_waits_for_the_simulated_clock_and_keeps_order() -> None:
    broker = InProcBroker(np.random.default_rng(2), [FaultRule("t/slow/#", latency_s=(0.1, 0.5))])
    pub, sub = pair(broker)
    for i in range(50):
        pub.publish("t/slow/a", str(i).encode(), qos=1)
    pub.publish("t/fast", b"fast", qos=1)
    assert [m.payload for m in sub.drain()] == [b"fast"]
    due = broker.next_due()
    assert due is not None
    assert SIM_EPOCH + seconds(0.1) <= due <= SIM_EPOCH + seconds(0.5)
    broker.advance_to(Instant(due - 1))
    assert sub.drain() == []
    got: list[int] = []
    while (due := broker.next_due()) is not None:
        broker.advance_to(due)
        got += [int(m.payload) for m in sub.drain()]
    assert got == list(range(50))  # latency alone never reorders one publisher's messages
    assert broker.now <= SIM_EPOCH + seconds(0.5)
    with pytest.raises(ValueError, match="backwards"):
        broker.advance_to(SIM_EPOCH)


def test_first_matching_rule_wins() -> None:
    rules = [FaultRule("t/keep", loss_p=0.0), FaultRule("t/#", loss_p=1.0)]
    broker = InProcBroker(np.random.default_rng(0), rules)
    pub, sub = pair(broker)
    pub.publish("t/keep", b"1")
    pub.publish("t/drop", b"2")
    assert [m.payload for m in sub.drain()] == [b"1"]
    assert broker.counters.lost == 1


def test_overlapping_filters_deliver_once_at_the_highest_qos() -> None:
    broker = InProcBroker()
    sub = broker.client("sub")
    sub.connect()
    seen: list[str] = []
    sub.subscribe("a/#", lambda m: seen.append("hash"), qos=0)
    sub.subscribe("a/+", lambda m: seen.append("plus"), qos=1)
    pub = broker.client("pub")
    pub.connect()
    pub.publish("a/b", b"", qos=1)
    assert [m.qos for m in sub.drain()] == [1]
    pub.publish("a/b", b"", qos=1)
    assert sub.dispatch() == 1
    assert seen == ["hash", "plus"]


def test_client_id_takeover_drops_the_old_connection_with_its_will() -> None:
    broker = InProcBroker()
    watcher = broker.client("w")
    watcher.connect()
    watcher.subscribe("will/#")
    old = broker.client("agv")
    old.connect(Envelope("will/agv", b"broken", 0, False))
    new = broker.client("agv")
    new.connect()
    assert not old.connected
    assert new.connected
    assert [m.payload for m in watcher.drain()] == [b"broken"]


def test_not_connected_is_an_error_and_payload_must_be_bytes() -> None:
    broker = InProcBroker()
    client = broker.client("c")
    with pytest.raises(NotConnectedError, match="not connected"):
        client.publish("a", b"")
    client.connect()
    with pytest.raises(TypeError, match="bytes"):
        client.publish("a", 42)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="already connected"):
        client.connect()


def test_restart_with_persistence_keeps_retained_and_sessions() -> None:
    broker = InProcBroker()
    pub = broker.client("pub")
    pub.connect()
    pub.publish("r", b"kept", retain=True)
    away = broker.client("away", clean_session=False)
    away.connect()
    away.subscribe("q/#", qos=1)
    away.close()
    broker.restart(persistence=True)
    pub.publish("q/1", b"queued", qos=1)
    back = broker.client("away", clean_session=False)
    back.connect()
    assert [m.payload for m in back.drain()] == [b"queued"]
    back.subscribe("r")
    assert [m.payload for m in back.drain()] == [b"kept"]
    broker.restart()
    late = broker.client("late")
    late.connect()
    late.subscribe("r")
    assert late.drain() == []
