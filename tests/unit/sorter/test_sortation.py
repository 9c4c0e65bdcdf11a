"""Controller sortation: plans, answers inside the deadline, reassignment, order events, bad confirms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bus.clock import Instant, iso_timestamp, seconds
from bus.sorter_protocol import ChuteState, DestinationRequest, DivertConfirm, Header, encode, sorter_topic
from bus.transport import Envelope
from controller.sortation.events import ItemRejected, ItemSorted
from controller.sortation.mapping import PlanError, balanced_plan, load_plan
from controller.sortation.planner import SortationPlanner
from tests.unit.sorter.helpers import at

SITE = "fc1"


class Wire:
    """Builds sorter-side messages with increasing header ids."""

    def __init__(self, sorter: str = "s1") -> None:
        self.sorter = sorter
        self.ids: dict[str, int] = {}

    def env(self, kind: str, cls: type[Header], now: Instant, **fields: object) -> Envelope:
        hid = self.ids.get(kind, 0)
        self.ids[kind] = hid + 1
        msg = cls(header_id=hid, timestamp=iso_timestamp(now), sorter_id=self.sorter, **fields)
        return Envelope(sorter_topic(SITE, self.sorter, kind), encode(msg), 1)

    def request(self, now: Instant, item: str, barcode: str, deadline_s: float = 2.0) -> Envelope:
        return self.env("destinationRequest", DestinationRequest, now, item_id=item, barcode=barcode,
                        deadline=iso_timestamp(Instant(now + seconds(deadline_s))))

    def confirm(self, now: Instant, item: str, chute: str, result: str, reason: str = "") -> Envelope:
        return self.env("divertConfirm", DivertConfirm, now, item_id=item, chute_id=chute, result=result,
                        reason=reason)

    def chute(self, now: Instant, chute: str, state: str) -> Envelope:
        return self.env("chuteState", ChuteState, now, chute_id=chute, state=state, fill_items=0,
                        capacity_items=10)


def chutes_of(envs: list[Envelope]) -> list[tuple[str, str]]:
    return [(json.loads(e.payload)["itemId"], json.loads(e.payload)["chuteId"]) for e in envs]


def test_balanced_plan_follows_volume() -> None:
    plan = balanced_plan({"A": 60.0, "B": 30.0, "C": 10.0}, [f"c{k}" for k in range(10)])
    assert {d: len(c) for d, c in plan.items()} == {"A": 6, "B": 3, "C": 1}
    assert sorted(c for cs in plan.values() for c in cs) == sorted(f"c{k}" for k in range(10))
    shared = balanced_plan({"A": 5.0, "B": 3.0, "C": 2.0}, ["x", "y"])
    assert shared == {"A": ("x",), "B": ("y",), "C": ("y",)}


def test_plan_file_and_its_errors(tmp_path: Path) -> None:
    good = tmp_path / "plan.yaml"
    good.write_text("destinations:\n  D001: [c001, c002]\n  D002: c003\n")
    assert load_plan(good, ["c001", "c002", "c003"]) == {"D001": ("c001", "c002"), "D002": ("c003",)}
    bad = tmp_path / "bad.yaml"
    bad.write_text("destinations:\n  D001: [c009]\n")
    with pytest.raises(PlanError, match="bad.yaml: destination 'D001': chute 'c009' does not exist"):
        load_plan(bad, ["c001"])


def test_answers_at_once_round_robin_and_sorted_event() -> None:
    seen: list = []
    planner = SortationPlanner(SITE, {"D1": ("c1", "c2"), "D2": ("c3",)}, on_event=seen.append,
                               strategy="round_robin")
    planner.register_parcel("D1:0001", "order-7", "D1")
    w = Wire()
    out = planner.handle(at(1), w.request(at(1), "i1", "D1:0001"))
    out += planner.handle(at(1), w.request(at(1), "i2", "D1:0002"))
    out += planner.handle(at(1), w.request(at(1), "i3", "D2:0003"))
    assert chutes_of(out) == [("i1", "c1"), ("i2", "c2"), ("i3", "c3")]
    assert all(json.loads(e.payload)["timestamp"] == iso_timestamp(at(1)) for e in out)
    planner.handle(at(5), w.confirm(at(5), "i1", "c1", "SORTED"))
    planner.handle(at(6), w.confirm(at(6), "i2", "reject", "REJECTED", "lap_limit"))
    assert seen == [ItemSorted(at(5), "s1", "i1", "order-7", "c1", "D1:0001"),
                    ItemRejected(at(6), "s1", "i2", None, "lap_limit")]
    assert planner.take_events() == seen


def test_fill_first_fills_one_chute_then_the_next() -> None:
    planner = SortationPlanner(SITE, {"D1": ("c1", "c2", "c3")})
    w = Wire()
    out = [planner.handle(at(1), w.request(at(1), f"i{n}", f"D1:{n}")) for n in range(3)]
    assert [chutes_of(o)[0][1] for o in out] == ["c1", "c1", "c1"]
    planner.handle(at(2), w.chute(at(2), "c1", "FULL"))
    assert chutes_of(planner.handle(at(3), w.request(at(3), "i9", "D1:9"))) == [("i9", "c2")]
    planner.handle(at(4), w.chute(at(4), "c1", "OPEN"))
    assert chutes_of(planner.handle(at(5), w.request(at(5), "i10", "D1:10"))) == [("i10", "c1")]


def test_full_chute_reassigns_items_heading_there() -> None:
    planner = SortationPlanner(SITE, {"D1": ("c1", "c2")}, strategy="round_robin")
    w = Wire()
    planner.handle(at(1), w.request(at(1), "i1", "D1:1"))  # -> c1
    planner.handle(at(1), w.request(at(1), "i2", "D1:2"))  # -> c2
    planner.handle(at(1), w.request(at(1), "i3", "D1:3"))  # -> c1
    out = planner.handle(at(2), w.chute(at(2), "c1", "FULL"))
    assert chutes_of(out) == [("i1", "c2"), ("i3", "c2")]
    assert chutes_of(planner.handle(at(3), w.request(at(3), "i4", "D1:4"))) == [("i4", "c2")]
    planner.handle(at(4), w.chute(at(4), "c1", "OPEN"))
    assert planner.counts.reassigned == 2


def test_recirculated_item_gets_another_chute_and_closed_destination_borrows() -> None:
    planner = SortationPlanner(SITE, {"D1": ("c1",), "D2": ("c2", "c3", "c4")})
    w = Wire()
    planner.handle(at(1), w.request(at(1), "i1", "D1:1"))
    out = planner.handle(at(2), w.chute(at(2), "c1", "CLOSED"))
    assert chutes_of(out) == [("i1", "c2")]  # borrowed from D2, which has the most chutes
    assert planner.plan["D1"][0] == "c2"
    assert "c2" not in planner.plan["D2"]
    assert planner.counts.borrowed_chutes == 1
    planner.handle(at(3), w.request(at(3), "i2", "D2:1"))
    out = planner.handle(at(4), w.confirm(at(4), "i2", "c3", "RECIRCULATED", "full"))
    assert chutes_of(out) == [("i2", "c4")]


def test_bad_input_counted_not_raised() -> None:
    planner = SortationPlanner(SITE, {"D1": ("c1",)})
    w = Wire()
    topic = sorter_topic(SITE, "s1", "divertConfirm")
    assert planner.handle(at(1), Envelope(topic, b"[1, 2")) == []
    late = w.request(at(1), "i1", "D1:1", deadline_s=0.5)
    assert planner.handle(at(2), late) == []  # arrived after its deadline: no answer
    planner.handle(at(3), w.request(at(3), "i2", "D1:2"))
    planner.handle(at(4), w.confirm(at(4), "i2", "c1", "SORTED"))
    planner.handle(at(5), w.confirm(at(5), "i2", "c1", "SORTED"))  # duplicate divert
    planner.handle(at(5), w.confirm(at(5), "ghost", "c1", "SORTED"))
    out = planner.handle(at(6), w.request(at(6), "i3", "NOWHERE:1"))
    assert chutes_of(out) == [("i3", "reject")]
    c = planner.counts
    assert (c.bad_messages, c.expired_requests, c.duplicate_confirms, c.unknown_confirms) == (1, 1, 1, 1)
    assert c.unknown_destinations == 1
    assert [e.item_id for e in planner.take_events()] == ["i2", "ghost"]


def test_restarted_sorter_is_heard_again() -> None:
    from bus.sorter_protocol import Connection

    planner = SortationPlanner(SITE, {"D1": ("c1",)})
    first = Wire()
    for n in range(3):
        assert planner.handle(at(1), first.request(at(1), f"i{n}", "D1:1"))
    restarted = Wire()  # header ids from 0 again
    assert planner.handle(at(2), restarted.request(at(2), "j0", "D1:2")) == []  # looks stale
    planner.handle(at(3), restarted.env("connection", Connection, at(3), connection_state="ONLINE"))
    assert chutes_of(planner.handle(at(3), restarted.request(at(3), "j1", "D1:3"))) == [("j1", "c1")]
    assert planner.connection == {"s1": "ONLINE"}


def test_confirmed_items_are_remembered_for_ten_minutes_not_for_the_shift() -> None:
    """A redelivered confirm within RECENT_DONE_S counts once; the remembered set holds about ten
    minutes of sorting, however long the shift."""
    from controller.sortation.planner import RECENT_DONE_S

    planner = SortationPlanner(SITE, {"D1": ("c1",)})
    w = Wire()
    for k in range(1_500):  # one item a second for 25 minutes
        planner.handle(at(k), w.request(at(k), f"i{k}", f"D1:{k}"))
        planner.handle(at(k), w.confirm(at(k), f"i{k}", "c1", "SORTED"))
        assert len(planner.done) <= RECENT_DONE_S + 1
    planner.handle(at(1_500), w.confirm(at(1_500), "i1499", "c1", "SORTED"))  # redelivered
    assert planner.counts.duplicate_confirms == 1
    assert planner.counts.sorted == 1_500
    assert "i0" not in planner.done
    assert "i1499" in planner.done
