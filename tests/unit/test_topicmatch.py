"""The MQTT topic matcher: spec examples, ``$`` topics, edge cases, and agreement with paho."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paho.mqtt.client import topic_matches_sub

from bus.topicmatch import TopicError, check_topic_filter, check_topic_name, topic_matches


@pytest.mark.parametrize(
    ("topic_filter", "topic", "expected"),
    [
        ("sport/tennis/player1/#", "sport/tennis/player1", True),
        ("sport/tennis/player1/#", "sport/tennis/player1/ranking", True),
        ("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", True),
        ("sport/#", "sport", True),
        ("sport/#", "sports", False),
        ("#", "sport/tennis", True),
        ("#", "/", True),
        ("sport/tennis/+", "sport/tennis/player1", True),
        ("sport/tennis/+", "sport/tennis/player1/ranking", False),
        ("sport/+", "sport", False),
        ("sport/+", "sport/", True),
        ("+/+", "/finance", True),
        ("/+", "/finance", True),
        ("+", "/finance", False),
        ("a/+/c", "a//c", True),
        ("+/monitor/Clients", "$SYS/monitor/Clients", False),
        ("#", "$SYS/broker/uptime", False),
        ("$SYS/#", "$SYS/broker/uptime", True),
        ("$SYS/monitor/+", "$SYS/monitor/Clients", True),
        ("a/b", "a/b", True),
        ("a/b", "a/b/", False),
        ("A/b", "a/b", False),
        ("uagv/v2/+/+/state", "uagv/v2/bulletyard/agv-0001/state", True),
        ("uagv/v2/+/+/state", "uagv/v2/bulletyard/agv-0001/order", False),
    ],
)
def test_spec_examples(topic_filter: str, topic: str, expected: bool) -> None:
    assert topic_matches(topic_filter, topic) is expected


@pytest.mark.parametrize("bad", ["", "a/#/b", "a/b#", "a+/b", "#a", "a/+b"])
def test_bad_filters_refused(bad: str) -> None:
    with pytest.raises(TopicError):
        check_topic_filter(bad)


@pytest.mark.parametrize("bad", ["", "a/+", "a/#", "x\x00y"])
def test_bad_topic_names_refused(bad: str) -> None:
    with pytest.raises(TopicError):
        check_topic_name(bad)


LEVEL = st.sampled_from(["a", "b", "", "$x", "ab"])
FILTER_LEVEL = st.sampled_from(["a", "b", "", "+", "$x"])


@st.composite
def filters(draw: st.DrawFn) -> str:
    levels = draw(st.lists(FILTER_LEVEL, min_size=1, max_size=4))
    if draw(st.booleans()):
        levels.append("#")
    return "/".join(levels)


@settings(max_examples=400, deadline=None)
@given(topic_filter=filters(), levels=st.lists(LEVEL, min_size=1, max_size=5))
def test_agrees_with_paho(topic_filter: str, levels: list[str]) -> None:
    topic = "/".join(levels)
    assert topic_matches(topic_filter, topic) == topic_matches_sub(topic_filter, topic)
