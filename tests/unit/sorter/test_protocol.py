"""Sorter wire protocol: committed schemas are the generated ones, messages validate, bad input is named."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from bus.sorter_protocol import (
    MESSAGES,
    DivertConfirm,
    ProtocolError,
    decode,
    encode,
    parse_sorter_topic,
    schema_texts,
    sorter_topic,
)

SCHEMAS = Path(__file__).resolve().parents[3] / "docs" / "schemas"


def test_committed_schemas_equal_generated() -> None:
    for name, text in schema_texts().items():
        committed = SCHEMAS / name
        assert committed.is_file(), f"{name} missing: run python -m bus.sorter_protocol docs/schemas"
        assert committed.read_text(encoding="utf-8") == text, f"{name} is stale: regenerate it"


def test_topics_round_trip() -> None:
    topic = sorter_topic("fc1", "sorter-1", "divertConfirm")
    assert topic == "bulletyard/v1/fc1/sorter/sorter-1/divertConfirm"
    assert parse_sorter_topic(topic) == ("fc1", "sorter-1", "divertConfirm")
    assert parse_sorter_topic("bulletyard/v1/fc1/sorter/sorter-1/nonsense") is None
    assert parse_sorter_topic("uagv/v2/x/y/state") is None
    with pytest.raises(ValueError):
        sorter_topic("fc1", "s", "bogus")


def test_golden_divert_confirm_validates_against_schema() -> None:
    msg = DivertConfirm(header_id=0, timestamp="2026-11-11T00:00:00.000Z", sorter_id="sorter-1",
                        item_id="itm-000001", chute_id="c007", result="SORTED")
    wire = json.loads(encode(msg))
    assert wire == {"headerId": 0, "timestamp": "2026-11-11T00:00:00.000Z", "version": "1.0.0",
                    "sorterId": "sorter-1", "itemId": "itm-000001", "chuteId": "c007", "result": "SORTED",
                    "reason": "", "recirculations": 0}
    schema = json.loads((SCHEMAS / "sorter-divertConfirm.schema.json").read_text())
    jsonschema.validate(wire, schema)
    assert decode("divertConfirm", encode(msg)) == msg


def test_every_kind_has_a_schema_file() -> None:
    assert {f"sorter-{k}.schema.json" for k in MESSAGES} == {p.name for p in SCHEMAS.glob("sorter-*.json")}


@pytest.mark.parametrize(("payload", "needle"), [
    (b"not json", "destination"),
    (b'{"headerId": 1}', "timestamp"),
    (b'{"headerId": -1, "timestamp": "x", "sorterId": "s", "itemId": "i", "chuteId": "c"}', "headerId"),
    (b"x" * 70_000, "exceeds"),
])
def test_bad_payloads_raise_protocol_error_naming_the_problem(payload: bytes, needle: str) -> None:
    with pytest.raises(ProtocolError, match=needle):
        decode("destination", payload, "bulletyard/v1/s/sorter/x/destination")
