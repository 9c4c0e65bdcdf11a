"""The controller core at a sorting site: a destination must be known, each unit's label is
answered with a chute of that destination, a sorted unit is journaled, and a restarted controller
still knows which units were sorted (so an order completes without sorting them twice)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from bus.clock import SIM_EPOCH, Instant, iso_timestamp, seconds
from bus.sorter_protocol import (
    DestinationRequest,
    DivertConfirm,
    Inducted,
    encode,
    sorter_topic,
    unit_labels,
)
from bus.topics import wms_orders_topic
from bus.transport import Envelope
from controller.config import ControllerConfig, ControllerConfigError
from controller.core import Controller
from controller.journal import Journal
from tests.unit.controller.test_controller_orders import make, small_layout

CONFIG = ControllerConfig(sortation={"enabled": True})
LAYOUT = replace(small_layout(), equipment={"sorter": {"chutes": 4, "inducts": 1}})


def order(order_id: str, destination: str | None, *quantities: int) -> Envelope:
    body: dict = {
        "headerId": 0,
        "timestamp": "2026-11-11T00:00:00.000Z",
        "orderId": order_id,
        "lines": [{"sku": f"S{i + 1}", "quantity": q} for i, q in enumerate(quantities)],
    }
    if destination is not None:
        body["destination"] = destination
    return Envelope(wms_orders_topic("site1"), json.dumps(body).encode(), 1)


def statuses(out: list[Envelope]) -> list[tuple[str, str, str]]:
    bodies = [json.loads(e.payload) for e in out if e.topic.endswith("/orderStatus")]
    return [(b["orderId"], b["status"], b["reason"]) for b in bodies]


def request(now: Instant, header: int, item: str, barcode: str) -> Envelope:
    deadline = iso_timestamp(Instant(now + seconds(2)))
    msg = DestinationRequest(header_id=header, timestamp=iso_timestamp(now), sorter_id="sorter-1",
                             item_id=item, barcode=barcode, deadline=deadline)
    return Envelope(sorter_topic("site1", "sorter-1", "destinationRequest"), encode(msg), 1)


def confirm(now: Instant, header: int, item: str, chute: str) -> Envelope:
    msg = DivertConfirm(header_id=header, timestamp=iso_timestamp(now), sorter_id="sorter-1", item_id=item,
                        chute_id=chute, result="SORTED")
    return Envelope(sorter_topic("site1", "sorter-1", "divertConfirm"), encode(msg), 1)


def test_orders_with_an_unknown_destination_are_refused() -> None:
    ctl = Controller(CONFIG, LAYOUT, np.random.default_rng(0))
    now = SIM_EPOCH
    assert ctl.sortation is not None
    groups = {d: c for d, c in ctl.sortation.plan.items() if d.startswith("D")}
    assert {d: len(c) for d, c in groups.items()} == {"D001": 2, "D002": 2}  # half the chutes, two each
    assert ctl.sortation.plan["c003"] == ("c003",)  # a chute can be named directly
    [(_, status, _)] = statuses(ctl.handle(now, order("o1", None, 1)))
    assert status == "received"  # not sorted: see the next test
    [(_, status, reason)] = statuses(ctl.handle(now, order("o2", "D009", 1)))
    assert (status, "D009" in reason) == ("refused", True)
    [(_, status, _)] = statuses(ctl.handle(now, order("o3", "D002", 2, 1)))
    assert status == "received"
    [(_, status, _)] = statuses(ctl.handle(now, order("o4", "c004", 1)))
    assert status == "received"
    assert ctl.sortation.planner.resolve("o3/0/1").destination == "D002"


def test_an_order_without_destination_completes_when_picked_one_with_waits_for_its_units() -> None:
    """At a sorting site the WMS may still send orders without a destination (goods packed at the
    station): they are not sorted and complete once picked, as at a site without a sorter; an
    order with a destination waits for its units in the chutes (no sorter runs in this test)."""
    loop, seen = make(2, layout=LAYOUT, sortation={"enabled": True})
    wms = loop.wms
    for envelope in (order("plain", None, 1), order("sorted", "D001", 1)):
        wms.publish(envelope.topic, envelope.payload, qos=1)

    def said(order_id: str, status: str) -> bool:
        wms.dispatch()
        return any(s["orderId"] == order_id and s["status"] == status for s in seen)

    assert loop.run_until(lambda: said("plain", "complete") and said("sorted", "picked"), 400), seen[-4:]
    assert not said("sorted", "complete")
    assert loop.controller.order_counts() == {"complete": 1, "picked": 1}


def test_sorted_units_survive_a_restart(tmp_path) -> None:
    db = tmp_path / "journal.sqlite"
    ctl = Controller(CONFIG, LAYOUT, np.random.default_rng(0), journal=Journal(db))
    now = SIM_EPOCH
    ctl.handle(now, order("o1", "D001", 2, 1))
    labels = unit_labels("o1", [2, 1])
    assert labels == ["o1/0/0", "o1/0/1", "o1/1/0"]
    [reply] = ctl.handle(now, request(now, 0, "itm-1", labels[0]))
    chute = json.loads(reply.payload)["chuteId"]
    assert chute in ctl.sortation.plan["D001"]
    ctl.handle(now, confirm(now, 0, "itm-1", chute))
    assert not ctl.sortation.all_sorted("o1")
    # a new controller on the same journal knows that unit is in its chute already
    ctl2 = Controller(CONFIG, LAYOUT, np.random.default_rng(0), journal=Journal(db))
    units = ctl2.sortation._units["o1"]
    assert units.sorted == {labels[0]}
    for k, label in enumerate(labels[1:], start=1):
        [reply] = ctl2.handle(now, request(now, k, f"itm-{k + 1}", label))
        out = ctl2.handle(now, confirm(now, k, f"itm-{k + 1}", json.loads(reply.payload)["chuteId"]))
    assert ctl2.sortation.all_sorted("o1")
    assert ("o1", "sorted", "") in statuses(out)  # complete follows once its trips are done too


def inducted(now: Instant, header: int, item: str, barcode: str) -> Envelope:
    msg = Inducted(header_id=header, timestamp=iso_timestamp(now), sorter_id="sorter-1", item_id=item,
                   barcode=barcode, induct_id="in-1", carriers=[3])
    return Envelope(sorter_topic("site1", "sorter-1", "inducted"), encode(msg), 1)


def test_inducted_once_every_unit_is_on_the_line_and_only_after_picked() -> None:
    ctl = Controller(CONFIG, LAYOUT, np.random.default_rng(0))
    now = SIM_EPOCH
    ctl.handle(now, order("o1", "D001", 2))
    ctl.handle(now, order("o2", "D002", 1))
    first, second = unit_labels("o1", [2])
    assert statuses(ctl.handle(now, inducted(now, 0, "itm-1", first))) == []  # one unit of two
    assert statuses(ctl.handle(now, inducted(now, 1, "itm-1b", first))) == []  # re-inducted: counted once
    ctl.ledger.orders["o1"].status = "picked"  # (the robots' part, which this test leaves out)
    assert statuses(ctl.handle(now, inducted(now, 2, "itm-2", second))) == [("o1", "inducted", "")]
    # an order not yet reported picked does not jump ahead (a station may induct line by line)
    [label] = unit_labels("o2", [1])
    assert statuses(ctl.handle(now, inducted(now, 3, "itm-3", label))) == []
    assert ctl.sortation.planner.counts.inducted == 4


def test_sortation_on_a_layout_without_a_sorter_is_a_config_error() -> None:
    with pytest.raises(ControllerConfigError, match="has no sorter"):
        Controller(CONFIG, small_layout(), np.random.default_rng(0))


def test_a_restarted_controller_credits_the_confirm_of_a_unit_its_predecessor_answered(tmp_path) -> None:
    """The unit is inducted and answered by one controller, the controller dies, the sorter's
    divert confirm reaches the next one: the journal's item record lets it count that unit."""
    db = tmp_path / "journal.sqlite"
    ctl = Controller(CONFIG, LAYOUT, np.random.default_rng(0), journal=Journal(db))
    now = SIM_EPOCH
    ctl.handle(now, order("o1", "D001", 1))
    [label] = unit_labels("o1", [1])
    ctl.handle(now, inducted(now, 0, "itm-1", label))
    [reply] = ctl.handle(now, request(now, 0, "itm-1", label))
    chute = json.loads(reply.payload)["chuteId"]
    ctl2 = Controller(CONFIG, LAYOUT, np.random.default_rng(0), journal=Journal(db))
    out = ctl2.handle(now, confirm(now, 0, "itm-1", chute))
    assert ("o1", "sorted", "") in statuses(out)
    assert ctl2.sortation.all_sorted("o1")
    assert ctl2.sortation.planner.counts.unknown_confirms == 0
    # and a third controller does not offer that item again: its unit is sorted
    ctl3 = Controller(CONFIG, LAYOUT, np.random.default_rng(0), journal=Journal(db))
    assert ctl3.sortation.planner.in_flight == {}
