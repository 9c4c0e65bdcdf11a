"""SorterAgent on the wire: connection and will, requests with deadlines, bad replies counted."""

from __future__ import annotations

import json

import jsonschema

from bus.clock import seconds
from bus.sorter_protocol import Destination, encode, sorter_topic
from bus.transport import Envelope
from sorter.agent import SorterAgent
from sorter.events import AssignVerdict
from tests.unit.sorter.helpers import at, item, make, small_config
from tests.unit.sorter.test_protocol import SCHEMAS

SITE = "fc1"


def kinds(envs: list[Envelope]) -> list[str]:
    return [e.topic.rsplit("/", 1)[1] for e in envs]


def body(env: Envelope) -> dict:
    return json.loads(env.payload)


def destination(item_id: str, chute: str, header_id: int = 0, sorter: str = "s1") -> Envelope:
    msg = Destination(header_id=header_id, timestamp="2026-11-11T00:00:00.000Z", sorter_id=sorter,
                      item_id=item_id, chute_id=chute)
    return Envelope(sorter_topic(SITE, sorter, "destination"), encode(msg), 1)


def validate(envs: list[Envelope]) -> None:
    for env in envs:
        kind = env.topic.rsplit("/", 1)[1]
        schema = json.loads((SCHEMAS / f"sorter-{kind}.schema.json").read_text())
        jsonschema.validate(body(env), schema)


def test_connect_publishes_retained_online_and_chutes_and_will_is_broken() -> None:
    agent = SorterAgent("s1", SITE, make())
    out = agent.on_connect(at(0))
    assert kinds(out) == ["connection"] + ["chuteState"] * 4 + ["state"]
    assert out[0].retain
    assert body(out[0])["connectionState"] == "ONLINE"
    will = agent.will()
    assert will.retain
    assert will.topic == out[0].topic
    assert body(will)["connectionState"] == "CONNECTIONBROKEN"
    assert body(agent.shutdown(at(1))[0])["connectionState"] == "OFFLINE"
    validate(out + [will])


def test_request_reply_divert_confirm_with_increasing_header_ids() -> None:
    agent = SorterAgent("s1", SITE, make())
    agent.on_connect(at(0))
    out = agent.induct(at(0), item(1), "in-1") + agent.tick(at(2.5))
    assert kinds(out) == ["inducted", "destinationRequest"]
    req = body(out[1])
    assert req["deadline"] == "2026-11-11T00:00:04.000Z"
    out = agent.handle(at(2.5), destination("i1", "c002"))
    out += agent.tick(at(30))
    confirms = [body(e) for e in out if e.topic.endswith("divertConfirm")]
    assert confirms == [{**confirms[0], "itemId": "i1", "chuteId": "c002", "result": "SORTED"}]
    more = agent.induct(at(30), item(2), "in-1") + agent.tick(at(33))
    assert [body(e)["headerId"] for e in more if e.topic.endswith("inducted")] == [1]
    validate(out + more)


def test_late_reply_item_rejected_and_counted() -> None:
    agent = SorterAgent("s1", SITE, make())
    agent.induct(at(0), item(1), "in-1")
    agent.tick(at(2.5))
    out = agent.handle(at(4.5), destination("i1", "c001"))  # deadline was 4.0 s
    out += agent.tick(at(40))
    (confirm,) = [body(e) for e in out if e.topic.endswith("divertConfirm")]
    assert (confirm["chuteId"], confirm["result"], confirm["reason"]) == ("reject", "REJECTED", "late_reply")
    counters = agent.counters()
    assert counters.late_replies == 1
    assert counters.replies_after_deadline == 1
    agent.model.check_conservation()


def test_bad_replies_are_counted_never_raised() -> None:
    agent = SorterAgent("s1", SITE, make())
    agent.induct(at(0), item(1), "in-1")
    agent.tick(at(2.5))
    topic = sorter_topic(SITE, "s1", "destination")
    agent.handle(at(2.5), Envelope(topic, b"{garbage"))
    agent.handle(at(2.5), destination("ghost", "c001", header_id=1))
    agent.handle(at(2.5), destination("i1", "c404", header_id=2))
    agent.handle(at(2.5), destination("i1", "c003", header_id=3))
    agent.handle(at(2.6), destination("i1", "c003", header_id=3))  # same headerId again: stale
    agent.handle(at(2.7), destination("i1", "c003", header_id=4))  # same chute again: duplicate
    agent.handle(at(2.7), destination("i1", "c003", header_id=5, sorter="other"))
    out = agent.tick(at(40))
    c = agent.counters()
    counted = (c.bad_messages, c.unknown_item_replies, c.unknown_chute_replies, c.duplicate_replies)
    assert counted == (1, 1, 1, 2)  # one repeated headerId, one repeated destination
    assert [body(e)["chuteId"] for e in out if e.topic.endswith("divertConfirm")] == ["c003"]
    agent.model.check_conservation()


def test_periodic_state_and_next_wakeup() -> None:
    agent = SorterAgent("s1", SITE, make(small_config(inducts=1, automatic=True)), state_period=seconds(5))
    agent.on_connect(at(0))
    assert agent.next_wakeup() is not None
    out = agent.tick(at(5))
    states = [body(e) for e in out if e.topic.endswith("/state")]
    assert len(states) == 1
    assert states[0]["counters"]["inducted"] == agent.model.counts.inducted > 0
    validate(out)


def test_restarted_controller_is_heard_again() -> None:
    agent = SorterAgent("s1", SITE, make())
    for n in (1, 2):
        agent.induct(at(0), item(n), "in-1")
    agent.tick(at(2.6))
    agent.handle(at(2.6), destination("i1", "c001", header_id=7))
    agent.handle(at(2.6), destination("i2", "c002", header_id=0))  # controller restarted
    assert agent.verdicts.get(AssignVerdict.ACCEPTED) == 2


def test_hostile_replies_are_counted_and_the_next_good_one_is_served() -> None:
    """Issue 25: nesting 10,000 deep, a key twice, a control character in an id, a headerId 2e9."""
    agent = SorterAgent("s1", SITE, make())
    agent.induct(at(0), item(1), "in-1")
    agent.induct(at(0.5), item(2), "in-1")
    agent.tick(at(3))
    topic = sorter_topic(SITE, "s1", "destination")
    good = json.loads(destination("i2", "c002", header_id=2).payload)
    for payload in (b"[" * 10_000 + b"]" * 10_000,
                    json.dumps(good).replace('"chuteId"', '"chuteId": "c001", "chuteId"').encode(),
                    json.dumps(dict(good, itemId="i\u00002")).encode()):
        assert agent.handle(at(3), Envelope(topic, payload)) == []
    agent.handle(at(3), destination("i1", "c003", header_id=1))
    agent.handle(at(3), destination("i2", "c001", header_id=2_000_000_000))  # dropped: far from 1
    agent.handle(at(3), destination("i2", "c002", header_id=2))
    out = agent.tick(at(40))
    assert agent.counters().bad_messages == 3
    confirms = {body(e)["itemId"]: body(e)["chuteId"] for e in out if e.topic.endswith("divertConfirm")}
    assert confirms == {"i1": "c003", "i2": "c002"}
