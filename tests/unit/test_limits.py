"""Message limits (``bus.limits``): one negative case per rule, and what must still pass.

The nesting check runs before any parser: a payload nested 10,000 levels deep is refused by a
scan of its bytes (brackets inside strings do not count). The property tests say the checks
never refuse a valid message of ours, compact or indented, with or without escapes.
"""

from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bus import limits
from bus.limits import LimitKind, MessageLimits, MessageRefused

SMALL = MessageLimits(max_payload_bytes=1000, max_depth=4)


@pytest.mark.parametrize(("payload", "kind", "detail"), [
    (b"x" * 1001, LimitKind.TOO_LARGE, "1001 bytes exceeds the limit of 1000"),
    (b"[[[[[1]]]]]", LimitKind.TOO_DEEP, "nested 5 levels > limit 4"),
    (b'{"a": {"b": {"c": {"d": {"e": 1}}}}}', LimitKind.TOO_DEEP, "nested 5 levels"),
    (b"[" * 900, LimitKind.TOO_DEEP, "nested 900 levels"),
    (b"{nope", LimitKind.NOT_JSON, "Invalid JSON"),
    (b'{"a": NaN}', LimitKind.NOT_JSON, ""),
    (b'{"a": 1e400}', LimitKind.NON_FINITE, "infinity"),
    (b'{"q": 1' + b"0" * 400 + b"}", LimitKind.NON_FINITE, "infinity"),
    (b'{"q": 100000000000000000000}', LimitKind.BIG_INTEGER, "21 digits"),
    (b'{"q": -12345678901234567890}', LimitKind.BIG_INTEGER, "20 digits"),
    (b'{"a": 1, "a": 2}', LimitKind.DUPLICATE_KEY, "'a'"),
    (b'{"x": {"a": 1}, "y": [{"b": 1, "c": 2, "b": 3}]}', LimitKind.DUPLICATE_KEY, "'b'"),
    (b'{"x": "a\\"b", "x" : 2}', LimitKind.DUPLICATE_KEY, "'x'"),
    (b'{"orderId": "o\\u00001"}', LimitKind.CONTROL_CHARACTER, "orderId"),
    (b'{"nodes": [{"nodeId": "n\\u001b[31m"}]}', LimitKind.CONTROL_CHARACTER, "nodes[0].nodeId"),
    (b'{"serialNumber": "agv\\u0085"}', LimitKind.CONTROL_CHARACTER, "serialNumber"),
    (b'{"ke\\u0000y": 1}', LimitKind.CONTROL_CHARACTER, "key"),
])
def test_each_rule_refuses_with_its_kind(payload: bytes, kind: LimitKind, detail: str) -> None:
    with pytest.raises(MessageRefused) as err:
        limits.loads(payload, SMALL)
    assert err.value.kind is kind
    assert detail in str(err.value)


@pytest.mark.parametrize("payload", [
    b'{"s": "[[[[[[[[[[[[[[[[[[[[[[[[[["}',  # brackets in strings are text
    b'{"s": "]]]]", "t": [[[1]]]}',
    b'{"description": "line one\\nline two\\ttab"}',  # control characters outside ids are text
    b'{"q": 1.0000000000000000000000001, "r": 12345678901234567e5, "s": "12345678901234567890123"}',
    b'{"a": ":x", "b": ":", "c": "\\":"}',
    b'{"max": 9223372036854775807, "min": -9223372036854775808}',
    b"[]",
    b'"just a string"',
])
def test_what_respects_the_limits_passes(payload: bytes) -> None:
    assert limits.loads(payload, SMALL) == json.loads(payload)


def test_a_string_payload_is_read_as_utf8() -> None:
    assert limits.loads('{"a": "é"}') == {"a": "é"}


def test_loads_or_none_never_raises_on_hostile_input() -> None:
    assert limits.loads_or_none(b"[" * 100_000) is None
    assert limits.loads_or_none(b'{"orderId": "o-1"}') == {"orderId": "o-1"}


def test_depth_is_counted_outside_strings_only() -> None:
    assert limits.depth_of(b'{"a": "[[[[", "b": [{"c": "]]]]]]"}]}') == 3
    assert limits.depth_of(b'{"a": "\\"[[[[", "b": [1]}') == 2
    assert limits.depth_of(b"42") == 0


# keys without control characters, and none that names an id: control characters are free text elsewhere
text = st.text(st.characters(blacklist_categories=["Cc", "Cs"])).filter(
    lambda k: not k.endswith("Id") and k not in limits.ID_KEYS)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_valid_messages_pass_compact_or_indented(value) -> None:
    for payload in (orjson.dumps(value), json.dumps(value, indent=1, ensure_ascii=True).encode()):
        assert limits.loads(payload) == json.loads(payload)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(text, json_values, min_size=1, max_size=4), st.data())
def test_a_key_given_twice_is_always_found(obj: dict, data) -> None:
    key = data.draw(st.sampled_from(sorted(obj)))
    text = orjson.dumps(obj)
    twice = text[:-1] + b"," + orjson.dumps(key) + b":" + orjson.dumps(obj[key]) + b"}"
    with pytest.raises(MessageRefused) as err:
        limits.loads(twice)
    assert err.value.kind is LimitKind.DUPLICATE_KEY
