"""The official VDA 5050 2.1.0 JSON schemas, loaded for tests, with the one known erratum patched.

Erratum: ``state.schema`` of 2.1.0 lists ``actionStatus`` as WAITING, INITIALIZING, RUNNING,
FINISHED, FAILED, while the spec text (sections 6.8.2 and 6.11) also has PAUSED. The loader adds
PAUSED to that enum and nothing else (see ``docs/vda5050.md``).

``date-time`` is checked strictly as the project writes it: ISO 8601 UTC with milliseconds and
``Z`` (jsonschema has no date-time checker without extra packages).
"""

from __future__ import annotations

import json
import os
import re
from functools import cache
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from tests.conftest import shared_dir

KINDS = ("order", "instantActions", "state", "connection", "factsheet", "visualization")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def schema_dir() -> Path:
    """``<shared>/vda5050-2.1.0``."""
    return shared_dir() / "vda5050-2.1.0"


def require_schemas() -> Path:
    """The schema folder; skips locally when absent, fails under CI."""
    path = schema_dir()
    if not (path / "state.schema").is_file():
        message = f"VDA 5050 schemas not found at {path} (set BULLETYARD_SHARED)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def patch_errata(kind: str, schema: dict) -> dict:
    """Add PAUSED to state.actionStates[].actionStatus (the 2.1.0 erratum)."""
    if kind == "state":
        enum = schema["properties"]["actionStates"]["items"]["properties"]["actionStatus"]["enum"]
        if "PAUSED" not in enum:
            enum.insert(enum.index("FINISHED"), "PAUSED")
    return schema


@cache
def validator(kind: str) -> Draft202012Validator:
    """A validator for one message kind (erratum patched, strict timestamps)."""
    path = require_schemas() / f"{kind}.schema"
    schema = patch_errata(kind, json.loads(path.read_text(encoding="utf-8")))
    checker = FormatChecker()
    checker.checks("date-time")(lambda value: not isinstance(value, str) or bool(_TIMESTAMP.match(value)))
    return Draft202012Validator(schema, format_checker=checker)


def schema_errors(kind: str, message: dict) -> list[str]:
    """Every schema violation of ``message`` as ``path: text``."""
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}"
            for e in validator(kind).iter_errors(message)]


def assert_valid(kind: str, payload: bytes | dict) -> None:
    """Fail the test with every violation when ``payload`` does not match its schema."""
    message = json.loads(payload) if isinstance(payload, bytes | str) else payload
    errors = schema_errors(kind, message)
    assert not errors, f"{kind} message violates the official schema:\n" + "\n".join(errors)


def kind_of(topic: str) -> str:
    """The last topic level (``uagv/v2/m/s/state`` -> ``state``)."""
    return topic.rsplit("/", 1)[-1]


@cache
def validator_for(version: str, kind: str) -> Draft202012Validator:
    """A validator for one message kind of VDA 5050 ``version`` (``2.0.0`` or ``2.1.0``); the 2.0.0
    schemas are used as published (what the controller sends a 2.0 vehicle satisfies both the
    schema and the text where they disagree)."""
    if version == "2.1.0":
        return validator(kind)
    path = require_schemas().parent / f"vda5050-{version}" / f"{kind}.schema"
    if not path.is_file():
        message = f"VDA 5050 {version} schema {path.name} not found at {path.parent} (set BULLETYARD_SHARED)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    checker = FormatChecker()
    checker.checks("date-time")(lambda value: not isinstance(value, str) or bool(_TIMESTAMP.match(value)))
    return Draft202012Validator(json.loads(path.read_text(encoding="utf-8")), format_checker=checker)


def assert_valid_for(version: str, kind: str, message: dict) -> None:
    """Fail with every violation when ``message`` does not match the official ``version`` schema."""
    errors = [f"{'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}"
              for e in validator_for(version, kind).iter_errors(message)]
    assert not errors, f"{kind} message violates the official {version} schema:\n" + "\n".join(errors)
