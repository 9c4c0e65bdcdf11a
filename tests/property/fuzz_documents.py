"""Hypothesis strategies for hostile documents: a valid file of each kind, then mutated (issue 25).

A mutation replaces a value anywhere in the tree with a hostile one (NaN, infinity, 10^30, a
negative or fractional count, a mapping where a string belongs, ...), removes or adds a key,
nests a value deeply, or works on the text: a duplicated key, a truncation, an alias bomb, a
number literal that overflows, a wide map header. Starting from a valid document keeps most
cases deep enough to reach the checks that matter, not only the parser.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from hypothesis import strategies as st

HOSTILE_VALUES: list[Any] = [
    float("nan"), float("inf"), float("-inf"), 1e300, -1, 0, -0.5, 1.5, 10**30, 2**63, "", "x" * 5000,
    {"a": 1}, [1, 2], [], {}, None, True, "a/b", "\x00", "nan", "1e400", 3,
]
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value of the tree (the root is ``()``)."""
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _replace(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(node, dict):
        return {k: (_replace(v, rest, value) if k == head else v) for k, v in node.items()}
    return [(_replace(v, rest, value) if i == head else v) for i, v in enumerate(node)]


def _remove(node: Any, path: tuple[Any, ...]) -> Any:
    if len(path) == 1:
        if isinstance(node, dict):
            return {k: v for k, v in node.items() if k != path[0]}
        return [v for i, v in enumerate(node) if i != path[0]]
    head, rest = path[0], path[1:]
    if isinstance(node, dict):
        return {k: (_remove(v, rest) if k == head else v) for k, v in node.items()}
    return [(_remove(v, rest) if i == head else v) for i, v in enumerate(node)]


@st.composite
def mutated_tree(draw: st.DrawFn, template: Any) -> Any:
    """``template`` after one to three structural mutations."""
    doc = template
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["replace", "replace", "replace", "remove", "add", "nest", "wrap"]))
        if op == "replace":
            doc = _replace(doc, path, draw(st.sampled_from(HOSTILE_VALUES)))
        elif op == "remove" and path:
            doc = _remove(doc, path)
        elif op == "add" and isinstance(doc, dict):
            key = draw(st.sampled_from(["zz", "name", "", "1"]))
            doc = {**doc, key: draw(st.sampled_from(HOSTILE_VALUES))}
        elif op == "nest":  # written into the text by _deep (a deep tree would not even serialise)
            doc = _replace(doc, path, f"{DEEP_MARK}{draw(st.sampled_from([3, 70, 300, 3000, 100_000]))}")
        elif op == "wrap":
            doc = [doc]
    return doc


DEEP_MARK = "deep-nesting-"


def _deep(text: str) -> str:
    """Each quoted ``deep-nesting-N`` becomes a list nested ``N`` levels deep (same in JSON and YAML)."""
    for quote in ('"', "'", ""):
        while f"{quote}{DEEP_MARK}" in text:
            start = text.index(f"{quote}{DEEP_MARK}")
            end = start + len(quote) + len(DEEP_MARK)
            digits = ""
            while end < len(text) and text[end].isdigit():
                digits += text[end]
                end += 1
            n = int(digits)
            text = text[:start] + "[" * n + "1" + "]" * n + text[end + len(quote):]
    return text


def _text_mutation(draw: st.DrawFn, text: str, yaml_text: bool) -> str:
    text = _deep(text)
    op = draw(st.sampled_from(["none", "none", "truncate", "duplicate", "bomb", "bignum", "bytes"]))
    if op == "truncate" and text:
        return text[: draw(st.integers(0, len(text) - 1))]
    if op == "duplicate":
        lines = text.splitlines(keepends=True)
        if yaml_text and lines:
            return text + lines[draw(st.integers(0, len(lines) - 1))]
        return text.replace("{", '{"dup": 1, "dup": 2, ', 1)
    if op == "bomb" and yaml_text:
        return text + ("\n" if not text.endswith("\n") else "") + BOMB.replace("a:", "aa:", 1)
    if op == "bignum":
        digit = next((i for i, c in enumerate(text) if c.isdigit()), None)
        if digit is not None:
            big = draw(st.sampled_from(["1e400", "9" * 60, "-1e999", "0x10"]))
            return text[:digit] + big + text[digit + 1:]
    if op == "bytes":
        return text + draw(st.text(min_size=1, max_size=8))
    return text


@st.composite
def json_document(draw: st.DrawFn, template: Any) -> str:
    """A JSON text from a mutated ``template`` (``NaN``/``Infinity`` written as JSON extensions)."""
    return _text_mutation(draw, json.dumps(draw(mutated_tree(template))), yaml_text=False)


@st.composite
def yaml_document(draw: st.DrawFn, template: Any) -> str:
    """A YAML text from a mutated ``template``."""
    text = yaml.safe_dump(draw(mutated_tree(template)), sort_keys=False, width=1 << 16)
    return _text_mutation(draw, text, yaml_text=True)


@st.composite
def map_document(draw: st.DrawFn) -> str:
    """A MovingAI map whose header or rows are mutated."""
    height = draw(st.sampled_from(["3", "0", "-2", "1000000000000", "nan", "3.5", "2"]))
    width = draw(st.sampled_from(["4", "0", "-4", "1000000000000", "1e3", "5"]))
    rows = draw(st.lists(st.sampled_from(["..@.", "....", "..@", "..x.", "@@@@", ""]), max_size=5))
    header = draw(st.sampled_from(["type octile\n", "type octile\n", "", "version 1\n"]))
    return f"{header}height {height}\nwidth {width}\nmap\n" + "\n".join(rows) + "\n"


OPTION_VALUES = st.one_of(
    st.sampled_from(["nan", "inf", "-inf", "1e400", "1e300", "-5", "0", "-0", "1e-10", "0.5", "3",
                     "100000000", "abc", "", "1,2", "a/b", "#", "+", "x@nan", "agv-0001@1e308", "0.01,1,inf",
                     "2,1,0"]),
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=12),
)
