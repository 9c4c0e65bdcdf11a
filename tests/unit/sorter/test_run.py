"""Agent and controller together in simulated time (SorterRun): late replies, closing a chute mid-run."""

from __future__ import annotations

import json

from bus.clock import Instant, seconds
from controller.sortation.events import ItemSorted
from controller.sortation.planner import SortationPlanner
from sim.sorter_runner import SorterRun
from sorter.agent import SorterAgent
from tests.unit.sorter.helpers import make, small_config

PLAN = {f"D{k:03d}": ("c001", "c002") if k % 2 else ("c003", "c004") for k in range(1, 181)}


def run_for(model, planner, minutes: float, reply_delay_s: float = 0.0) -> SorterRun:
    run = SorterRun(SorterAgent("s1", "t", model), planner, reply_delay=seconds(reply_delay_s))
    run.run_until(Instant(model.start + seconds(60 * minutes)))
    return run


def test_every_reply_late_means_every_read_item_rejected() -> None:
    model = make(small_config(inducts=1, automatic=True, reply_timeout_s=1.0))
    planner = SortationPlanner("t", PLAN)
    run_for(model, planner, 2, reply_delay_s=1.5)
    c = model.counts
    assert c.inducted > 100
    assert c.sorted == 0
    assert c.rejected == c.inducted - len(model.parcels)
    heading_to_reject = [p for p in model.parcels.values() if p.reject_reason == "late_reply"]
    assert c.late_replies == c.rejected + len(heading_to_reject)
    assert model.counts.rejects_by_reason == {"late_reply": c.rejected}
    model.check_conservation()


def test_replies_inside_the_deadline_sort_everything_and_tell_the_order_book() -> None:
    model = make(small_config(inducts=2, automatic=True, capacity=10_000))
    planner = SortationPlanner("t", PLAN)
    run_for(model, planner, 3, reply_delay_s=0.5)
    c = model.counts
    assert c.late_replies == 0
    assert c.sorted == c.inducted - len(model.parcels)
    events = planner.take_events()
    assert len(events) == c.sorted
    assert all(isinstance(e, ItemSorted) for e in events)
    model.check_conservation()


def test_closing_a_chute_mid_run_reroutes_to_its_twin() -> None:
    model = make(small_config(inducts=2, automatic=True, capacity=10_000))
    planner = SortationPlanner("t", PLAN)
    run = run_for(model, planner, 1)
    run.keep_published = True
    before = model.chutes.get("c001").received_items
    closed_at = run.now
    run.from_sorter(run.agent.close_chute(run.now, "c001"))
    run.run_until(Instant(closed_at + seconds(120)))
    assert model.chutes.get("c001").received_items == before  # nothing after closing
    assert planner.counts.reassigned > 0
    confirms = [json.loads(e.payload) for e in run.published if e.topic.endswith("divertConfirm")]
    assert not [m for m in confirms if m["chuteId"] == "c001" and m["result"] == "SORTED"]
    assert model.counts.rejected == model.counts.no_reads  # the twin chute c002 took the load
    model.check_conservation()


def test_same_seed_same_messages_other_seed_differs() -> None:
    def published(seed: int) -> list[tuple[str, bytes]]:
        model = make(small_config(inducts=2, automatic=True, capacity=4, no_read=0.05), seed=seed)
        run = SorterRun(SorterAgent("s1", "t", model), SortationPlanner("t", PLAN), reply_delay=seconds(0.3))
        run.keep_published = True
        run.run_until(Instant(model.start + seconds(120)))
        return [(e.topic, e.payload) for e in run.published]

    first = published(11)
    assert len(first) > 500
    assert published(11) == first
    assert published(12) != first
