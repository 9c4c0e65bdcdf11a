"""The controller's inbound seam: bad input is rejected and counted, a bug of ours is raised.

Why: one broad ``except`` used to wrap the whole state path, so an exception in the execution
graph was counted as a "rejected message" and logged once, and the controller went on with a
broken plan. Now vehicle payloads are decoded in one place; everything after decoding raises.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from bus.clock import SIM_EPOCH
from bus.topics import VdaTopic, vda_topic
from bus.transport import Envelope
from controller.config import ControllerConfig
from controller.core import Controller
from tests.unit.controller.fake_vehicle import FakeVehicle
from tests.unit.controller.test_controller_orders import small_layout


def controller_with_vehicle() -> tuple[Controller, FakeVehicle]:
    layout = small_layout()
    ctl = Controller(ControllerConfig(), layout, np.random.default_rng(0))
    v = FakeVehicle("agv-0001", layout.cell_centre_m((0, 2)))
    for env in v.on_connect(SIM_EPOCH):
        ctl.handle(SIM_EPOCH, env)
    return ctl, v


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        (VdaTopic.STATE, b"not json"),
        (VdaTopic.STATE, b"[1, 2]"),
        (VdaTopic.STATE, json.dumps({"headerId": "x"}).encode()),
        (VdaTopic.CONNECTION, json.dumps({"headerId": 1, "connectionState": "SLEEPING"}).encode()),
        (VdaTopic.FACTSHEET, b"{"),
    ],
)
def test_a_malformed_vehicle_message_is_rejected_and_counted(kind, payload) -> None:
    ctl, _ = controller_with_vehicle()
    before = ctl.counters["rejected"]
    out = ctl.handle(SIM_EPOCH, Envelope(vda_topic("acme", "v-1", kind), payload, 0, False))
    assert out == []
    assert ctl.counters["rejected"] == before + 1


def test_a_bug_after_decoding_is_raised_not_counted_as_bad_input(monkeypatch) -> None:
    ctl, v = controller_with_vehicle()
    assert "agv-0001" in ctl.executor.robots

    def broken(*args, **kwargs):
        raise KeyError("a bug in the execution graph")

    monkeypatch.setattr(ctl.executor, "on_state", broken)
    before = ctl.counters["rejected"]
    with pytest.raises(KeyError, match="a bug in the execution graph"):
        ctl.handle(SIM_EPOCH, v.state(SIM_EPOCH + 1))
    assert ctl.counters["rejected"] == before


def test_the_wire_seam_turns_each_protocol_into_typed_values() -> None:
    """Every envelope the controller reads becomes one typed value; only the seam sees bytes."""
    from controller.inbound import (
        Ignored,
        OrderReceived,
        OrderUnreadable,
        Unreadable,
        VehicleConnection,
        VehicleFactsheet,
        VehicleState,
    )
    from tests.unit.controller.test_controller_orders import order

    ctl, v = controller_with_vehicle()
    decode = ctl.wire.decode
    orders_topic = "bulletyard/v1/site1/orders"
    got = decode(Envelope(orders_topic, order("o1", "S1"), 1, False))
    assert isinstance(got, OrderReceived)
    assert got.order.id == "o1"
    assert got.order.lines[0].sku == "S1"
    bad = decode(Envelope(orders_topic, json.dumps({"orderId": "o2", "lines": []}).encode(), 1, False))
    assert isinstance(bad, OrderUnreadable)
    assert bad.order_id == "o2"
    assert bad.reason.startswith("malformed:")
    state = decode(v.state(SIM_EPOCH))
    assert isinstance(state, VehicleState)
    assert state.serial == "agv-0001"
    assert state.state.order_id == ""
    conn = decode(Envelope(vda_topic("acme", "v-1", VdaTopic.CONNECTION),
                           json.dumps({"headerId": 1, "connectionState": "ONLINE"}).encode(), 1, True))
    assert isinstance(conn, VehicleConnection)
    assert conn.manufacturer == "acme"
    sheet = decode(Envelope(vda_topic("acme", "v-1", VdaTopic.FACTSHEET), b"{}", 0, True))
    assert isinstance(sheet, VehicleFactsheet)
    assert sheet.factsheet == {}
    assert isinstance(decode(Envelope(vda_topic("acme", "v-1", VdaTopic.FACTSHEET), b"", 0, True)), Ignored)
    assert isinstance(decode(Envelope("elsewhere/x", b"{}", 0, False)), Unreadable)


def test_a_bug_in_the_order_ledger_is_raised_not_answered_as_a_refusal(monkeypatch) -> None:
    """A valid order that meets a bug must not come back to the WMS as 'refused'."""
    from tests.unit.controller.test_controller_orders import order

    ctl, _ = controller_with_vehicle()

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the operations")

    monkeypatch.setattr(ctl.ops, "accept", broken)
    with pytest.raises(RuntimeError, match="a bug in the operations"):
        ctl.handle(SIM_EPOCH, Envelope("bulletyard/v1/site1/orders", order("o1", "S1"), 1, False))
    assert ctl.counters["orders_refused"] == 0
    assert ctl.counters["rejected"] == 0


def test_a_state_reaches_the_order_that_answers_it_in_six_calls_from_handle() -> None:
    """The state path of docs/controller.md: from ``Controller.handle`` to the envelope of the
    order update it releases, every call on the way has a job (no forwarders)."""
    import inspect

    from tests.unit.controller.test_controller_orders import make, order, submit

    loop, _ = make(1)
    ctl = loop.controller
    outbox = ctl.executor.outbox
    build = outbox._envelope
    paths: list[list[str]] = []

    def watched(now, serial, kind, body):
        if kind == VdaTopic.ORDER:
            frames = inspect.stack()[1:]
            names = [f"{type(f.frame.f_locals.get('self')).__name__}.{f.function}" for f in frames]
            if "Controller.handle" in names:
                paths.append(names[: names.index("Controller.handle") + 1][::-1] + ["VdaOutbox._envelope"])
        return build(now, serial, kind, body)

    outbox._envelope = watched
    submit(loop, order("o1", "S1"))
    assert loop.run_until(lambda: any("Vehicles.on_state" in p for p in paths), 120)
    from_states = [p for p in paths if "Vehicles.on_state" in p]
    assert from_states[0] == [
        "Controller.handle",
        "Controller.on_message",
        "Vehicles.on_state",
        "Executor.on_state",
        "VdaOutbox.order_updates",
        "VdaOutbox._envelope",
    ]
