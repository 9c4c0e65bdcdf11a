"""OrderStream: released steps become VDA 5050 orders and updates that pass the official schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from controller.execution.vda_orders import (
    FORGET_BATCH,
    KEEP_BEHIND,
    NodeAction,
    OrderStream,
    node_id,
    parse_node_id,
    with_header,
)


def centre(cell):
    return (cell[0] + 0.5) * 1.0, -(cell[1] + 0.5) * 1.0


@pytest.fixture
def order_schema(shared: Path) -> dict:
    return json.loads((shared / "vda5050-2.1.0" / "order.schema").read_text())


def full(body: dict) -> dict:
    return with_header(
        body,
        header_id=0,
        timestamp="2026-11-11T00:00:00.000Z",
        manufacturer="bulletyard",
        serial_number="agv-0001",
    )


# cells of one robot: (0,0) wait (1,0) (2,0) wait (2,1)
CELLS = [(0, 0), (0, 0), (1, 0), (2, 0), (2, 0), (2, 1)]


def stream() -> OrderStream:
    return OrderStream("agv-0001", 1, centre, "test", horizon_nodes=2)


def test_first_order_has_base_then_horizon() -> None:
    s = stream()
    body = s.extend(CELLS, 2, {2: [NodeAction("a1", "pick")]})
    assert body["orderId"] == "agv-0001-1"
    assert body["orderUpdateId"] == 0
    assert [n["nodeId"] for n in body["nodes"]] == ["n0_0", "n1_0", "n2_0", "n2_1"]
    assert [n["released"] for n in body["nodes"]] == [True, True, False, False]
    assert [n["sequenceId"] for n in body["nodes"]] == [0, 2, 4, 6]
    assert [e["sequenceId"] for e in body["edges"]] == [1, 3, 5]
    assert [e["released"] for e in body["edges"]] == [True, False, False]
    assert body["nodes"][1]["actions"][0]["actionType"] == "pick"
    assert body["nodes"][1]["nodePosition"] == {
        "x": 1.5,
        "y": -0.5,
        "mapId": "test",
        "allowedDeviationXY": 0.1,
    }


def test_update_starts_from_last_base_node() -> None:
    s = stream()
    s.extend(CELLS, 2, {})
    assert s.extend(CELLS, 2, {}) is None  # nothing new released
    body = s.extend(CELLS, 5, {})
    assert body["orderUpdateId"] == 1
    assert [(n["nodeId"], n["sequenceId"], n["released"]) for n in body["nodes"]] == [
        ("n1_0", 2, True),
        ("n2_0", 4, True),
        ("n2_1", 6, True),
    ]
    assert s.step_of_sequence(4) == 3
    assert s.step_of_sequence(3) is None


def test_orders_validate_against_official_schema(order_schema) -> None:
    s = stream()
    jsonschema.validate(full(s.extend(CELLS, 0, {})), order_schema)
    jsonschema.validate(
        full(s.extend(CELLS, 3, {3: [NodeAction("d", "drop", (("stationId", "S1"),))]})), order_schema
    )


def test_node_ids_round_trip() -> None:
    assert parse_node_id(node_id((12, 7))) == (12, 7)
    assert parse_node_id("station-1") is None
    assert parse_node_id("nx_1") is None


def test_forgotten_nodes_keep_sequence_ids_counting() -> None:
    """A stream that is only ever updated forgets nodes far behind the vehicle, and the sequence
    ids of new nodes and the lookup of recent ones are unchanged by it."""
    cells = [(k % 7, k // 7) for k in range(700)]  # a new node every step
    s, kept = stream(), stream()
    for released in range(0, 700, 5):
        a = s.extend(cells, released, {})
        b = kept.extend(cells, released, {})
        assert a == b  # forgetting never changes what goes on the wire
        s.forget_before(max(0, released - 10))
        assert len(s.base) < FORGET_BATCH + KEEP_BEHIND + 10 + 5  # the batch, those kept, the unpassed
    assert len(kept.base) > 300
    assert s.dropped_nodes > 0
    last = kept.base[-1]
    assert s.node_at_sequence(last.sequence_id) == last
    assert s.step_of_sequence(last.sequence_id) == last.first_step
    assert s.node_at_sequence(0) is None  # forgotten: treated like an unknown sequence id
    assert kept.node_at_sequence(0) is not None
