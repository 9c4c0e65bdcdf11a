"""WMS wire models: orders in (WMS -> controller) and order status out (controller -> WMS).

Topics (QoS 1, not retained: every message is an event):

* ``bulletyard/v1/{site}/orders``: :class:`WmsOrder`, one order with its lines.
* ``bulletyard/v1/{site}/orderStatus``: :class:`WmsOrderStatus`, each status change of an order,
  and ``refused`` (with a reason) for an order that was never accepted.

Headers follow VDA 5050: ``headerId`` counts up per topic and sender, ``timestamp`` is ISO 8601
UTC with milliseconds (``2026-11-11T00:00:00.000Z``), ``version`` is this protocol's version.
The JSON schemas in ``docs/schemas/`` are generated from these models (``python -m bus.wms``).
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bus.topics import wms_order_status_topic, wms_orders_topic

WMS_PROTOCOL_VERSION = "1.0.0"
MAX_PAYLOAD_BYTES = 256 * 1024
MAX_QUANTITY = 1_000_000
"""Most pieces one order line may ask for (``docs/limits-bus.md``): more is a typo or an attack."""

OrderStatusName = Literal[
    "received", "allocated", "picking", "picked", "inducted", "sorted", "complete", "failed",
    "cancelled", "refused",
]


class OrderStatus(StrEnum):
    """Where an order is in its life cycle; the values are the wire's ``status`` strings."""

    RECEIVED = "received"  # accepted; no stock promised yet
    ALLOCATED = "allocated"  # its lines are promised to pods and stations
    PICKING = "picking"  # a pod serving it is under way
    PICKED = "picked"  # every line picked at a station
    INDUCTED = "inducted"  # every unit is on the sorter
    SORTED = "sorted"  # every unit is in a chute of its destination
    COMPLETE = "complete"
    FAILED = "failed"  # ended with a reason
    CANCELLED = "cancelled"
    REFUSED = "refused"  # never accepted (see the reason)


TERMINAL_STATUSES: frozenset[OrderStatus] = frozenset(
    {OrderStatus.COMPLETE, OrderStatus.FAILED, OrderStatus.CANCELLED, OrderStatus.REFUSED}
)
"""The statuses after which an order never changes again: the one definition every sender and
reader uses."""


# One source for topic names: the builders live in bus.topics (they raise a ValueError subclass
# naming the bad level).
orders_topic = wms_orders_topic
order_status_topic = wms_order_status_topic


class _Wire(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class WmsOrderLine(_Wire):
    """One line: ``quantity`` pieces of ``sku``."""

    sku: str = Field(min_length=1, description="Stock keeping unit id, as the inventory names it.")
    quantity: int = Field(ge=1, le=MAX_QUANTITY, description="Pieces to pick; 1 to 1,000,000.")


class WmsOrder(_Wire):
    """An order from the WMS (topic ``.../orders``)."""

    headerId: int = Field(ge=0, description="Counts up by one per message on this topic from this sender.")
    timestamp: str = Field(description="ISO 8601 UTC with milliseconds, e.g. 2026-11-11T00:00:00.000Z.")
    version: str = Field(default=WMS_PROTOCOL_VERSION, description="Protocol version, major.minor.patch.")
    orderId: str = Field(min_length=1, max_length=128, description="Unique order id; repeats are refused.")
    lines: list[WmsOrderLine] = Field(min_length=1, description="Lines in WMS order (index = position).")
    destination: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Chute or dock id the order is sorted to; without one (or at a site without a "
        "sorter) the order is complete once picked.",
    )
    priority: int = Field(default=0, ge=0, description="Larger is more urgent; 0 is normal.")
    dueTime: str | None = Field(default=None, description="ISO 8601 UTC time it must be complete by.")


class WmsOrderStatus(_Wire):
    """A status change of one order (topic ``.../orderStatus``)."""

    headerId: int = Field(ge=0, description="Counts up by one per message on this topic from this sender.")
    timestamp: str = Field(description="ISO 8601 UTC with milliseconds: when the status changed.")
    version: str = Field(default=WMS_PROTOCOL_VERSION, description="Protocol version, major.minor.patch.")
    orderId: str = Field(description="The order this is about (as received, even when refused).")
    status: OrderStatusName = Field(description="New status; refused: never accepted (see reason).")
    reason: str | None = Field(default=None, description="Why, for failed, cancelled and refused.")


SCHEMAS: dict[str, type[BaseModel]] = {
    "wms-order.schema.json": WmsOrder,
    "wms-order-status.schema.json": WmsOrderStatus,
}


def schema_text(model: type[BaseModel]) -> str:
    """The JSON schema of a wire model, as committed under ``docs/schemas/``."""
    return json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n"


def write_schemas(folder: Path) -> list[Path]:
    """Write every WMS schema into ``folder``; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, model in SCHEMAS.items():
        path = folder / name
        path.write_text(schema_text(model), encoding="utf-8")
        out.append(path)
    return out


if __name__ == "__main__":
    for written in write_schemas(Path(__file__).resolve().parents[1] / "docs" / "schemas"):
        print(written.name)
