"""The controller against hostile bus messages (issue 25): it is neither crashed, blinded nor fooled.

Same small layout as ``test_controller_orders`` (8 x 4 cells, pods on row 0, parking on row 2)::

    S . S . S . . .
    . . . . . . . .
    p p p C . P . .
    . . . . . . . .

Each case: one real (fake) vehicle on the floor, then the hostile messages, then an order that
the real vehicle must still complete.
"""

from __future__ import annotations

import json
import logging

import pytest

from bus.clock import seconds
from bus.transport import Envelope
from controller.config import FleetConfig
from tests.unit.controller.test_controller_orders import final_status, make, order, submit

REAL = "agv-0001"
GHOST_CELLS = [(6, 1), (7, 1), (6, 3), (7, 3), (4, 3)]


def joined(n: int = 1, **cfg):
    loop, statuses = make(n, **cfg)
    assert loop.run_until(lambda: REAL in loop.controller.executor.robots, 5)
    return loop, statuses


def state_of(loop, serial: str = REAL, **changes) -> dict:
    body = json.loads(loop.vehicles[REAL].state(loop.now).payload)
    body.update(serialNumber=serial, **changes)
    return body


def ghost_state(loop, serial: str, cell: tuple[int, int], header_id: int = 1) -> bytes:
    x, y = loop.controller.layout.cell_centre_m(cell)
    body = state_of(loop, serial, headerId=header_id, orderId="", orderUpdateId=0, lastNodeId="",
                    lastNodeSequenceId=0, nodeStates=[], edgeStates=[], actionStates=[], driving=False)
    body["agvPosition"] = dict(body["agvPosition"], x=x, y=y)
    return json.dumps(body).encode()


def body(data: dict) -> bytes:
    return json.dumps(data).encode()


def vda(serial: str, kind: str = "state") -> str:
    return f"uagv/v2/bulletyard/{serial}/{kind}"


def is_complete(loop, statuses, order_id: str) -> bool:
    loop.wms.dispatch()
    return final_status(statuses, order_id) == "complete"


def completes(loop, statuses, order_id: str, sku: str, within_s: float) -> bool:
    submit(loop, order(order_id, sku))
    return loop.run_until(lambda: is_complete(loop, statuses, order_id), within_s)


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_header_id_2e9_is_dropped_as_suspicious_and_does_not_blind_the_controller(caplog) -> None:
    loop, statuses = joined()
    ctl = loop.controller
    with caplog.at_level(logging.WARNING, logger="bulletyard.controller"):
        for _ in range(3):
            ctl.handle(loop.now, Envelope(vda(REAL), body(state_of(loop, headerId=2_000_000_000))))
        assert completes(loop, statuses, "o1", "S1", 120)
    assert not ctl.supervisor.is_lost(REAL)
    assert ctl.registry.vehicles[REAL].state_floor.last < 1_000_000
    suspicious = [m for m in warnings(caplog) if "suspicious_header" in m]
    assert len(suspicious) == 1, suspicious  # logged once, however often it comes


def test_a_sender_that_really_restarted_high_is_followed_after_one_message() -> None:
    loop, _ = joined()
    ctl = loop.controller
    for header_id in (5_000_000, 5_000_001):
        ctl.handle(loop.now, Envelope(vda(REAL), body(state_of(loop, headerId=header_id))))
    assert ctl.registry.vehicles[REAL].state_floor.last == 5_000_001


def test_a_payload_naming_another_vehicle_than_its_topic_is_refused() -> None:
    loop, _ = joined()
    ctl = loop.controller
    floor = ctl.registry.vehicles[REAL].state_floor.last
    ctl.handle(loop.now, Envelope(vda(REAL), body(state_of(loop, "agv-0777", headerId=floor + 1))))
    ctl.handle(loop.now, Envelope(vda("agv-0777"), body(state_of(loop, REAL, headerId=floor + 1))))
    acme = state_of(loop, REAL, headerId=floor + 1, manufacturer="acme")
    ctl.handle(loop.now, Envelope(vda(REAL), body(acme)))
    assert ctl.registry.vehicles[REAL].state_floor.last == floor
    assert "agv-0777" not in ctl.registry.vehicles
    assert ctl.rejections.kinds == {"state: wrong_sender": 3}


def test_ghosts_that_fall_silent_are_dropped_block_no_cell_and_strand_no_order(caplog) -> None:
    loop, statuses = joined(fleet=FleetConfig(state_timeout_s=35.0))  # the real one speaks every 30 s
    ctl = loop.controller
    ghosts = [f"ghost-{i}" for i in range(len(GHOST_CELLS))]
    with caplog.at_level(logging.WARNING, logger="bulletyard.controller"):
        for serial, cell in zip(ghosts, GHOST_CELLS, strict=True):
            ctl.handle(loop.now, Envelope(vda(serial), ghost_state(loop, serial, cell)))
        assert set(ghosts) <= set(ctl.executor.robots)  # the default policy admits any serial
        for sku, oid in (("S1", "o1"), ("S2", "o2"), ("S3", "o3")):
            submit(loop, order(oid, sku))
        loop.step()  # some trips may go to ghosts: they never answer
        assert completes(loop, statuses, "o4", "S1", 200)
    for oid in ("o1", "o2", "o3"):
        assert loop.run_until(lambda oid=oid: is_complete(loop, statuses, oid), 200)
    assert not set(ghosts) & (set(ctl.executor.robots) | set(ctl.registry.vehicles))
    assert ctl.executor.blocked_cells() == frozenset()
    assert ctl.counters["vehicles_dropped"] == len(ghosts)
    assert not ctl.supervisor.is_lost(REAL)
    assert ctl.registry.vehicles[REAL].proven


def test_pinned_serials_keep_unknown_vehicles_out() -> None:
    fleet = FleetConfig(profiles={"bulletyard": {"serials": [REAL]}})
    loop, statuses = joined(fleet=fleet)
    ctl = loop.controller
    for i in range(80):
        ctl.handle(loop.now, Envelope(vda(f"ghost-{i}"), ghost_state(loop, f"ghost-{i}", GHOST_CELLS[0])))
    assert sorted(ctl.registry.vehicles) == [REAL]
    assert ctl.counters["rejected"] == 80
    assert completes(loop, statuses, "o1", "S1", 120)


def test_max_vehicles_bounds_the_registry() -> None:
    loop, _ = joined(fleet=FleetConfig(max_vehicles=3))
    ctl = loop.controller
    for i in range(10):
        ctl.handle(loop.now, Envelope(vda(f"ghost-{i}", "connection"),
                                      json.dumps({"headerId": 0, "connectionState": "ONLINE"}).encode()))
    assert len(ctl.registry.vehicles) == 3


def test_announced_vehicles_that_never_send_a_state_are_forgotten() -> None:
    loop, _ = joined(fleet=FleetConfig(state_timeout_s=5.0))
    ctl = loop.controller
    ctl.handle(loop.now, Envelope(vda("ghost-1", "connection"),
                                  json.dumps({"headerId": 0, "connectionState": "ONLINE"}).encode()))
    assert "ghost-1" in ctl.registry.vehicles
    assert loop.run_until(lambda: "ghost-1" not in ctl.registry.vehicles, 10)


def malformed_orders() -> dict[str, bytes]:
    good = json.loads(order("x", "S1"))
    return {
        "not_json": b"{not json",
        "too_deep": b'{"orderId": "d", "lines": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
        "duplicate_key": json.dumps(good).replace('"orderId": "x"', '"orderId": "x", "orderId": "y"')
        .encode(),
        "control_character": json.dumps(good | {"orderId": "o\u00001"}).encode(),
        "non_finite": json.dumps(good).replace('"quantity": 1', '"quantity": 1e400').encode(),
        "big_integer": json.dumps(good).replace('"quantity": 1', '"quantity": ' + "1" + "0" * 30).encode(),
        "malformed": json.dumps(good | {"lines": []}).encode(),
    }


def test_malformed_orders_give_one_line_per_kind_then_a_summary(caplog) -> None:
    loop, statuses = joined()
    ctl = loop.controller
    topic = "bulletyard/v1/site1/orders"
    kinds = malformed_orders()
    payloads = list(kinds.values())
    with caplog.at_level(logging.WARNING, logger="bulletyard.controller"):
        for i in range(2_000):
            out = ctl.handle(loop.now, Envelope(topic, payloads[i % len(payloads)]))
            assert [json.loads(e.payload)["status"] for e in out] == ["refused"]
        lines = warnings(caplog)
        assert len(lines) == len(kinds), lines
        assert {line.split(": ")[1] for line in lines} == set(kinds)
        ctl.tick(loop.now + seconds(61))
        summary = warnings(caplog)[len(kinds):]
    assert len(summary) == 1, summary
    assert "total 2000" in summary[0]
    assert ctl.counters["orders_refused"] == 2_000
    assert completes(loop, statuses, "o1", "S1", 120)


def test_a_vehicle_that_answers_a_state_request_is_proven_before_its_first_order() -> None:
    """A vehicle that lists the controller's stateRequest in its actionStates (the robots
    package's agent does) has answered: it keeps its cell blocked if it dies before any order."""
    loop, _ = joined()
    ctl = loop.controller
    ctl.handle(loop.now, Envelope(vda("agv-0042"), ghost_state(loop, "agv-0042", GHOST_CELLS[0])))
    assert "agv-0042" in ctl.executor.robots
    assert not ctl.registry.vehicles["agv-0042"].proven
    request = json.loads(ctl.vehicles.state_request(loop.now, "agv-0042").payload)["actions"][0]
    answer = json.loads(ghost_state(loop, "agv-0042", GHOST_CELLS[0], header_id=2))
    answer["actionStates"] = [{"actionId": request["actionId"], "actionType": "stateRequest",
                               "actionStatus": "FINISHED"}]
    ctl.handle(loop.now, Envelope(vda("agv-0042"), body(answer)))
    assert ctl.registry.vehicles["agv-0042"].proven
