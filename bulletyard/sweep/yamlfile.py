"""Reading a user's YAML file (a sweep spec or a scenarios file) so that errors name the line.

A spec is checked as a whole before anything runs; the user should be able to jump straight to
the offending key. PyYAML's composed node tree keeps each key's position, so a validation error
from pydantic (a path of keys and indexes) is mapped back to ``FILE:LINE``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from warehouse_maps.errors import InputError
from warehouse_maps.safe_load import read_text_capped, safe_yaml_load


class SpecError(ValueError):
    """A sweep spec or scenarios file that cannot be used: one line naming file, line and key."""


def read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """The file's data and its node tree (for line numbers); a missing or non-YAML file is a
    :class:`SpecError`."""
    if not path.is_file():
        raise SpecError(f"{path}: no such file")
    try:  # size, nesting, alias bombs, duplicate keys and non-finite numbers refused (docs/limits.md)
        return safe_yaml_load(read_text_capped(path), path)
    except InputError as exc:
        raise SpecError(str(exc)) from None


def line_of(node: yaml.Node | None, loc: Sequence[str | int]) -> int | None:
    """1-based line of the deepest node reachable along ``loc`` (key names and list indexes)."""
    line = None if node is None else node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            hit = next(((k, v) for k, v in node.value if k.value == part), None)
            if hit is None:
                return line
            line, node = hit[0].start_mark.line + 1, hit[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def validate(model: type[BaseModel], data: Any, path: Path, node: yaml.Node | None,
             prefix: Sequence[str | int] = ()) -> Any:
    """``model`` built from ``data``; the first validation error becomes one :class:`SpecError`
    line: ``FILE:LINE: key a.b: message``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [*prefix, *(p for p in err["loc"] if not _is_union_tag(p))]
        raise SpecError(where(path, node, loc, _message(err))) from None


def where(path: Path, node: yaml.Node | None, loc: Sequence[str | int], message: str) -> str:
    """``FILE:LINE: key a.b: message`` (the key part left out when ``loc`` is empty)."""
    line = line_of(node, loc)
    place = f"{path}:{line}" if line is not None else str(path)
    key = ".".join(str(p) for p in loc)
    return f"{place}: key {key}: {message}" if key else f"{place}: {message}"


def _is_union_tag(part: str | int) -> bool:
    """pydantic puts the tried member's type in the path of a union error (``list[int]``...)."""
    return isinstance(part, str) and (
        "[" in part or part in ("int", "float", "str", "bool", "function-after", "function-before")
    )


def _message(err: dict[str, Any]) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key"
    if err["type"] == "missing":
        return "required key is missing"
    return str(err["msg"]).removeprefix("Value error, ")
