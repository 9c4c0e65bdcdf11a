"""WMS wire: committed schemas equal the generated ones, golden messages validate, bad payloads
become refusals naming the field, and order-book events become status messages."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from bus.clock import SIM_EPOCH
from bus.wms import SCHEMAS, WmsOrder, order_status_topic, orders_topic, schema_text
from controller.orders import Order, OrderLine, Refused
from controller.orders.wire import decode_order

SCHEMA_DIR = Path(__file__).resolve().parents[3] / "docs" / "schemas"
GOLDEN_ORDER = {
    "headerId": 1, "timestamp": "2026-11-11T00:00:00.000Z", "version": "1.0.0", "orderId": "O1",
    "lines": [{"sku": "SKU-1", "quantity": 2}, {"sku": "SKU-2", "quantity": 1}],
    "destination": "CH001", "priority": 1, "dueTime": "2026-11-11T04:00:00.000Z",
}


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_committed_schema_equals_generated(name: str) -> None:
    assert (SCHEMA_DIR / name).read_text(encoding="utf-8") == schema_text(SCHEMAS[name]), (
        "regenerate with: python -m bus.wms")


def test_golden_order_validates_and_decodes() -> None:
    jsonschema.validate(GOLDEN_ORDER, json.loads((SCHEMA_DIR / "wms-order.schema.json").read_text()))
    order = decode_order(json.dumps(GOLDEN_ORDER).encode())
    assert order == Order("O1", (OrderLine("SKU-1", 2), OrderLine("SKU-2", 1)), "CH001", 1,
                          order.due, SIM_EPOCH)
    assert order.due - order.created == 4 * 3600 * 10**9
    assert WmsOrder.model_validate(GOLDEN_ORDER).orderId == "O1"


@pytest.mark.parametrize(
    ("patch", "fragment"),
    [
        ({"lines": [{"sku": "SKU-1", "quantity": 0}]}, "lines.0.quantity"),
        ({"lines": []}, "lines:"),
        ({"orderId": ""}, "orderId"),
        ({"extra": 1}, "extra"),
        ({"dueTime": "tomorrow"}, "timestamp"),
    ],
)
def test_bad_orders_become_refusals_naming_the_field(patch, fragment) -> None:
    verdict = decode_order(json.dumps({**GOLDEN_ORDER, **patch}).encode())
    assert isinstance(verdict, Refused)
    assert fragment in verdict.reason


def test_garbage_and_oversized_payloads_are_refused_not_raised() -> None:
    assert isinstance(decode_order(b"{not json"), Refused)
    assert "exceeds" in decode_order(b" " * 2_000_000).reason


def test_topics() -> None:
    assert orders_topic("dc1") == "bulletyard/v1/dc1/orders"
    assert order_status_topic("dc1") == "bulletyard/v1/dc1/orderStatus"
    with pytest.raises(ValueError, match="topic level"):
        orders_topic("a/b")
