"""Topic names for every protocol on the bus: VDA 5050 2.1, our sorter protocol, the WMS link.

VDA 5050 (section 6.3) suggests ``interfaceName/majorVersion/manufacturer/serialNumber/topic``,
which we use as ``uagv/v2/{manufacturer}/{serialNumber}/{kind}``. Section 6.2 fixes QoS 0 for
``order``, ``instantActions``, ``state``, ``factsheet`` and ``visualization`` and QoS 1 for
``connection``; sections 6.14 and 6.15 ask for ``connection`` and ``factsheet`` to be retained.

Our own protocols follow the same style:
``bulletyard/v1/{site}/sorter/{sorterId}/{kind}`` and ``bulletyard/v1/{site}/{orders|orderStatus}``.

Builders validate every level (no ``/``, ``+``, ``#``, ``$`` or empty level; VDA serial numbers
only ``A-Z a-z 0-9 _ . : -``); parsers raise :class:`TopicFormatError` naming the topic and what
is wrong, so a message on a malformed topic is rejected with a clear reason.
"""

from __future__ import annotations

import functools
import re
from enum import StrEnum
from typing import NamedTuple

VDA_INTERFACE = "uagv"
VDA_MAJOR = "v2"
BULLETYARD_PREFIX = "bulletyard/v1"

_SERIAL = re.compile(r"^[A-Za-z0-9_.:\-]+$")
_FORBIDDEN = ("/", "+", "#", "$", "\x00")


class TopicFormatError(ValueError):
    """A topic that is not one of ours, or a level that cannot be put in a topic."""


class VdaTopic(StrEnum):
    """The six VDA 5050 2.1 topics."""

    ORDER = "order"
    INSTANT_ACTIONS = "instantActions"
    STATE = "state"
    VISUALIZATION = "visualization"
    CONNECTION = "connection"
    FACTSHEET = "factsheet"


class Delivery(NamedTuple):
    """How to publish on a topic: MQTT QoS level and the retain flag."""

    qos: int
    retain: bool


VDA_DELIVERY: dict[VdaTopic, Delivery] = {
    VdaTopic.ORDER: Delivery(0, False),
    VdaTopic.INSTANT_ACTIONS: Delivery(0, False),
    VdaTopic.STATE: Delivery(0, False),
    VdaTopic.VISUALIZATION: Delivery(0, False),
    VdaTopic.CONNECTION: Delivery(1, True),
    VdaTopic.FACTSHEET: Delivery(0, True),
}
"""QoS and retain per VDA 5050 topic, as sections 6.2, 6.14 and 6.15 say."""


class VdaTopicParts(NamedTuple):
    """A parsed VDA 5050 topic; unpacks as ``(manufacturer, serial, kind)``."""

    manufacturer: str
    serial: str
    kind: VdaTopic


def check_level(value: str, what: str) -> str:
    """Return ``value`` if it can be one topic level, else raise :class:`TopicFormatError`."""
    if not isinstance(value, str) or not value:
        raise TopicFormatError(f"{what} must be a non-empty string, got {value!r}")
    bad = [c for c in _FORBIDDEN if c in value]
    if bad:
        raise TopicFormatError(f"{what} {value!r} contains {bad[0]!r}, which cannot be in a topic level")
    return value


def check_serial(serial: str) -> str:
    """A VDA 5050 serial number: only ``A-Z a-z 0-9 _ . : -`` (section 6.3)."""
    check_level(serial, "serialNumber")
    if not _SERIAL.match(serial):
        raise TopicFormatError(f"serialNumber {serial!r} may only contain A-Z a-z 0-9 _ . : -")
    return serial


def vda_topic(manufacturer: str, serial: str, kind: VdaTopic | str) -> str:
    """``uagv/v2/{manufacturer}/{serial}/{kind}``.

    >>> vda_topic("bulletyard", "agv-0001", "state")
    'uagv/v2/bulletyard/agv-0001/state'
    """
    kind = _vda_kind(kind, f"{manufacturer}/{serial}")
    check_level(manufacturer, "manufacturer")
    return f"{VDA_INTERFACE}/{VDA_MAJOR}/{manufacturer}/{check_serial(serial)}/{kind}"


def vda_filter(
    kind: VdaTopic | str | None = None, manufacturer: str | None = None, serial: str | None = None
) -> str:
    """A subscription filter; a None level becomes ``+`` (e.g. every vehicle's ``state``)."""
    m = "+" if manufacturer is None else check_level(manufacturer, "manufacturer")
    s = "+" if serial is None else check_serial(serial)
    k = "+" if kind is None else _vda_kind(kind, "filter")
    return f"{VDA_INTERFACE}/{VDA_MAJOR}/{m}/{s}/{k}"


def vda_delivery(kind: VdaTopic | str) -> Delivery:
    """QoS and retain flag the standard asks for on ``kind``."""
    return VDA_DELIVERY[_vda_kind(kind, "delivery")]


@functools.lru_cache(maxsize=4096)
def parse_vda_topic(topic: str) -> VdaTopicParts:
    """Split a VDA 5050 topic into (manufacturer, serial, kind), or raise :class:`TopicFormatError`.

    Answers are remembered (a fleet uses a few topics per vehicle, a controller parses one per
    message); refusals are not, and the cache is bounded, so a flood of made-up topics costs
    nothing extra.
    """
    levels = topic.split("/") if isinstance(topic, str) else []
    if len(levels) != 5:
        raise TopicFormatError(
            f"topic {topic!r} is not a VDA 5050 topic: expected "
            f"{VDA_INTERFACE}/{VDA_MAJOR}/<manufacturer>/<serialNumber>/<topic> (5 levels, got {len(levels)})"
        )
    interface, major, manufacturer, serial, kind = levels
    if interface != VDA_INTERFACE or major != VDA_MAJOR:
        raise TopicFormatError(f"topic {topic!r}: expected prefix {VDA_INTERFACE}/{VDA_MAJOR}/")
    check_level(manufacturer, f"topic {topic!r}: manufacturer")
    try:
        check_serial(serial)
    except TopicFormatError as err:
        raise TopicFormatError(f"topic {topic!r}: {err}") from None
    return VdaTopicParts(manufacturer, serial, _vda_kind(kind, f"topic {topic!r}"))


def _vda_kind(kind: VdaTopic | str, where: str) -> VdaTopic:
    try:
        return VdaTopic(kind)
    except ValueError:
        known = ", ".join(k.value for k in VdaTopic)
        raise TopicFormatError(f"{where}: unknown VDA 5050 topic {kind!r} (known: {known})") from None


# -- sorter protocol ---------------------------------------------------------------------------


class SorterTopic(StrEnum):
    """Topics of our sorter protocol (see docs/ for the messages)."""

    INDUCTED = "inducted"
    DESTINATION_REQUEST = "destinationRequest"
    DESTINATION = "destination"
    DIVERT_CONFIRM = "divertConfirm"
    CHUTE_STATE = "chuteState"
    CHUTE_RELEASE = "chuteRelease"
    STATE = "state"
    CONNECTION = "connection"


SORTER_DELIVERY: dict[SorterTopic, Delivery] = {
    SorterTopic.INDUCTED: Delivery(1, False),
    SorterTopic.DESTINATION_REQUEST: Delivery(1, False),
    SorterTopic.DESTINATION: Delivery(1, False),
    SorterTopic.DIVERT_CONFIRM: Delivery(1, False),
    SorterTopic.CHUTE_STATE: Delivery(1, False),
    SorterTopic.CHUTE_RELEASE: Delivery(1, False),
    SorterTopic.STATE: Delivery(0, False),
    SorterTopic.CONNECTION: Delivery(1, True),
}
"""QoS/retain per sorter topic (``docs/protocol-sorter.md``), used by every sender: decisions and
confirmations at least once. ``inducted`` is QoS 1: it is the controller's only record that an item
entered the line, which item conservation relies on. Only ``connection`` is retained:
``chuteState`` shares one topic for all chutes, so a retained copy would tell a late subscriber
about one chute only; the sorter republishes every chute on connect."""


class SorterTopicParts(NamedTuple):
    """A parsed sorter topic; unpacks as ``(site, sorter_id, kind)``."""

    site: str
    sorter_id: str
    kind: SorterTopic


def sorter_topic(site: str, sorter_id: str, kind: SorterTopic | str) -> str:
    """``bulletyard/v1/{site}/sorter/{sorter_id}/{kind}``."""
    k = _sorter_kind(kind, f"{site}/{sorter_id}")
    return f"{BULLETYARD_PREFIX}/{check_level(site, 'site')}/sorter/{check_level(sorter_id, 'sorterId')}/{k}"


def sorter_filter(
    site: str | None = None, sorter_id: str | None = None, kind: SorterTopic | str | None = None
) -> str:
    """A subscription filter over sorter topics; a None level becomes ``+``."""
    s = "+" if site is None else check_level(site, "site")
    i = "+" if sorter_id is None else check_level(sorter_id, "sorterId")
    k = "+" if kind is None else _sorter_kind(kind, "filter")
    return f"{BULLETYARD_PREFIX}/{s}/sorter/{i}/{k}"


def sorter_delivery(kind: SorterTopic | str) -> Delivery:
    """Default QoS and retain flag for a sorter topic."""
    return SORTER_DELIVERY[_sorter_kind(kind, "delivery")]


def parse_sorter_topic(topic: str) -> SorterTopicParts:
    """Split a sorter topic into (site, sorter_id, kind), or raise :class:`TopicFormatError`."""
    levels = topic.split("/") if isinstance(topic, str) else []
    if len(levels) != 6 or "/".join(levels[:2]) != BULLETYARD_PREFIX or levels[3] != "sorter":
        raise TopicFormatError(
            f"topic {topic!r} is not a sorter topic: expected "
            f"{BULLETYARD_PREFIX}/<site>/sorter/<sorterId>/<kind>"
        )
    site, sorter_id, kind = levels[2], levels[4], levels[5]
    check_level(site, f"topic {topic!r}: site")
    check_level(sorter_id, f"topic {topic!r}: sorterId")
    return SorterTopicParts(site, sorter_id, _sorter_kind(kind, f"topic {topic!r}"))


def _sorter_kind(kind: SorterTopic | str, where: str) -> SorterTopic:
    try:
        return SorterTopic(kind)
    except ValueError:
        known = ", ".join(k.value for k in SorterTopic)
        raise TopicFormatError(f"{where}: unknown sorter topic {kind!r} (known: {known})") from None


# -- warehouse management system ---------------------------------------------------------------

WMS_ORDERS = "orders"
WMS_ORDER_STATUS = "orderStatus"
WMS_DELIVERY = Delivery(1, False)
"""Orders and their status go at least once and are not retained (every order is an event)."""


def wms_orders_topic(site: str) -> str:
    """``bulletyard/v1/{site}/orders``: where the WMS publishes new orders."""
    return f"{BULLETYARD_PREFIX}/{check_level(site, 'site')}/{WMS_ORDERS}"


def wms_order_status_topic(site: str) -> str:
    """``bulletyard/v1/{site}/orderStatus``: where the controller reports each order's status."""
    return f"{BULLETYARD_PREFIX}/{check_level(site, 'site')}/{WMS_ORDER_STATUS}"


def parse_wms_topic(topic: str) -> tuple[str, str]:
    """Split a WMS topic into ``(site, "orders" | "orderStatus")``, or raise :class:`TopicFormatError`."""
    levels = topic.split("/") if isinstance(topic, str) else []
    kinds = (WMS_ORDERS, WMS_ORDER_STATUS)
    if len(levels) != 4 or "/".join(levels[:2]) != BULLETYARD_PREFIX or levels[3] not in kinds:
        raise TopicFormatError(
            f"topic {topic!r} is not a WMS topic: expected {BULLETYARD_PREFIX}/<site>/{WMS_ORDERS}"
            f" or {BULLETYARD_PREFIX}/<site>/{WMS_ORDER_STATUS}"
        )
    return check_level(levels[2], f"topic {topic!r}: site"), levels[3]
