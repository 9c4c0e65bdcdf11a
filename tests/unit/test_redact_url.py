"""``redact_url`` hides the whole password, whatever characters it holds (``@`` included)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bus.mqtt_url import parse_broker_url, redact_url


def test_password_with_at_signs_is_hidden_whole() -> None:
    url = "mqtts://controller:p@ss@w0rd@edge.local:8883"
    assert redact_url(url) == "mqtts://controller:***@edge.local:8883"
    assert parse_broker_url(url).password == "p@ss@w0rd"  # what the transport would log in with


def test_urls_without_password_are_unchanged() -> None:
    for url in ("mqtt://edge.local:1883", "mqtts://agv-0001@edge.local", "mqtt://[::1]:1883", "edge"):
        assert redact_url(url) == url


@given(password=st.text(min_size=1, max_size=40).filter(lambda p: "\n" not in p))
def test_no_password_survives_redaction(password: str) -> None:
    assert redact_url(f"mqtts://wms:{password}@edge.local:8883") == "mqtts://wms:***@edge.local:8883"
