"""Topic builders and parsers for VDA 5050, the sorter protocol and the WMS link."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bus.topics import (
    Delivery,
    SorterTopic,
    TopicFormatError,
    VdaTopic,
    parse_sorter_topic,
    parse_vda_topic,
    parse_wms_topic,
    sorter_delivery,
    sorter_filter,
    sorter_topic,
    vda_delivery,
    vda_filter,
    vda_topic,
    wms_order_status_topic,
    wms_orders_topic,
)


@pytest.mark.parametrize("kind", list(VdaTopic))
def test_vda_round_trip(kind: VdaTopic) -> None:
    topic = vda_topic("bulletyard", "agv-0001", kind)
    assert topic == f"uagv/v2/bulletyard/agv-0001/{kind.value}"
    manufacturer, serial, parsed = parse_vda_topic(topic)
    assert (manufacturer, serial, parsed) == ("bulletyard", "agv-0001", kind)


def test_vda_qos_and_retain_as_the_standard_says() -> None:
    assert vda_delivery("connection") == Delivery(qos=1, retain=True)
    assert vda_delivery("factsheet") == Delivery(qos=0, retain=True)
    for kind in ("order", "instantActions", "state", "visualization"):
        assert vda_delivery(kind) == Delivery(qos=0, retain=False)


def test_vda_filters() -> None:
    assert vda_filter("state") == "uagv/v2/+/+/state"
    assert vda_filter(manufacturer="bulletyard", serial="agv-0002") == "uagv/v2/bulletyard/agv-0002/+"


@pytest.mark.parametrize(
    ("topic", "fragment"),
    [
        ("uagv/v2/bulletyard/agv-0001", "5 levels"),
        ("uagv/v2/bulletyard/agv-0001/state/extra", "5 levels"),
        ("uagv/v1/bulletyard/agv-0001/state", "prefix"),
        ("vda/v2/bulletyard/agv-0001/state", "prefix"),
        ("uagv/v2/bulletyard/agv 1/state", "serialNumber"),
        ("uagv/v2//agv-0001/state", "manufacturer"),
        ("uagv/v2/bulletyard/agv-0001/status", "unknown VDA 5050 topic 'status'"),
        ("uagv/v2/bulletyard/$agv/state", "serialNumber"),
    ],
)
def test_vda_parse_rejects_malformed(topic: str, fragment: str) -> None:
    with pytest.raises(TopicFormatError, match=fragment.replace("$", r"\$")) as err:
        parse_vda_topic(topic)
    assert topic in str(err.value) or "status" in str(err.value)


@pytest.mark.parametrize(("serial", "ok"), [("agv-0001", True), ("A_b.c:d-9", True), ("a/b", False),
                                            ("a+b", False), ("", False), ("ä", False)])
def test_vda_serial_characters(serial: str, ok: bool) -> None:
    if ok:
        assert parse_vda_topic(vda_topic("m", serial, "state")).serial == serial
    else:
        with pytest.raises(TopicFormatError):
            vda_topic("m", serial, "state")


@pytest.mark.parametrize("kind", list(SorterTopic))
def test_sorter_round_trip(kind: SorterTopic) -> None:
    topic = sorter_topic("fc1", "s1", kind)
    assert topic == f"bulletyard/v1/fc1/sorter/s1/{kind.value}"
    assert tuple(parse_sorter_topic(topic)) == ("fc1", "s1", kind)
    assert sorter_delivery(kind).qos in (0, 1)


def test_sorter_connection_is_retained_qos1_and_filters() -> None:
    assert sorter_delivery("connection") == Delivery(1, True)
    assert sorter_filter(site="fc1") == "bulletyard/v1/fc1/sorter/+/+"
    assert sorter_filter(kind="divertConfirm") == "bulletyard/v1/+/sorter/+/divertConfirm"


@pytest.mark.parametrize("topic", ["bulletyard/v1/fc1/sorter/s1", "bulletyard/v1/fc1/belt/s1/state",
                                   "bulletyard/v2/fc1/sorter/s1/state", "bulletyard/v1/fc1/sorter/s1/bogus"])
def test_sorter_parse_rejects_malformed(topic: str) -> None:
    with pytest.raises(TopicFormatError, match="sorter"):
        parse_sorter_topic(topic)


def test_wms_topics() -> None:
    assert wms_orders_topic("fc1") == "bulletyard/v1/fc1/orders"
    assert wms_order_status_topic("fc1") == "bulletyard/v1/fc1/orderStatus"
    assert parse_wms_topic("bulletyard/v1/fc1/orders") == ("fc1", "orders")
    assert parse_wms_topic("bulletyard/v1/fc1/orderStatus") == ("fc1", "orderStatus")
    with pytest.raises(TopicFormatError, match="not a WMS topic"):
        parse_wms_topic("bulletyard/v1/fc1/order")
    with pytest.raises(TopicFormatError, match="site"):
        wms_orders_topic("fc/1")


SERIAL_CHARS = "ABCXYZabcxyz0189_.:-"


@settings(max_examples=200, deadline=None)
@given(serial=st.text(alphabet=SERIAL_CHARS, min_size=1, max_size=20),
       manufacturer=st.text(alphabet=st.characters(blacklist_characters="/+#$\x00"), min_size=1, max_size=12),
       kind=st.sampled_from(list(VdaTopic)))
def test_vda_round_trip_property(serial: str, manufacturer: str, kind: VdaTopic) -> None:
    assert parse_vda_topic(vda_topic(manufacturer, serial, kind)) == (manufacturer, serial, kind)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=60))
def test_vda_parse_never_fails_other_than_clearly(text: str) -> None:
    """Any string either parses (and rebuilds to itself) or fails with an error naming it."""
    parts, message = None, ""
    try:
        parts = parse_vda_topic(text)
    except TopicFormatError as err:
        message = str(err)
    if parts is None:
        assert repr(text) in message
    else:
        assert vda_topic(*parts) == text
