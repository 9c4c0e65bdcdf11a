"""Hypothesis properties of the in-process broker against a tiny reference model.

- The retained store after any sequence of publishes equals "last non-empty retained payload
  per topic, deleted by an empty one", and a late subscriber gets exactly the matching part.
- Live delivery to a subscriber is exactly the published messages whose topic matches, in order.
- Latency and duplication faults never break one publisher's order on a topic; the same seed
  replays the same delivery.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bus.faults import FaultRule
from bus.inproc import InProcBroker
from bus.topicmatch import topic_matches

TOPIC = st.sampled_from(["a", "a/b", "a/c", "a/b/c", "b", "b/x", "$s/a", "a//b"])
FILTER = st.sampled_from(["#", "a/#", "a/+", "+/+", "+", "a/b", "$s/#", "+/b/#", "a/+/b"])
PUBLISH = st.tuples(TOPIC, st.sampled_from([b"", b"1", b"2"]), st.integers(0, 1), st.booleans())


@settings(max_examples=150, deadline=None)
@given(publishes=st.lists(PUBLISH, max_size=25), topic_filter=FILTER)
def test_retained_store_matches_the_model(publishes: list, topic_filter: str) -> None:
    broker = InProcBroker()
    pub = broker.client("pub")
    pub.connect()
    model: dict[str, bytes] = {}
    for topic, payload, qos, retain in publishes:
        pub.publish(topic, payload, qos=qos, retain=retain)
        if retain:
            if payload:
                model[topic] = payload
            else:
                model.pop(topic, None)
    assert {t: m.payload for t, m in broker.retained().items()} == model
    late = broker.client("late")
    late.connect()
    late.subscribe(topic_filter, qos=1)
    got = {m.topic: m.payload for m in late.drain()}
    assert got == {t: p for t, p in model.items() if topic_matches(topic_filter, t)}


@settings(max_examples=150, deadline=None)
@given(publishes=st.lists(PUBLISH, max_size=30), topic_filter=FILTER, sub_qos=st.integers(0, 1))
def test_live_delivery_is_the_matching_subsequence(publishes: list, topic_filter: str, sub_qos: int) -> None:
    broker = InProcBroker()
    sub = broker.client("sub")
    sub.connect()
    sub.subscribe(topic_filter, qos=sub_qos)
    pub = broker.client("pub")
    pub.connect()
    for topic, payload, qos, retain in publishes:
        pub.publish(topic, payload, qos=qos, retain=retain)
    got = [(m.topic, m.payload, m.qos, m.retain) for m in sub.drain()]
    expected = [(t, p, min(q, sub_qos), False) for t, p, q, _ in publishes if topic_matches(topic_filter, t)]
    assert got == expected


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), count=st.integers(1, 80),
       duplicate_p=st.floats(0, 0.5), high_s=st.floats(0, 0.5))
def test_latency_and_duplicates_keep_publisher_order_and_replay(
    seed: int, count: int, duplicate_p: float, high_s: float
) -> None:
    rules = [FaultRule("#", duplicate_p=duplicate_p, latency_s=(0.0, high_s))]

    def run() -> list[int]:
        broker = InProcBroker(np.random.default_rng(seed), rules)
        sub = broker.client("sub")
        sub.connect()
        sub.subscribe("t/#", qos=1)
        pub = broker.client("pub")
        pub.connect()
        for i in range(count):
            pub.publish(f"t/{i % 3}", str(i).encode(), qos=1)
        while (due := broker.next_due()) is not None:
            broker.advance_to(due)
        return [(m.topic, int(m.payload)) for m in sub.drain()]

    first = run()
    assert first == run()
    assert sorted(set(first), key=lambda tv: tv[1]) == [(f"t/{i % 3}", i) for i in range(count)]
    for topic in ("t/0", "t/1", "t/2"):  # MQTT orders each topic of one publisher
        on_topic = [v for t, v in first if t == topic]
        assert on_topic == sorted(on_topic)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), count=st.integers(1, 60), reorder_p=st.floats(0, 1),
       high_s=st.floats(0, 0.3), subscribers=st.integers(1, 3))
def test_reorder_and_latency_lose_nothing_and_next_due_drains(
    seed: int, count: int, reorder_p: float, high_s: float, subscribers: int
) -> None:
    rules = [FaultRule("#", reorder_p=reorder_p, latency_s=(0, high_s))]
    broker = InProcBroker(np.random.default_rng(seed), rules)
    subs = []
    for k in range(subscribers):
        sub = broker.client(f"sub{k}")
        sub.connect()
        sub.subscribe("t/#", qos=1)
        subs.append(sub)
    pub = broker.client("pub")
    pub.connect()
    for i in range(count):
        pub.publish(f"t/{i % 2}", str(i).encode())
    steps = 0
    while (due := broker.next_due()) is not None:
        broker.advance_to(due)
        steps += 1
        assert steps <= 2 * count * subscribers + 2, "next_due never settles"
    for sub in subs:
        assert sorted(int(m.payload) for m in sub.drain()) == list(range(count))


SUBSCRIBER = st.lists(st.tuples(FILTER, st.integers(0, 1)), max_size=4)


@settings(max_examples=150, deadline=None)
@given(subscribers=st.lists(SUBSCRIBER, min_size=1, max_size=6), topic=TOPIC,
       dropped=st.sets(st.integers(0, 5), max_size=2), qos=st.integers(0, 1))
def test_routing_reaches_every_matching_session_in_session_order(
    subscribers: list, topic: str, dropped: set, qos: int
) -> None:
    """Each session whose filters match gets one copy at min(published QoS, its best matching
    filter's QoS), and copies go out in the order the sessions were created (the broker's index of
    exact and wildcard filters must keep what asking every filter of every session gave)."""
    broker = InProcBroker()
    clients = []
    for k, filters in enumerate(subscribers):
        client = broker.client(f"s{k}")
        client.connect()
        for topic_filter, sub_qos in filters:
            client.subscribe(topic_filter, qos=sub_qos)
        clients.append(client)
    for k in sorted(dropped):
        if k < len(clients) and subscribers[k]:
            gone = subscribers[k][0][0]
            clients[k].unsubscribe(gone)
            subscribers[k] = [f for f in subscribers[k] if f[0] != gone]
    order: list[str] = []
    for client in clients:
        client.on_mail(lambda cid=client.client_id: order.append(cid))
    pub = broker.client("pub")
    pub.connect()
    pub.publish(topic, b"x", qos=qos)
    expected = []
    for k, filters in enumerate(subscribers):
        latest = dict(filters)  # subscribing to a filter again replaces its QoS (MQTT 3.8.4)
        levels = [q for f, q in latest.items() if topic_matches(f, topic)]
        if levels:
            expected.append((f"s{k}", min(qos, max(levels))))
    got = [(c.client_id, m.qos) for c in clients for m in c.drain()]
    assert order == [cid for cid, _ in expected]
    assert sorted(got) == sorted(expected)
