"""Reading untrusted files safely: a size cap, a regular file, and JSON / YAML with limits.

Why: the standard readers trust their input. ``Path.read_text`` on ``/dev/zero`` never returns;
``json.loads`` of 100,000 nested brackets raises ``RecursionError``; ``yaml.safe_load`` expands
nine nested aliases into a billion list items for whoever walks them; both silently keep the
last of two equal keys, and both turn ``NaN``, ``Infinity``, ``.inf`` or ``1e400`` into floats
that later poison a timeout. These functions refuse each of those with an :class:`InputError`
naming the file and the line, before any work is done. Limits come from
:mod:`warehouse_maps.limits` (``docs/limits.md``).

Public, pure functions (no state): :func:`read_text_capped`, :func:`safe_json_loads`,
:func:`safe_yaml_load`.
"""

from __future__ import annotations

import json
import math
import re
import stat
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import yaml

from warehouse_maps.errors import InputError
from warehouse_maps.limits import env_name, limit

_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present
_INT64_MAX = 2**63 - 1


def read_text_capped(path: str | Path) -> str:
    """The UTF-8 text of a regular file no larger than the ``file_bytes`` limit (newlines as ``\\n``).

    Raises:
        InputError: missing, a directory, a device or pipe (``/dev/zero``), too large, or not UTF-8.
    """
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror}") from None
    except ValueError:  # a NUL byte in the name
        raise InputError(repr(str(path)), "not a valid file name") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(path, "is a directory, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(path, "not a regular file (a device, pipe or socket cannot be an input)")
    cap = limit("file_bytes")
    too_big = f"file larger than the limit of {cap:,} bytes (raise it with {env_name('file_bytes')})"
    if info.st_size > cap:
        raise InputError(path, too_big)
    chunks: list[bytes] = []
    size = 0
    try:  # in chunks: f.read(cap) would reserve the whole cap up front, and the file may grow
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                chunks.append(chunk)
                size += len(chunk)
                if size > cap:
                    raise InputError(path, too_big)
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror}") from None
    data = b"".join(chunks)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(path, "not a UTF-8 text file", data[: exc.start].count(b"\n") + 1) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


# -- JSON -----------------------------------------------------------------------------------------

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_TOKEN = re.compile(
    r'(?P<str>"(?:[^"\\]|\\.)*")(?P<colon>\s*:)?|(?P<open>[\[{])|(?P<close>[\]}])'
    r"|(?P<const>NaN|-?Infinity)|(?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(?P<bad>\")"
)


class _Refused(ValueError):
    """Raised inside the JSON hooks; the caller finds the line with :func:`_first_offence`."""


def _max_bracket_depth(bare: str) -> int:
    """Deepest ``[``/``{`` nesting of ``bare`` (JSON without its strings), in C-speed passes."""
    codes = np.frombuffer(bare.encode("utf-8"), dtype=np.uint8)
    steps = ((codes == ord("[")) | (codes == ord("{"))).astype(np.int32)
    steps -= (codes == ord("]")) | (codes == ord("}"))
    return int(np.cumsum(steps).max()) if steps.size else 0


def _number_problem(token: str) -> str:
    """Why a JSON number literal is refused ("" when it is fine)."""
    if any(c in token for c in ".eE"):
        return "" if math.isfinite(float(token)) else f"number {token[:40]} is too large (not finite)"
    if len(token.lstrip("-")) > 19 or abs(int(token)) > _INT64_MAX:
        return f"number {token[:40]}... is too large" if len(token) > 40 else f"number {token} is too large"
    return ""


def _first_offence(text: str, max_depth: int) -> tuple[int | None, str]:
    """Line and reason of the first refused construct (the slow, exact scan of the error path)."""
    stack: list[set[str] | None] = []
    for m in _TOKEN.finditer(text):
        problem = ""
        if m.group("bad"):  # an unterminated string: nothing after it can be read as JSON
            break
        if m.group("open"):
            stack.append(set() if m.group("open") == "{" else None)
            if len(stack) > max_depth:
                problem = f"nested deeper than {max_depth} levels (raise it with {env_name('nesting')})"
        elif m.group("close"):
            if stack:
                stack.pop()
        elif m.group("const"):
            problem = f"{m.group('const')} is not a number JSON allows (finite numbers only)"
        elif m.group("num"):
            problem = _number_problem(m.group("num"))
        elif m.group("colon") and stack and stack[-1] is not None:
            key = m.group("str")
            if key in stack[-1]:
                problem = f"duplicate key {key}"
            stack[-1].add(key)
        if problem:
            return text.count("\n", 0, m.start()) + 1, problem
    return None, "refused"


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _Refused("duplicate key")
    return out


def _constant(name: str) -> float:
    raise _Refused(f"{name} is not a number JSON allows")


#: A number literal that may be too large: 20 digits or more, or a three-digit exponent.
_SUSPECT_NUMBER = re.compile(r"\d{20,}|[eE]\+?\d{3,}")


def safe_json_loads(text: str, source: str | Path = "<string>", max_depth: int | None = None) -> Any:
    """One JSON document, refusing deep nesting, duplicate keys and non-finite or huge numbers.

    The standard parser runs first (C speed; it stops deep recursion itself); only text it
    accepted is scanned again, so the string pattern never meets an unterminated string.

    Args:
        text: the document.
        source: the file named in errors.
        max_depth: nesting bound (default: the ``nesting`` limit).

    Raises:
        InputError: naming ``source`` and the line of the first problem.
    """
    depth = limit("nesting") if max_depth is None else max_depth
    try:
        data = json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise InputError(source, f"not valid JSON: {exc.msg}", exc.lineno) from None
    except (_Refused, RecursionError, ValueError) as exc:  # ValueError: an integer of 4300+ digits
        line, problem = _first_offence(text, depth)
        reason = "nested too deep" if isinstance(exc, RecursionError) else str(exc).split(":")[0]
        raise InputError(source, problem if line is not None else reason, line) from None
    bare = _STRING.sub('""', text)
    if _max_bracket_depth(bare) > depth or _SUSPECT_NUMBER.search(bare):
        line, problem = _first_offence(text, depth)
        if line is not None:
            raise InputError(source, problem, line)
    return data


# -- YAML -----------------------------------------------------------------------------------------


_Number = TypeVar("_Number", int, float)


class _StrictLoader(_FAST_LOADER):  # type: ignore[misc, valid-type]
    """The safe loader, refusing duplicate keys and non-finite floats with the line."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
                continue
            key = self.construct_object(key_node)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first on line {seen[key]})", key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping

    def construct_yaml_float(self, node: yaml.ScalarNode) -> float:
        value: float = super().construct_yaml_float(node)
        if not math.isfinite(value):
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value} is not a finite number", node.start_mark)
        return self._bounded(value, node)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        value: int = super().construct_yaml_int(node)
        return self._bounded(value, node)

    def _bounded(self, value: _Number, node: yaml.ScalarNode) -> _Number:
        """Every number in a YAML file is a time, rate, size or count: at most the ``yaml_number`` limit."""
        if abs(value) > limit("yaml_number"):
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value[:40]} is larger than {limit('yaml_number'):g} "
                f"(raise it with {env_name('yaml_number')})", node.start_mark)
        return value


_StrictLoader.add_constructor("tag:yaml.org,2002:float", _StrictLoader.construct_yaml_float)
_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)
_StrictLoader.add_constructor("tag:yaml.org,2002:map", _StrictLoader.construct_yaml_map)


def _check_events(text: str, source: str | Path) -> None:
    """Refuse deep nesting and alias bombs from the event stream, before any node is built.

    Each alias counts as the whole subtree it names: nine nested anchors of nine aliases each
    are 81 aliases but 387 million nodes for whoever walks the result.
    """
    max_depth, max_aliases, max_nodes = limit("nesting"), limit("yaml_aliases"), limit("yaml_nodes")
    stack: list[tuple[str | None, int]] = []  # (anchor, nodes so far) of each open collection
    sizes: dict[str | None, int] = {}  # anchor -> nodes of its subtree, expanded (anchors typed optional)
    aliases = total = 0
    for event in yaml.parse(text, Loader=_FAST_LOADER):
        line = event.start_mark.line + 1 if event.start_mark else None
        added = 0
        if isinstance(event, yaml.CollectionStartEvent):
            stack.append((event.anchor, 1))
            total += 1
            if len(stack) > max_depth:
                raise InputError(source, f"nested deeper than {max_depth} levels "
                                 f"(raise it with {env_name('nesting')})", line)
        elif isinstance(event, yaml.CollectionEndEvent) and stack:
            anchor, added = stack.pop()
            if anchor:
                sizes[anchor] = added
        elif isinstance(event, yaml.ScalarEvent):
            added = 1
            total += 1
            if event.anchor:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            if any(anchor == event.anchor for anchor, _ in stack):  # the value would contain itself
                raise InputError(source, f"recursive alias *{event.anchor} (it would contain itself)", line)
            aliases += 1
            added = sizes.get(event.anchor, 1)
            total += added
            if aliases > max_aliases:
                raise InputError(source, f"more than {max_aliases} YAML aliases (*name) "
                                 f"(raise it with {env_name('yaml_aliases')})", line)
        if total > max_nodes:
            raise InputError(source, f"more than {max_nodes:,} values once aliases are expanded; an alias "
                             f"bomb? (raise it with {env_name('yaml_nodes')})", line)
        if added and stack and not isinstance(event, yaml.CollectionStartEvent):
            anchor, n = stack[-1]
            stack[-1] = (anchor, n + added)


def safe_yaml_load(text: str, source: str | Path = "<string>") -> tuple[Any, yaml.Node | None]:
    """One YAML document and its root node (for line numbers), with the limits of this module.

    Refuses nesting beyond the ``nesting`` limit, more aliases than ``yaml_aliases``, duplicate
    keys and non-finite numbers (``.nan``, ``.inf``, ``1e400``).

    Raises:
        InputError: naming ``source`` and the line of the first problem.
    """
    loader = None
    try:
        _check_events(text, source)
        loader = _StrictLoader(text)
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(source, f"not valid YAML: {problem}", mark.line + 1 if mark else None) from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, root
