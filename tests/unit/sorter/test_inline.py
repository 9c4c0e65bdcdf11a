"""InlineSorter: same scanner/chutes/deadlines as the loop, but whatever cannot leave ends in reject.

    in-1  scanner   c001  c002  c003  c004              end = reject
    0 m   3 m       8     10    12    14                20 m     (1 m/s, items 0.8 m apart)
"""

from __future__ import annotations

import numpy as np

from bus.clock import SIM_EPOCH
from sorter.config import InlineConfig
from sorter.events import REJECT_CHUTE, DestinationNeeded, Diverted, DivertResult, Item
from sorter.inline import InlineSorter
from tests.unit.sorter.helpers import at

CFG = InlineConfig(sorter_id="i1", length_m=20.0, speed_mps=1.0, scanner={"position_m": 3.0},
                   chutes={"count": 4, "first_m": 8.0, "spacing_m": 2.0, "sides": 1, "capacity_items": 1,
                           "clear_time_s": 30.0})


def make(resolver=None, cfg: InlineConfig = CFG) -> InlineSorter:
    return InlineSorter(cfg, np.random.default_rng(5), SIM_EPOCH, resolver=resolver)


def diverts(events: list) -> list[tuple[str, str, DivertResult, str]]:
    return [(e.item_id, e.chute_id, e.result, e.reason) for e in events if isinstance(e, Diverted)]


def test_sorted_then_full_chute_goes_to_end_reject() -> None:
    m = make(resolver=lambda code: "c002")
    m.induct(at(0), Item("a", "D1:1"))
    m.induct(at(0), Item("b", "D1:2"))
    events = m.advance_to(at(40))
    assert diverts(events) == [("a", "c002", DivertResult.SORTED, ""),
                               ("b", REJECT_CHUTE, DivertResult.REJECTED, "chute_full")]
    a_at = next(e.at for e in events if isinstance(e, Diverted) and e.item_id == "a")
    assert a_at == at(10)  # 10 m at 1 m/s
    m.check_conservation()


def test_items_keep_their_gap_and_rate() -> None:
    m = make(resolver=lambda code: "c001")
    for k in range(5):
        m.induct(at(0), Item(f"i{k}", f"D1:{k}"))
    m.advance_to(at(3))
    times = sorted(p.inducted_at for p in m.parcels.values())
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert all(g >= 0.8e9 for g in gaps)  # 0.8 m at 1 m/s


def test_late_reply_and_passed_chute_reject() -> None:
    m = make()
    m.induct(at(0), Item("a", "D1:1"))
    events = m.advance_to(at(3.5))
    assert [e.item_id for e in events if isinstance(e, DestinationNeeded)] == ["a"]
    m.advance_to(at(9))  # deadline 4.5 s passed
    m.induct(at(9), Item("b", "D1:2"))
    m.advance_to(at(12.5))
    m.assign(at(12.5), "b", "c001")  # b is at 3.5 m: fine
    events = m.advance_to(at(60))
    assert diverts(events) == [("b", "c001", DivertResult.SORTED, ""),  # 8 m at 17 s
                               ("a", REJECT_CHUTE, DivertResult.REJECTED, "late_reply")]  # 20 m at 20 s
    m.check_conservation()


def test_reassign_to_a_chute_behind_the_item_rejects_it() -> None:
    m = make(resolver=lambda code: "c004")
    m.induct(at(0), Item("a", "D1:1"))
    m.advance_to(at(11))  # at 11 m, c001 (8 m) is behind
    m.assign(at(11), "a", "c001")
    assert diverts(m.advance_to(at(60))) == [("a", REJECT_CHUTE, DivertResult.REJECTED, "chute_passed")]
    m.check_conservation()
