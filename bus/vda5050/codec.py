"""Bytes in, models out and back: the only place that knows how VDA 5050 JSON is spelled.

``to_payload`` writes camelCase keys and leaves out every field that is ``None`` (the schemas
have no nullable fields). ``parse_<kind>`` raise :class:`VdaDecodeError` (a ``ValueError``) for
payloads that break the message limits (:mod:`bus.limits`: too big, too deep, non-finite
numbers, duplicate keys, control characters in ids), are not JSON, or do not match the model,
so an agent can reject an order without ever crashing on bad input.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from bus import limits
from bus.vda5050.connection import Connection
from bus.vda5050.factsheet import Factsheet
from bus.vda5050.instant_actions import InstantActions
from bus.vda5050.order import Order
from bus.vda5050.state import State
from bus.vda5050.visualization import Visualization

#: Largest payload we decode (bytes); an order of a few thousand nodes stays well below.
MAX_PAYLOAD_BYTES = 4 * 1024 * 1024
VDA_LIMITS = limits.MessageLimits(max_payload_bytes=MAX_PAYLOAD_BYTES)

M = TypeVar("M", bound=BaseModel)


class VdaDecodeError(ValueError):
    """A payload that is not a valid message of the expected kind (the text says why)."""


def to_payload(model: BaseModel) -> bytes:
    """JSON bytes with camelCase aliases and no ``None`` fields."""
    return model.model_dump_json(by_alias=True, exclude_none=True).encode()


def parse(model_type: type[M], payload: bytes) -> M:
    """Decode ``payload`` as ``model_type``; :class:`VdaDecodeError` on any problem."""
    try:
        value = limits.loads(payload, VDA_LIMITS)  # parsed once: the model validates the value
    except limits.MessageRefused as exc:
        raise VdaDecodeError(f"{model_type.__name__}: {exc}") from None
    try:
        return model_type.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "message"
        raise VdaDecodeError(f"{model_type.__name__}: {where}: {first.get('msg')}") from exc


def parse_order(payload: bytes) -> Order:
    """Decode an ``order`` message."""
    return parse(Order, payload)


def parse_instant_actions(payload: bytes) -> InstantActions:
    """Decode an ``instantActions`` message."""
    return parse(InstantActions, payload)


def parse_state(payload: bytes) -> State:
    """Decode a ``state`` message."""
    return parse(State, payload)


def parse_connection(payload: bytes) -> Connection:
    """Decode a ``connection`` message."""
    return parse(Connection, payload)


def parse_factsheet(payload: bytes) -> Factsheet:
    """Decode a ``factsheet`` message."""
    return parse(Factsheet, payload)


def parse_visualization(payload: bytes) -> Visualization:
    """Decode a ``visualization`` message."""
    return parse(Visualization, payload)
