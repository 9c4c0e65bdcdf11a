"""Every inbound message goes through here: message limits, JSON, schema, topic checks, never a crash.

A subscriber (the controller, a vehicle agent, the sorter agent) hands each :class:`Envelope` to
an :class:`Inbox`, which returns either the validated pydantic model or a :class:`Rejected`
value. Bad input (a payload that breaks :mod:`bus.limits`: over the size cap, nested too deep,
non-finite numbers, a key twice, a control character in an id; non-JSON, wrong types, missing
fields, unknown enum values, a topic nobody expects, a robot nobody knows) is counted per reason
and logged once per (reason, topic) with the cause, then counted and summed up at most once a
minute (:class:`bus.reject_log.RejectionLog`), so a misbehaving sender cannot flood the log or
take down the process, and the next good message is served as usual.

Example::

    inbox = Inbox({"uagv/v2/+/+/state": State, "uagv/v2/+/+/connection": Connection})
    result = inbox.decode(envelope)
    if isinstance(result, Rejected):
        return []          # already counted and logged
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ValidationError

from bus import limits
from bus.clock import Instant
from bus.reject_log import RejectionLog
from bus.topicmatch import check_topic_filter, topic_matches
from bus.topics import TopicFormatError, parse_vda_topic
from bus.transport import Envelope

log = logging.getLogger(__name__)

DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024
"""1 MiB: far above any VDA 5050 order or state we produce, far below what would hurt."""

MAX_ROUTE_CACHE = 10_000
NO_TIME = Instant(0)  # the time of a caller that gives none (it only paces summary lines)
"""Topics whose model lookup is remembered; the cache is emptied when it grows past this."""


class RejectReason(StrEnum):
    """Why an inbound message was not accepted (the key rejections are counted under)."""

    TOO_LARGE = "too_large"
    TOO_DEEP = "too_deep"
    NON_FINITE = "non_finite"
    BIG_INTEGER = "big_integer"
    DUPLICATE_KEY = "duplicate_key"
    CONTROL_CHARACTER = "control_character"
    NOT_JSON = "not_json"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    UNKNOWN_VALUE = "unknown_value"
    UNKNOWN_FIELD = "unknown_field"
    INVALID = "invalid"
    UNKNOWN_TOPIC = "unknown_topic"


@dataclass(frozen=True, slots=True)
class Rejected:
    """A message that was refused, and why (``detail`` names the field or the limit)."""

    topic: str
    reason: RejectReason
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.topic}: {self.reason.value}: {self.detail}"


_MISSING = {"missing"}
_UNKNOWN_VALUE = {"enum", "literal_error"}
_NOT_JSON = {"json_invalid", "json_type"}


def classify(error: ValidationError) -> tuple[RejectReason, str]:
    """The reason for the first problem pydantic found, and a one-line description of it."""
    first = error.errors(include_url=False)[0]
    kind = first["type"]
    where = ".".join(str(part) for part in first["loc"]) or "<root>"
    message = first["msg"]
    if kind in _NOT_JSON:
        return RejectReason.NOT_JSON, message
    if kind in _MISSING:
        reason = RejectReason.MISSING_FIELD
    elif kind in _UNKNOWN_VALUE:
        reason = RejectReason.UNKNOWN_VALUE
    elif kind == "extra_forbidden":
        reason = RejectReason.UNKNOWN_FIELD
    elif kind.endswith(("_type", "_parsing")):
        reason = RejectReason.WRONG_TYPE
    else:
        reason = RejectReason.INVALID
    more = error.error_count() - 1
    suffix = f" (and {more} more)" if more else ""
    return reason, f"{where}: {message}{suffix}"


class Decoder:
    """Decodes one message kind: the message limits, then ``model.model_validate_json``.

    Args:
        model: the pydantic model of the payload.
        max_payload_bytes: larger payloads are rejected unread (the other limits are
            :data:`bus.limits.DEFAULT_LIMITS`'s).
        strict: pydantic strict mode (no "1" -> 1 coercion); JSON strings still fill enums.
    """

    def __init__(
        self,
        model: type[BaseModel],
        *,
        max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
        strict: bool = True,
    ) -> None:
        if max_payload_bytes <= 0:
            raise ValueError("max_payload_bytes must be positive")
        self.model = model
        self.max_payload_bytes = max_payload_bytes
        self.limits = limits.MessageLimits(max_payload_bytes=max_payload_bytes)
        self.strict = strict

    def decode(self, message: Envelope) -> BaseModel | Rejected:
        """The validated model, or :class:`Rejected` with the reason (never raises on bad input)."""
        payload = message.payload
        try:
            limits.check(payload, self.limits)
        except limits.MessageRefused as err:
            return Rejected(message.topic, RejectReason(err.kind.value), err.detail)
        try:
            return self.model.model_validate_json(payload, strict=self.strict)
        except ValidationError as err:
            reason, detail = classify(err)
            return Rejected(message.topic, reason, f"{self.model.__name__}: {detail}")
        except (ValueError, TypeError, RecursionError) as err:  # defensive: decoder-level failures
            return Rejected(message.topic, RejectReason.NOT_JSON, f"{type(err).__name__}: {err}")


TopicCheck = Callable[[str], str | None]
"""Returns None to accept a topic, or the reason (text) to reject it, e.g. an unknown robot."""


def known_vda_vehicles(serials: set[str] | frozenset[str], manufacturer: str | None = None) -> TopicCheck:
    """A :data:`TopicCheck` accepting only well-formed VDA 5050 topics of the given vehicles."""
    allowed = frozenset(serials)

    def check(topic: str) -> str | None:
        try:
            parts = parse_vda_topic(topic)
        except TopicFormatError as err:
            return str(err)
        if manufacturer is not None and parts.manufacturer != manufacturer:
            return f"unknown manufacturer {parts.manufacturer!r}"
        if parts.serial not in allowed:
            return f"unknown vehicle {parts.serial!r}"
        return None

    return check


class Inbox:
    """Routes each inbound message to the model for its topic and keeps the rejection tally.

    Args:
        models: topic filter (``+``/``#`` allowed) -> pydantic model; first matching filter wins.
        max_payload_bytes: size cap for every message (default 1 MiB).
        topic_check: optional extra gate on the topic (see :func:`known_vda_vehicles`).
        strict: pydantic strict mode for every model.
    """

    def __init__(
        self,
        models: Mapping[str, type[BaseModel]] | type[BaseModel],
        *,
        max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
        topic_check: TopicCheck | None = None,
        strict: bool = True,
    ) -> None:
        if isinstance(models, type):
            models = {"#": models}
        self._decoders = [
            (check_topic_filter(f), Decoder(m, max_payload_bytes=max_payload_bytes, strict=strict))
            for f, m in models.items()
        ]
        self._route_cache: dict[str, Decoder | None] = {}
        self._topic_check = topic_check
        self.log = RejectionLog(log)
        self._now = Instant(0)
        self.rejections: Counter[RejectReason] = Counter()
        """How many messages were rejected, per reason."""
        self.accepted = 0
        """How many messages decoded fine."""

    def decode(self, message: Envelope, now: Instant = NO_TIME) -> Any:
        """The validated model instance, or a :class:`Rejected` (counted and logged once; ``now``,
        the receiver's time in ns, paces the summary lines)."""
        self._now = now
        topic = message.topic
        if self._topic_check is not None:
            problem = self._topic_check(topic)
            if problem is not None:
                return self._reject(Rejected(topic, RejectReason.UNKNOWN_TOPIC, problem))
        if topic in self._route_cache:
            decoder = self._route_cache[topic]
        else:
            decoder = next((d for f, d in self._decoders if topic_matches(f, topic)), None)
            if len(self._route_cache) >= MAX_ROUTE_CACHE:
                self._route_cache.clear()
            self._route_cache[topic] = decoder
        if decoder is None:
            return self._reject(Rejected(topic, RejectReason.UNKNOWN_TOPIC, "no model for this topic"))
        result = decoder.decode(message)
        if isinstance(result, Rejected):
            return self._reject(result)
        self.accepted += 1
        return result

    @property
    def rejected_total(self) -> int:
        """All rejections, whatever the reason."""
        return sum(self.rejections.values())

    def _reject(self, rejected: Rejected) -> Rejected:
        self.rejections[rejected.reason] += 1
        self.log.note(self._now, rejected.reason.value, rejected.topic, rejected.detail)
        return rejected
