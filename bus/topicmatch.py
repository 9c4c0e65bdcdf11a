"""MQTT topic names and filters: validation and matching exactly as MQTT 3.1.1/5 define them.

Both transports use this one matcher so that a wildcard bug shows up in simulation too. Rules
(MQTT 3.1.1 section 4.7): ``+`` matches exactly one level (an empty level included), ``#`` matches
the parent level and any number of child levels (``sport/#`` matches ``sport``), both only as a
whole level; filters starting with a wildcard never match topics starting with ``$`` (``$SYS``).
"""

from __future__ import annotations

MAX_TOPIC_BYTES = 65535
"""MQTT's limit on a topic's UTF-8 length."""


class TopicError(ValueError):
    """A topic name or filter that MQTT would refuse, with the reason."""


def check_topic_name(topic: str) -> str:
    """Return ``topic`` if it is a valid topic to publish to, else raise :class:`TopicError`."""
    if not topic:
        raise TopicError("topic must not be empty")
    if "+" in topic or "#" in topic:
        raise TopicError(f"topic {topic!r}: wildcards '+' and '#' are only allowed in filters")
    if "\x00" in topic:
        raise TopicError(f"topic {topic!r} contains a NUL character")
    if len(topic.encode("utf-8")) > MAX_TOPIC_BYTES:
        raise TopicError(f"topic is longer than {MAX_TOPIC_BYTES} bytes")
    return topic


def check_topic_filter(topic_filter: str) -> str:
    """Return ``topic_filter`` if it is a valid subscription filter, else raise :class:`TopicError`."""
    if not topic_filter:
        raise TopicError("topic filter must not be empty")
    if "\x00" in topic_filter:
        raise TopicError(f"filter {topic_filter!r} contains a NUL character")
    levels = topic_filter.split("/")
    for i, level in enumerate(levels):
        if "#" in level and (level != "#" or i != len(levels) - 1):
            raise TopicError(f"filter {topic_filter!r}: '#' must be a whole level and the last one")
        if "+" in level and level != "+":
            raise TopicError(f"filter {topic_filter!r}: '+' must be a whole level")
    return topic_filter


def topic_matches(topic_filter: str, topic: str) -> bool:
    """True when ``topic`` (a name, no wildcards) matches ``topic_filter`` under MQTT rules.

    >>> topic_matches("sport/#", "sport")
    True
    >>> topic_matches("+/monitor", "$SYS/monitor")
    False
    >>> topic_matches("a/+/c", "a//c")
    True
    """
    if topic_filter == topic:
        return True
    if topic.startswith("$") and topic_filter[:1] in ("+", "#"):
        return False
    if "+" not in topic_filter and "#" not in topic_filter:
        return False
    f_levels = topic_filter.split("/")
    t_levels = topic.split("/")
    n_t = len(t_levels)
    for i, f in enumerate(f_levels):
        if f == "#":
            return True  # matches this level and everything below, the parent level included
        if i >= n_t:
            return False
        if f != "+" and f != t_levels[i]:
            return False
    return len(f_levels) == n_t
