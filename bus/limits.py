"""Message limits: what an inbound JSON payload must respect before any decoder reads it.

Why: a message on the bus comes from anyone the broker lets publish. One message must never end a
process or cost more than its size: JSON nested 10,000 levels deep made Python's ``json`` raise
``RecursionError`` (it killed ``bulletyard serve`` and ``bulletyard robots``), ``1e400`` reads as
infinity, ``{"a": 1, "a": 2}`` keeps one of two values silently, and an ``orderId`` holding
U+0000 breaks every log line and journal row it reaches. Every decoder of inbound messages (the
controller's vehicle, WMS and sorter decoders, the vehicle agent's order and instant actions,
the sorter agent's :class:`bus.inbox.Inbox`) calls :func:`loads` or :func:`check` first, so the
rules below hold for every message kind and every topic.

The rules (``docs/limits-bus.md`` lists them with the way to raise them):

* size: at most :attr:`MessageLimits.max_payload_bytes`, checked before anything is read;
* nesting: at most :attr:`MessageLimits.max_depth` levels of ``{`` and ``[``, counted by a scan
  of the bytes (strings skipped) *before* parsing, so no parser ever recurses on hostile input;
* numbers: finite, and integers within 64 bits (``1e400`` and a 400-digit integer are refused);
* objects: no key twice;
* ids: no control character (U+0000-U+001F, U+007F-U+009F) in a key or in the value of an id
  field (``orderId``, ``serialNumber``, ``sku``, ...).

The checks cost a few microseconds on a typical 2 KB state: they run in C (a regex removes the
strings, ``bytes.count`` and ``translate`` do the rest) and the parse is orjson's.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from itertools import accumulate
from typing import Any

import orjson


@dataclass(frozen=True, slots=True)
class MessageLimits:
    """Bounds for one kind of inbound message.

    Attributes:
        max_payload_bytes: larger payloads are refused unread (bytes).
        max_depth: deepest nesting of objects and arrays; the deepest VDA 5050 message we know
            (a factsheet, or an order whose action parameters hold objects) nests 7 levels.
    """

    max_payload_bytes: int = 1 << 20
    max_depth: int = 64

    def __post_init__(self) -> None:
        if self.max_payload_bytes <= 0 or self.max_depth <= 0:
            raise ValueError("message limits must be positive")


DEFAULT_LIMITS = MessageLimits()


class LimitKind(StrEnum):
    """Which rule a payload broke (the key its refusals are counted and logged under)."""

    TOO_LARGE = "too_large"
    TOO_DEEP = "too_deep"
    NOT_JSON = "not_json"
    NON_FINITE = "non_finite"
    BIG_INTEGER = "big_integer"
    DUPLICATE_KEY = "duplicate_key"
    CONTROL_CHARACTER = "control_character"


class MessageRefused(ValueError):
    """A payload that breaks a message limit; ``kind`` names the rule, the text says where."""

    def __init__(self, kind: LimitKind, detail: str) -> None:
        super().__init__(f"{kind.value}: {detail}")
        self.kind = kind
        self.detail = detail


# a JSON string, escapes included (unrolled: no backtracking per character)
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = b"{}[]"
_NOT_BRACKETS = bytes(b for b in range(256) if b not in _BRACKETS)
_DELTA = [0] * 256
_DELTA[ord("{")] = _DELTA[ord("[")] = 1
_DELTA[ord("}")] = _DELTA[ord("]")] = -1
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_TWENTY_DIGITS = b"0" * 20
_WHITESPACE = (b" ", b"\t", b"\n", b"\r")
# an integer literal of 20 digits or more (not part of a fraction or an exponent)
_BIG_INT = re.compile(rb"(?<![\d.eE+\-])-?\d{20,}(?![\d.eE])")
# an escaped or raw control character (C0, DEL, C1 in UTF-8)
_CONTROL_IN_JSON = re.compile(rb"\\u00[01][0-9a-fA-F]|\\u007[fF]|\\u00[89][0-9a-fA-F]|\x7f|\xc2[\x80-\x9f]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
ID_KEYS = frozenset({"serialNumber", "manufacturer", "sku", "destination", "barcode", "label"})
"""Keys whose string values are ids (besides every key ending in ``Id``)."""


def _skeleton(payload: bytes) -> bytes:
    """The payload without its strings: brackets, colons (one per key), commas, numbers, literals.

    Without a backslash no string holds a quote, so every other piece between quotes is outside
    the strings (a split in C); with one, a regex finds the strings.
    """
    if b"\\" not in payload:
        return b"".join(payload.split(b'"')[::2])
    return _STRING.sub(b"", payload)


def depth_of(payload: bytes) -> int:
    """The deepest nesting of objects and arrays in ``payload`` (strings skipped), without parsing."""
    return _depth(_skeleton(payload))


def _depth(skeleton: bytes) -> int:
    brackets = skeleton.translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    return max(0, max(accumulate(map(_DELTA.__getitem__, brackets))))


def precheck(payload: bytes, limits: MessageLimits = DEFAULT_LIMITS) -> None:
    """Size and nesting, before any parser sees ``payload``.

    Raises:
        MessageRefused: too large or too deep.
    """
    size = len(payload)
    if size > limits.max_payload_bytes:
        raise MessageRefused(LimitKind.TOO_LARGE, f"payload of {size} bytes exceeds the limit of "
                             f"{limits.max_payload_bytes} bytes")
    if payload.count(b"{") + payload.count(b"[") > limits.max_depth:  # else it cannot be deeper
        depth = _depth(_skeleton(payload))
        if depth > limits.max_depth:
            raise MessageRefused(LimitKind.TOO_DEEP, f"nested {depth} levels > limit {limits.max_depth}")


def loads(payload: bytes | str, limits: MessageLimits = DEFAULT_LIMITS) -> Any:
    """The value of one JSON payload that respects every limit (see the module docstring).

    Raises:
        MessageRefused: naming the rule broken (``not_json`` for what is not JSON at all).
    """
    if isinstance(payload, str):
        payload = payload.encode("utf-8", "surrogatepass")
    precheck(payload, limits)
    try:
        value = orjson.loads(payload)
    except orjson.JSONDecodeError as err:
        text = str(err)
        if "infinity" in text:
            raise MessageRefused(LimitKind.NON_FINITE, text) from None
        if "depth" in text or "recursion" in text:
            raise MessageRefused(LimitKind.TOO_DEEP, text) from None
        raise MessageRefused(LimitKind.NOT_JSON, f"Invalid JSON: {text}") from None
    if _TWENTY_DIGITS in payload.translate(_DIGITS_AS_ZERO):  # rare: look closer, strings skipped
        big = _BIG_INT.search(_skeleton(payload))
        if big is not None:
            digits = len(big.group().lstrip(b"-"))
            raise MessageRefused(LimitKind.BIG_INTEGER, f"integer of {digits} digits does not fit 64 bits")
    plain = b"\\" not in payload and not any(c in payload for c in _WHITESPACE)
    if _keys(payload, plain) != _keys(orjson.dumps(value), plain):  # a key given twice is read once
        raise MessageRefused(LimitKind.DUPLICATE_KEY, f"key {_first_duplicate(payload)!r} appears twice")
    if (b"\\u00" in payload or b"\x7f" in payload or b"\xc2" in payload) and _CONTROL_IN_JSON.search(payload):
        where = _control_in_ids(value)
        if where is not None:
            raise MessageRefused(LimitKind.CONTROL_CHARACTER, f"{where} holds a control character")
    return value


def _keys(text: bytes, plain: bool) -> int:
    """How many object keys a valid JSON text holds, counted alike on both sides of a comparison.

    ``plain`` (compact and without a backslash, as every message we write): each ``":`` closes a
    key or opens a string that starts with a colon, and such strings are the same on both sides.
    Otherwise the colons outside strings are counted.
    """
    return text.count(b'":') if plain else _skeleton(text).count(b":")


def check(payload: bytes, limits: MessageLimits = DEFAULT_LIMITS) -> None:
    """Like :func:`loads`, for decoders that parse the payload themselves (pydantic models)."""
    loads(payload, limits)


def loads_or_none(payload: bytes, limits: MessageLimits = DEFAULT_LIMITS) -> Any:
    """The value of ``payload``, or None when it breaks a limit (best-effort reads, such as the
    ``orderId`` of an order being refused)."""
    try:
        return loads(payload, limits)
    except MessageRefused:
        return None


def _first_duplicate(payload: bytes) -> str:
    """The first key found twice in one object (the payload is known to be shallow and valid)."""
    found: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in items:
            if key in seen and not found:
                found.append(key)
            seen.add(key)
        return dict(items)

    json.loads(payload, object_pairs_hook=pairs)
    return found[0] if found else "?"


def _control_in_ids(value: Any, path: str = "") -> str | None:
    """The path of the first key or id value holding a control character (None: there is none)."""
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if _CONTROL.search(key):
                return f"key {where!r}"
            if isinstance(item, str) and (key.endswith("Id") or key in ID_KEYS) and _CONTROL.search(item):
                return where
            if isinstance(item, dict | list):
                found = _control_in_ids(item, where)
                if found is not None:
                    return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _control_in_ids(item, f"{path}[{i}]")
            if found is not None:
                return found
    return None
