"""The shared inbound gate: every kind of bad input is rejected, counted, logged once."""

from __future__ import annotations

import json
import logging
from enum import StrEnum

import pytest
from pydantic import BaseModel, ConfigDict

from bus.inbox import Decoder, Inbox, Rejected, RejectReason, known_vda_vehicles
from bus.reject_log import MAX_TOPICS_PER_KIND
from bus.transport import Envelope


class Mode(StrEnum):
    AUTOMATIC = "AUTOMATIC"
    MANUAL = "MANUAL"


class StateMsg(BaseModel):
    """A small stand-in for a VDA 5050 state."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    headerId: int  # noqa: N815 - wire name
    mode: Mode
    batteryCharge: float  # noqa: N815


class ConnectionMsg(BaseModel):
    model_config = ConfigDict(frozen=True)
    connectionState: str  # noqa: N815


STATE = "uagv/v2/bulletyard/agv-0001/state"
GOOD = json.dumps({"headerId": 1, "mode": "AUTOMATIC", "batteryCharge": 80.5}).encode()


def make_inbox(**kw) -> Inbox:  # noqa: ANN003
    return Inbox({"uagv/v2/+/+/state": StateMsg, "uagv/v2/+/+/connection": ConnectionMsg}, **kw)


@pytest.mark.parametrize(
    ("payload", "reason", "fragment"),
    [
        (b"not json", RejectReason.NOT_JSON, "Invalid JSON"),
        (b"\xff\xfe\x00", RejectReason.NOT_JSON, "JSON"),
        (b"", RejectReason.NOT_JSON, "JSON"),
        (b"[1, 2]", RejectReason.WRONG_TYPE, "<root>"),
        (b'{"headerId": "1", "mode": "AUTOMATIC", "batteryCharge": 1}', RejectReason.WRONG_TYPE, "headerId"),
        (b'{"mode": "AUTOMATIC", "batteryCharge": 1}', RejectReason.MISSING_FIELD, "headerId"),
        (b'{"headerId": 1, "mode": "TURBO", "batteryCharge": 1}', RejectReason.UNKNOWN_VALUE, "mode"),
        (b'{"headerId": 1, "mode": "MANUAL", "batteryCharge": 1, "x": 0}', RejectReason.UNKNOWN_FIELD, "x"),
        (b"[" * 100_000, RejectReason.TOO_DEEP, "levels > limit 64"),
    ],
)
def test_bad_payloads_are_rejected_with_a_reason(payload: bytes, reason: RejectReason, fragment: str) -> None:
    inbox = make_inbox()
    result = inbox.decode(Envelope(STATE, payload))
    assert isinstance(result, Rejected)
    assert result.reason is reason
    assert result.topic == STATE
    assert fragment in result.detail
    assert inbox.rejections == {reason: 1}
    assert isinstance(inbox.decode(Envelope(STATE, GOOD)), StateMsg)  # the next good one is served


def test_ten_megabytes_rejected_unread() -> None:
    inbox = make_inbox()
    huge = b'{"headerId": 1, "pad": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    result = inbox.decode(Envelope(STATE, huge))
    assert isinstance(result, Rejected)
    assert result.reason is RejectReason.TOO_LARGE
    assert "1048576" in result.detail


def test_size_cap_is_configurable() -> None:
    assert isinstance(Decoder(StateMsg, max_payload_bytes=len(GOOD)).decode(Envelope(STATE, GOOD)), StateMsg)
    small = Decoder(StateMsg, max_payload_bytes=len(GOOD) - 1).decode(Envelope(STATE, GOOD))
    assert isinstance(small, Rejected)
    assert small.reason is RejectReason.TOO_LARGE


def test_unknown_topic_and_unknown_robot() -> None:
    inbox = make_inbox(topic_check=known_vda_vehicles({"agv-0001"}, manufacturer="bulletyard"))
    other = inbox.decode(Envelope("uagv/v2/bulletyard/agv-0009/state", GOOD))
    assert isinstance(other, Rejected)
    assert "agv-0009" in other.detail
    malformed = inbox.decode(Envelope("uagv/v2/bulletyard/state", GOOD))
    assert isinstance(malformed, Rejected)
    assert "5 levels" in malformed.detail
    unmodelled = inbox.decode(Envelope("uagv/v2/bulletyard/agv-0001/order", GOOD))
    assert isinstance(unmodelled, Rejected)
    assert unmodelled.detail == "no model for this topic"
    assert inbox.rejections == {RejectReason.UNKNOWN_TOPIC: 3}
    assert isinstance(inbox.decode(Envelope(STATE, GOOD)), StateMsg)
    assert inbox.accepted == 1


def test_each_topic_and_reason_logged_once_then_counted(caplog: pytest.LogCaptureFixture) -> None:
    inbox = make_inbox()
    with caplog.at_level(logging.WARNING, logger="bus.inbox"):
        for _ in range(50):
            inbox.decode(Envelope(STATE, b"garbage"))
            inbox.decode(Envelope("uagv/v2/bulletyard/agv-0002/state", b"garbage"))
            inbox.decode(Envelope(STATE, b"{}"))
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3
    assert any(STATE in line and "not_json" in line for line in lines)
    assert any(STATE in line and "missing_field" in line for line in lines)
    assert inbox.rejections == {RejectReason.NOT_JSON: 100, RejectReason.MISSING_FIELD: 50}
    assert inbox.rejected_total == 150


def test_single_model_inbox_and_strictness() -> None:
    lax = Inbox(StateMsg, strict=False)
    loose = b'{"headerId": "7", "mode": "MANUAL", "batteryCharge": 1}'
    assert lax.decode(Envelope("any/topic", loose)).headerId == 7
    strict = Inbox(StateMsg)
    assert isinstance(strict.decode(Envelope("any/topic", loose)), Rejected)


def test_random_topics_cannot_flood_the_log(caplog: pytest.LogCaptureFixture) -> None:
    inbox = Inbox({"#": StateMsg})
    with caplog.at_level(logging.WARNING, logger="bus.inbox"):
        for i in range(1500):
            inbox.decode(Envelope(f"spray/{i}", b"garbage"))
    assert len(caplog.records) == MAX_TOPICS_PER_KIND  # the last says the rest are only counted
    assert "only counted" in caplog.records[-1].getMessage()
    assert inbox.rejections == {RejectReason.NOT_JSON: 1500}
