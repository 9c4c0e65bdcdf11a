"""Topic names and delivery rules: ``uagv/v2/{manufacturer}/{serialNumber}/{topic}`` (spec 6.3, 6.2).

QoS 0 for everything except ``connection`` (QoS 1); ``connection`` and ``factsheet`` retained.
"""

from __future__ import annotations

from typing import Literal

TopicKind = Literal["order", "instantActions", "state", "visualization", "connection", "factsheet"]

#: Interface name and major version at the front of every topic.
TOPIC_PREFIX = "uagv/v2"

#: QoS per topic kind, as the standard says.
QOS: dict[str, int] = {
    "order": 0,
    "instantActions": 0,
    "state": 0,
    "visualization": 0,
    "connection": 1,
    "factsheet": 0,
}

#: Which topic kinds are published retained.
RETAIN: dict[str, bool] = {
    "order": False,
    "instantActions": False,
    "state": False,
    "visualization": False,
    "connection": True,
    "factsheet": True,
}


def topic(manufacturer: str, serial_number: str, kind: TopicKind) -> str:
    """The full topic for one vehicle and kind."""
    return f"{TOPIC_PREFIX}/{manufacturer}/{serial_number}/{kind}"


def split_topic(name: str) -> tuple[str, str, str] | None:
    """``(manufacturer, serial_number, kind)`` of a VDA 5050 topic, or None for any other topic."""
    parts = name.split("/")
    if len(parts) != 5 or f"{parts[0]}/{parts[1]}" != TOPIC_PREFIX:
        return None
    return parts[2], parts[3], parts[4]
