"""LoopSorter behaviour on the small line of :mod:`tests.unit.sorter.helpers`."""

from __future__ import annotations

import itertools

from bus.clock import SIM_EPOCH, seconds
from sorter.events import (
    REJECT_CHUTE,
    AssignVerdict,
    ChuteChanged,
    ChuteStatus,
    DestinationNeeded,
    Diverted,
    DivertResult,
    Inducted,
)
from tests.unit.sorter.helpers import at, item, make, small_config


def diverts(events: list) -> list[Diverted]:
    return [e for e in events if isinstance(e, Diverted)]


def test_carrier_position_is_computed_from_time() -> None:
    m = make()
    assert m.carrier_count == 40
    assert m.carrier_position_m(0, at(0)) == 0.0
    assert abs(m.carrier_position_m(0, at(3.25)) - 3.25) < 1e-9
    assert abs(m.carrier_position_m(2, at(3.0)) - 2.0) < 1e-9  # trails carrier 0 by 1 m
    t = m.carrier_arrival(7, 11.0, at(5.0))
    assert t >= at(5.0)
    assert abs(m.carrier_position_m(7, t) - 11.0) < 1e-6
    assert m.carrier_arrival(7, 11.0, t) == t  # at or after


def test_item_is_scanned_asked_for_and_sorted() -> None:
    m = make()
    m.induct(at(0), item(1), "in-1")
    events = m.advance_to(at(2.5))  # inducted at 1 m at t=0, scanned at 3 m at t=2
    inducted = [e for e in events if isinstance(e, Inducted)]
    asked = [e for e in events if isinstance(e, DestinationNeeded)]
    assert [e.item_id for e in inducted] == ["i1"]
    assert asked[0].barcode == "D001:0001"
    assert asked[0].deadline == asked[0].at + seconds(2.0)
    assert m.assign(asked[0].at, "i1", "c003") is AssignVerdict.ACCEPTED
    events = m.advance_to(at(30))
    (d,) = diverts(events)
    inducted += [e for e in events if isinstance(e, Inducted)]
    assert (d.chute_id, d.result) == ("c003", DivertResult.SORTED)
    # discharged when its carrier is at the chute (9 m)
    carrier = inducted[0].carriers[0]
    assert abs(m.carrier_position_m(carrier, d.at) - 9.0) < 1e-6
    m.check_conservation()


def test_no_read_goes_to_reject() -> None:
    m = make(small_config(no_read=1.0))
    for n in range(3):
        m.induct(at(0), item(n), "in-1")
    events = m.advance_to(at(60))
    assert not [e for e in events if isinstance(e, DestinationNeeded)]
    results = {(d.item_id, d.chute_id, d.result, d.reason) for d in diverts(events)}
    assert results == {(f"i{n}", REJECT_CHUTE, DivertResult.REJECTED, "no_read") for n in range(3)}
    assert m.counts.no_reads == 3
    assert m.counts.rejected == 3
    m.check_conservation()


def test_chute_full_then_recirculate_then_cleared() -> None:
    m = make(small_config(capacity=1, clear_s=30.0), resolver=lambda code: "c001")
    m.induct(at(0), item(1), "in-1")
    m.induct(at(0), item(2), "in-1")
    events = m.advance_to(at(10))
    first, full = [e for e in events if isinstance(e, Diverted | ChuteChanged)][:2]
    assert (first.item_id, first.result) == ("i1", DivertResult.SORTED)
    assert full == ChuteChanged(first.at, "c001", ChuteStatus.FULL, 1, 1)
    (miss,) = [d for d in diverts(events) if d.item_id == "i2"]
    assert miss.result is DivertResult.RECIRCULATED
    assert miss.reason == "full"
    events = m.advance_to(at(45))  # cleared at first.at + 30 s, i2 comes back a lap (20 s) later
    cleared = [e for e in events if isinstance(e, ChuteChanged)]
    assert cleared[0].status is ChuteStatus.OPEN
    assert cleared[0].at == first.at + seconds(30)
    sorted_ = [d for d in diverts(events) if d.result is DivertResult.SORTED]
    assert [(d.item_id, d.recirculations) for d in sorted_] == [("i2", 2)]
    assert sorted_[0].at > cleared[0].at
    assert m.counts.recirculated == 2
    m.check_conservation()


def test_lap_limit_sends_to_reject() -> None:
    m = make(small_config(max_recirculations=2), resolver=lambda code: "c002")
    m.set_chute_closed(at(0), "c002", True)
    m.induct(at(0), item(1), "in-1")
    events = m.advance_to(at(120))
    ds = diverts(events)
    assert [d.result for d in ds] == [DivertResult.RECIRCULATED] * 2 + [DivertResult.REJECTED]
    assert ds[0].reason == "closed"
    assert (ds[-1].chute_id, ds[-1].reason) == (REJECT_CHUTE, "lap_limit")
    assert m.counts.lap_limit_rejects == 1
    m.check_conservation()


def test_late_reply_goes_to_reject_and_is_counted() -> None:
    m = make()
    m.induct(at(0), item(1), "in-1")
    (ask,) = [e for e in m.advance_to(at(2.5)) if isinstance(e, DestinationNeeded)]
    events = m.advance_to(ask.deadline)
    assert m.counts.late_replies == 1
    assert m.assign(ask.deadline + seconds(0.1), "i1", "c001") is AssignVerdict.LATE
    ds = diverts(events + m.advance_to(at(60)))
    assert [(d.chute_id, d.reason) for d in ds] == [(REJECT_CHUTE, "late_reply")]
    m.check_conservation()


def test_closing_a_chute_mid_run_recirculates_until_reassigned() -> None:
    m = make(resolver=lambda code: "c004")
    m.induct(at(0), item(1), "in-1")
    m.advance_to(at(4))  # scanned and routed to c004 (11 m)
    m.set_chute_closed(at(4), "c004", True)
    events = m.advance_to(at(15))
    assert any(isinstance(e, ChuteChanged) and e.status is ChuteStatus.CLOSED for e in events)
    (miss,) = diverts(events)
    assert miss.result is DivertResult.RECIRCULATED
    assert m.assign(at(15), "i1", "c004") is AssignVerdict.DUPLICATE
    assert m.assign(at(15), "i1", "c001") is AssignVerdict.REASSIGNED
    (d,) = diverts(m.advance_to(at(40)))
    assert (d.chute_id, d.result) == ("c001", DivertResult.SORTED)
    m.set_chute_closed(at(40), "c004", False)
    assert m.chutes.get("c004").status is ChuteStatus.OPEN
    m.check_conservation()


def test_bad_destinations_are_counted_not_fatal() -> None:
    m = make()
    m.induct(at(0), item(1), "in-1")
    m.advance_to(at(2.5))
    assert m.assign(at(2.5), "nobody", "c001") is AssignVerdict.UNKNOWN_ITEM
    assert m.assign(at(2.5), "i1", "c999") is AssignVerdict.UNKNOWN_CHUTE
    assert m.assign(at(2.5), "i1", "c002") is AssignVerdict.ACCEPTED
    m.advance_to(at(30))
    assert m.assign(at(30), "i1", "c002") is AssignVerdict.DUPLICATE
    c = m.counts
    assert (c.unknown_items, c.unknown_chutes, c.duplicates, c.sorted) == (1, 1, 1, 1)
    assert not m.set_chute_closed(at(30), "c999", True)
    m.check_conservation()


def test_oversized_item_takes_two_adjacent_carriers() -> None:
    m = make(resolver=lambda code: "c001")
    m.induct(at(0), item(1, oversized=True), "in-1")
    m.induct(at(0), item(2), "in-1")
    events = m.advance_to(at(3))
    big, small = [e for e in events if isinstance(e, Inducted)]
    a, b = big.carriers
    assert b == (a + 1) % m.carrier_count
    assert small.carriers[0] not in big.carriers
    assert sum(o is not None for o in m.occupant) == 3
    m.advance_to(at(30))
    assert all(o is None for o in m.occupant)
    m.check_conservation()


def test_reservation_lets_a_downstream_induct_through() -> None:
    # in-1 upstream of in-2; both saturated. Without reservations in-2 would only get gaps.
    chutes = itertools.cycle(["c001", "c002", "c003", "c004"])
    m = make(small_config(inducts=2, automatic=True, capacity=10_000), resolver=lambda code: next(chutes))
    m.advance_to(at(600))
    a, b = (ind.inducted for ind in m.inducts)
    assert a + b == m.counts.inducted
    assert b > 0.9 * 600
    assert a > 0.9 * 600
    m.check_conservation()


def test_same_seed_same_events_other_seed_differs() -> None:
    def run(seed: int) -> list:
        m = make(small_config(no_read=0.2, inducts=2, automatic=True), seed=seed, resolver=lambda c: "c002")
        return m.advance_to(at(300))

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_time_never_goes_back() -> None:
    m = make()
    m.advance_to(at(5))
    try:
        m.advance_to(SIM_EPOCH)
    except ValueError:
        return
    raise AssertionError("advance_to accepted an earlier instant")


def test_seeded_poisson_arrivals_at_an_induct() -> None:
    from sorter.config import InductConfig

    cfg = small_config().model_copy(update={"inducts": (
        InductConfig(induct_id="in-1", position_m=1.0, arrival_rate_per_h=1800.0),)})
    m = make(cfg, resolver=lambda code: "c001")
    m.advance_to(at(3600))
    assert abs(m.counts.inducted - 1800) < 4 * 1800**0.5
    again = make(cfg, resolver=lambda code: "c001")
    again.advance_to(at(3600))
    assert again.counts.inducted == m.counts.inducted
    m.check_conservation()


def test_an_induct_is_either_automatic_or_poisson() -> None:
    import pytest

    from sorter.config import InductConfig

    with pytest.raises(ValueError, match="not both"):
        InductConfig(induct_id="x", position_m=0, automatic=True, arrival_rate_per_h=10)


def test_without_reservation_a_greedy_upstream_induct_starves_the_next() -> None:
    from sorter.config import InductConfig

    def run(reserve: bool) -> list[int]:
        chutes = itertools.cycle(["c001", "c002", "c003", "c004"])
        cfg = small_config(capacity=10**6).model_copy(update={"reserve_carriers": reserve, "inducts": (
            InductConfig(induct_id="in-1", position_m=1.0, rate_cap_per_h=7200, automatic=True),
            InductConfig(induct_id="in-2", position_m=1.5, rate_cap_per_h=3600, automatic=True))})
        m = make(cfg, resolver=lambda code: next(chutes))
        m.advance_to(at(600))
        m.check_conservation()
        return [ind.inducted for ind in m.inducts]

    greedy, starved = run(False)
    assert starved < 10  # in-1 can fill every carrier (2 per second)
    upstream, downstream = run(True)
    assert downstream > 0.6 * 600  # reservations win in-2 most of its 1 item/s
    assert upstream + downstream >= 0.99 * 1200  # and no carrier goes round empty


def test_items_that_left_the_line_are_remembered_for_ten_minutes() -> None:
    """A sorter runs for months: it remembers item ids for RECENT_FINISHED_S after they leave the
    line (a repeated reply is a duplicate), then only counts them (a reply is an unknown item)."""
    m = make(small_config(capacity=10_000))
    for n in range(60):  # one item every 30 s over 30 minutes, each sent to c001
        m.induct(at(30 * n), item(n), "in-1")
        m.advance_to(at(30 * n + 2.5))
        assert m.assign(at(30 * n + 2.5), f"i{n}", "c001") is AssignVerdict.ACCEPTED
    m.advance_to(at(30 * 60))
    assert m.counts.sorted == m.finished_total == 60
    assert 18 <= len(m.finished) <= 21  # the last ten minutes' items, not the whole shift
    assert m.assign(at(30 * 60), "i59", "c001") is AssignVerdict.DUPLICATE
    assert m.assign(at(30 * 60), "i0", "c001") is AssignVerdict.UNKNOWN_ITEM
    m.check_conservation()
    m.induct(at(30 * 60 + 1), item(40), "in-1")  # the same id inducted again, 20 minutes later
    m.advance_to(at(30 * 60 + 3.5))
    assert m.assign(at(30 * 60 + 3.5), "i40", "c002") is AssignVerdict.ACCEPTED
    m.advance_to(at(30 * 80))
    assert m.finished_total == 61
    assert m.finished["i40"] == "c002"
    assert set(m.finished) == {f"i{n}" for n in range(40, 60)}  # left within ten minutes of the last
    m.check_conservation()
