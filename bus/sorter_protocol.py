"""The sorter protocol: wire models, topics and codec, in the style of VDA 5050.

Every message carries a header (``headerId`` increasing per topic and sender, ``timestamp`` ISO
8601 UTC, ``version`` of this protocol, ``sorterId``) and travels on
``bulletyard/v1/{site}/sorter/{sorterId}/{kind}``. The sorter publishes ``connection`` (retained,
with a last will), ``state``, ``inducted``, ``destinationRequest``, ``divertConfirm`` and
``chuteState``; the controller publishes ``destination`` (and, for robotic sortation,
``chuteRelease``). A ``destinationRequest`` has a
``deadline``: no valid ``destination`` by then and the item goes to the reject chute.

The JSON schemas in ``docs/schemas/sorter-*.schema.json`` are generated from these models
(``python -m bus.sorter_protocol docs/schemas``); a test checks the committed ones are current.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue

from bus import limits, topics
from bus.clock import Instant, iso_timestamp
from bus.header import HeaderIds
from bus.transport import Envelope

_OUR_PREFIX = f"{topics.BULLETYARD_PREFIX}/"  # bulletyard/v1/

PROTOCOL_VERSION = "1.0.0"
MAX_PAYLOAD_BYTES = 64 * 1024
"""Inbound payloads larger than this are refused before parsing."""


class ProtocolError(ValueError):
    """An inbound payload that is not a valid message of the expected kind (names topic and field)."""


class _Wire(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)


class Header(_Wire):
    """Fields every sorter message starts with."""

    header_id: int = Field(ge=0, description="increases by one per message on this topic from this sender")
    timestamp: str = Field(description="ISO 8601 UTC with milliseconds, e.g. 2026-11-11T00:00:00.000Z")
    version: str = Field(PROTOCOL_VERSION, description="sorter protocol version (semver)")
    sorter_id: str = Field(min_length=1, description="the sorter this message is from or for")


class Connection(Header):
    """Retained on ``connection``; the broker publishes the last will (CONNECTIONBROKEN) on a drop."""

    connection_state: Literal["ONLINE", "OFFLINE", "CONNECTIONBROKEN"]


class Counters(_Wire):
    """Running totals since the sorter started (items)."""

    inducted: int = 0
    sorted: int = 0
    rejected: int = 0
    recirculated: int = 0
    no_reads: int = 0
    late_replies: int = Field(0, description="items rejected because no destination came by the deadline")
    replies_after_deadline: int = 0
    lap_limit_rejects: int = 0
    reassigned: int = 0
    duplicate_replies: int = 0
    unknown_item_replies: int = 0
    unknown_chute_replies: int = 0
    bad_messages: int = 0


class SorterState(Header):
    """Published periodically on ``state``: what is on the line and the counters."""

    operating_mode: Literal["AUTOMATIC", "STOPPED"] = "AUTOMATIC"
    items_on_line: int = Field(ge=0)
    chutes_open: int = Field(ge=0)
    chutes_full: int = Field(ge=0)
    chutes_closed: int = Field(ge=0)
    counters: Counters


class Inducted(Header):
    """An item was placed on the line at an induct."""

    item_id: str = Field(min_length=1)
    barcode: str = Field(description="the label as offered at the induct (not yet scanned)")
    induct_id: str
    carriers: list[int] = Field(description="carrier numbers it occupies (empty on an inline sorter)")


class DestinationRequest(Header):
    """The scanner read ``barcode``; reply with ``destination`` before ``deadline`` or it is rejected."""

    item_id: str = Field(min_length=1)
    barcode: str
    deadline: str = Field(description="ISO 8601 UTC: replies after this are late and counted")


class Destination(Header):
    """Controller to sorter: send ``itemId`` to ``chuteId`` (``reject`` allowed); may reassign later."""

    item_id: str = Field(min_length=1)
    chute_id: str = Field(min_length=1)


class DivertConfirm(Header):
    """An item met its chute: SORTED, RECIRCULATED (chute full or closed), REJECTED or LOST."""

    item_id: str = Field(min_length=1)
    chute_id: str
    result: Literal["SORTED", "RECIRCULATED", "REJECTED", "LOST"]
    reason: str = Field("", description="why, for RECIRCULATED / REJECTED: full, closed, no_read, "
                                        "late_reply, lap_limit, requested")
    recirculations: int = Field(0, ge=0, description="laps the item went round before this")


class ChuteState(Header):
    """A chute changed state or was emptied."""

    chute_id: str = Field(min_length=1)
    state: Literal["OPEN", "FULL", "CLOSED"]
    fill_items: int = Field(ge=0)
    capacity_items: int = Field(ge=0, description="0: unlimited (the reject chute)")


class ChuteRelease(Header):
    """Controller to chute (robotic sortation): nothing more is on its way to ``chuteId``.

    Why: a robot tips its parcel seconds after its path was released, so a chute that turned FULL
    (its bag at capacity, or an operator asking to swap it) must not close while robots are still
    heading there. The controller stops choosing a FULL chute and sends this once the last parcel
    it sent there has been tipped; only then does the chute close for the bag swap."""

    chute_id: str = Field(min_length=1)


MESSAGES: dict[str, type[Header]] = {
    "connection": Connection,
    "state": SorterState,
    "inducted": Inducted,
    "destinationRequest": DestinationRequest,
    "destination": Destination,
    "divertConfirm": DivertConfirm,
    "chuteState": ChuteState,
    "chuteRelease": ChuteRelease,
}
"""Topic kind -> wire model."""

def unit_labels(order_id: str, quantities: list[int]) -> list[str]:
    """Barcodes of an order's units at a sorting site, line by line: ``{orderId}/{line}/{unit}``
    (line index in WMS order, unit from 0; see docs/protocol-sorter.md). The station prints them,
    the controller expects them."""
    return [f"{order_id}/{i}/{u}" for i, qty in enumerate(quantities) for u in range(qty)]


def sorter_topic(site: str, sorter_id: str, kind: str) -> str:
    """``bulletyard/v1/{site}/sorter/{sorterId}/{kind}`` (built by :mod:`bus.topics`)."""
    if kind not in MESSAGES:
        raise ValueError(f"unknown sorter message kind {kind!r}")
    return topics.sorter_topic(site, sorter_id, kind)


def sorter_filter(site: str, sorter_id: str | None = None, kind: str | None = None) -> str:
    """A subscription filter over sorter topics (None levels become ``+``)."""
    return topics.sorter_filter(site, sorter_id, kind)


def parse_sorter_topic(topic: str) -> tuple[str, str, str] | None:
    """``(site, sorterId, kind)`` of a sorter topic, or None when it is not one.

    A topic outside ``bulletyard/v1/`` (every vehicle message a controller reads) is answered
    before parsing: a refused parse builds an error message, once per message.
    """
    if not topic.startswith(_OUR_PREFIX):
        return None
    try:
        site, sorter_id, kind = topics.parse_sorter_topic(topic)
    except topics.TopicFormatError:
        return None
    return site, sorter_id, str(kind.value)


class SorterOutbox:
    """One sender's sorter messages as envelopes: the header (``headerId`` per topic, timestamp,
    ``sorterId``) filled in, QoS and retain as :func:`bus.topics.sorter_delivery` says.

    Args:
        site, sorter_id: the topic levels (``sorterId`` is also the header's).
    """

    def __init__(self, site: str, sorter_id: str) -> None:
        self.site = site
        self.sorter_id = sorter_id
        self._headers = HeaderIds()

    def envelope(self, now: Instant, kind: str, **fields: object) -> Envelope:
        """The ``kind`` message with ``fields`` (snake_case names), stamped ``now``."""
        topic = sorter_topic(self.site, self.sorter_id, kind)
        # model_validate: the fields differ per kind (the same validation as the constructor's)
        header_id = self._headers.next(topic)
        msg = MESSAGES[kind].model_validate(
            {"header_id": header_id, "timestamp": iso_timestamp(now), "sorter_id": self.sorter_id, **fields}
        )
        qos, retain = topics.sorter_delivery(kind)
        return Envelope(topic, encode(msg), qos, retain)


def encode(message: Header) -> bytes:
    """Compact JSON with the wire (camelCase) names."""
    return message.model_dump_json(by_alias=True).encode()


def decode(kind: str, payload: bytes, topic: str = "") -> Header:
    """Parse and validate; raises :class:`ProtocolError` naming the topic and the first bad field."""
    where = topic or kind
    try:
        limits.check(payload, limits.MessageLimits(max_payload_bytes=MAX_PAYLOAD_BYTES))
    except limits.MessageRefused as exc:
        raise ProtocolError(f"{where}: {exc}") from None
    model = MESSAGES.get(kind)
    if model is None:
        raise ProtocolError(f"{where}: unknown message kind {kind!r}")
    try:
        return model.model_validate_json(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(payload)"
        raise ProtocolError(f"{where}: {field}: {first['msg']}") from None


def json_schema(kind: str) -> JsonSchemaValue:
    """The JSON schema of one message kind, as committed under ``docs/schemas``."""
    schema = MESSAGES[kind].model_json_schema(by_alias=True, mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = kind
    return schema


def schema_texts() -> dict[str, str]:
    """File name -> JSON text of every schema (stable formatting, trailing newline)."""
    return {f"sorter-{kind}.schema.json": json.dumps(json_schema(kind), indent=2, sort_keys=True) + "\n"
            for kind in MESSAGES}


def write_schemas(folder: Path) -> list[Path]:
    """Regenerate the committed schemas into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in schema_texts().items():
        (folder / name).write_text(text, encoding="utf-8")
        written.append(folder / name)
    return written


if __name__ == "__main__":
    for path in write_schemas(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas")):
        print(path)
