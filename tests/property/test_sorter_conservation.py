"""Item conservation: every inducted item ends in exactly one place, whatever the stream.

Hypothesis generates streams of inducts (any induct, oversized or not), destinations (right,
wrong, unknown items, unknown chutes, late), chute closings and reopenings, and clock jumps, on
small lines with few chutes (so they fill) and a tight lap limit. After every step the model's
own :meth:`check_conservation` must hold, and after a long drain nothing may be left on the line.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bus.clock import SIM_EPOCH, Instant, seconds
from sorter.config import InlineConfig
from sorter.events import DestinationNeeded, Item
from sorter.inline import InlineSorter
from sorter.loop import LoopSorter
from tests.unit.sorter.helpers import small_config

CHUTES = ["c001", "c002", "c003", "c004", "reject", "c999"]

induct = st.tuples(st.just("induct"), st.integers(0, 1), st.booleans())
assign = st.tuples(st.just("assign"), st.integers(0, 40), st.sampled_from(CHUTES))
close = st.tuples(st.just("close"), st.sampled_from(CHUTES[:4]), st.booleans())
wait = st.tuples(st.just("wait"), st.floats(0.0, 8.0), st.booleans())
streams = st.lists(st.one_of(induct, induct, assign, close, wait), max_size=80)


def by_label(barcode: str) -> str:
    """Destination ``Dk`` goes to chute ``c00{k+1}`` (so chutes fill and items recirculate)."""
    return f"c00{int(barcode[1]) + 1}"


def run_stream(model: LoopSorter | InlineSorter, actions: list[tuple], induct_ids: list[str]) -> None:
    now = SIM_EPOCH
    serial = 0
    asked: list[str] = []
    for action in actions:
        kind = action[0]
        if kind == "induct":
            serial += 1
            item = Item(f"i{serial}", f"D{serial % 3}:{serial}", oversized=action[2])
            model.induct(now, item, induct_ids[action[1] % len(induct_ids)])
        elif kind == "assign":
            item_id = asked[action[1] % len(asked)] if asked and action[1] < 35 else f"i{action[1]}"
            model.assign(now, item_id, action[2])
        elif kind == "close":
            model.set_chute_closed(now, action[1], action[2])
        else:
            now = Instant(now + seconds(action[1]))
        for event in model.advance_to(max(now, model.now)):
            if isinstance(event, DestinationNeeded):
                asked.append(event.item_id)
        model.check_conservation()
    for chute in CHUTES[:4]:
        model.set_chute_closed(model.now, chute, False)
    model.advance_to(Instant(model.now + seconds(600)))
    model.check_conservation()
    assert not model.parcels, "items left on the line after ten quiet minutes"
    assert model.counts.inducted == model.counts.sorted + model.counts.rejected
    waiting = sum(len(i.queue) for i in model.inducts) if isinstance(model, LoopSorter) else len(model.queue)
    assert model.counts.inducted == serial - waiting


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams, st.integers(0, 2**32 - 1), st.sampled_from([0.0, 0.3]), st.booleans())
def test_loop_conserves_items(actions: list[tuple], seed: int, no_read: float, resolve: bool) -> None:
    cfg = small_config(capacity=2, clear_s=20.0, no_read=no_read, max_recirculations=1, inducts=2)
    model = LoopSorter(cfg, np.random.default_rng(seed), resolver=by_label if resolve else None)
    run_stream(model, actions, ["in-1", "in-2"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams, st.integers(0, 2**32 - 1), st.booleans())
def test_inline_conserves_items(actions: list[tuple], seed: int, resolve: bool) -> None:
    cfg = InlineConfig(sorter_id="i1", length_m=20.0, speed_mps=1.0, chutes={
        "count": 4, "first_m": 8.0, "spacing_m": 2.0, "sides": 1, "capacity_items": 2, "clear_time_s": 20.0},
        scanner={"position_m": 3.0, "no_read_probability": 0.2})
    model = InlineSorter(cfg, np.random.default_rng(seed), resolver=by_label if resolve else None)
    run_stream(model, actions, ["in-1"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.floats(0.0, 3.0), st.lists(st.tuples(st.floats(1, 170), st.sampled_from(
    CHUTES[:4]), st.booleans()), max_size=6))
def test_agent_and_controller_agree_on_every_item(seed: int, reply_delay_s: float, closings: list) -> None:
    """Through the wire: each SORTED divert is exactly one ItemSorted for the order book, nothing is lost."""
    from controller.sortation.events import ItemSorted
    from controller.sortation.planner import SortationPlanner
    from sim.sorter_runner import SorterRun
    from sorter.agent import SorterAgent

    cfg = small_config(capacity=3, clear_s=15.0, no_read=0.05, max_recirculations=1, inducts=2,
                       automatic=True)
    model = LoopSorter(cfg, np.random.default_rng(seed))
    plan = {f"D{k:03d}": (("c001", "c002") if k % 2 else ("c003", "c004")) for k in range(1, 181)}
    planner = SortationPlanner("t", plan)
    run = SorterRun(SorterAgent("s1", "t", model), planner, reply_delay=seconds(reply_delay_s))
    for at_s, chute, closed in sorted(closings):
        run.run_until(Instant(model.start + seconds(at_s)))
        run.from_sorter(run.agent.close_chute(run.now, chute, closed))
    run.run_until(Instant(model.start + seconds(180)))
    model.check_conservation()
    events = planner.take_events()
    sorted_ids = [e.item_id for e in events if isinstance(e, ItemSorted)]
    assert len(sorted_ids) == len(set(sorted_ids)) == model.counts.sorted
    assert len(events) == model.counts.sorted + model.counts.rejected
    assert planner.counts.duplicate_confirms == 0
