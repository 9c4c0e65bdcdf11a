"""Order streams for simulations: a seeded generator (steady or peak profile) and order files.

The WMS of a simulation is the :class:`OrderFeeder` participant: at each order's arrival time it
publishes the order on the WMS topic (``bulletyard/v1/{site}/orders``, QoS 1), exactly as a
real WMS would, and tells the KPI collector that the order arrived.

Generator: SKUs are the layout's storage places (one SKU per pod, the controller's default
inventory) with a long-tailed popularity (Zipf, exponent 1.1, over a seeded shuffle of the pods);
one to three lines per order; Poisson arrivals. ``steady`` keeps the base rate; ``peak`` models
the midnight surge of Singles Day: ``peak_factor`` (default ten) times the base rate for the first
``peak_duration_s`` seconds (default: for the first tenth of the stream), then the base rate. The
base rate is chosen from the fleet size (``orders_per_robot_h``) unless given.

Order files: JSON (a list) or JSON Lines, each order ``{"t_s": 12.5, "orderId": "o-1", "lines":
[{"sku": "P12", "quantity": 1}], "priority": 0}``; ``t_s`` (default 0) is the arrival time in
seconds since the start. Errors name the file and the order.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from bus.clock import Instant, iso_timestamp, seconds
from bus.header import HeaderIds
from bus.participant import ParticipantBase
from bus.topics import WMS_DELIVERY, wms_orders_topic
from bus.transport import Envelope
from controller.orders.model import OrderLine
from sim.kpi import KpiCollector
from warehouse_maps.layout import Layout, PlaceKind
from warehouse_maps.limits import env_name, limit
from warehouse_maps.safe_load import read_text_capped, safe_json_loads

Profile = Literal["steady", "peak"]
PEAK_FACTOR = 10.0
PEAK_SHARE = 0.1  # without a surge duration, the first tenth of the orders is the surge


class ScenarioError(ValueError):
    """An order file or profile that cannot be used (names the file and the order)."""


@dataclass(frozen=True, slots=True)
class ScheduledOrder:
    """An order and its arrival time in seconds since the start of the run."""

    t_s: float
    order_id: str
    lines: tuple[OrderLine, ...]
    priority: int = 0
    destination: str | None = None  # where it is sorted to (sites with a sorter)

    def payload(self, header_id: int, now: Instant) -> bytes:
        """The WMS order message."""
        body = {
            "headerId": header_id,
            "timestamp": iso_timestamp(now),
            "version": "1.0.0",
            "orderId": self.order_id,
            "lines": [{"sku": ln.sku, "quantity": ln.quantity} for ln in self.lines],
            "priority": self.priority,
        }
        if self.destination is not None:
            body["destination"] = self.destination
        return json.dumps(body, separators=(",", ":")).encode()


def generate_orders(
    layout: Layout,
    count: int,
    rng: np.random.Generator,
    *,
    profile: Profile = "steady",
    rate_per_h: float,
    max_lines: int = 3,
    peak_factor: float = PEAK_FACTOR,
    peak_duration_s: float | None = None,
) -> list[ScheduledOrder]:
    """``count`` orders with seeded SKUs, sizes and Poisson arrivals under ``profile``.

    ``peak``: the rate is ``peak_factor`` times ``rate_per_h`` while the stream is within the
    surge (the first ``peak_duration_s`` seconds, or the first tenth of the orders without it).
    """
    if profile not in ("steady", "peak"):
        raise ScenarioError(f"--profile {profile!r}: choose steady or peak")
    pods = sorted(p.id for p in layout.of_kind(PlaceKind.STORAGE))
    if not pods:
        raise ScenarioError(f"layout {layout.name} has no storage places to order from")
    if count < 0 or rate_per_h <= 0:
        raise ScenarioError("order count must be >= 0 and the arrival rate positive")
    if peak_factor <= 0 or (peak_duration_s is not None and peak_duration_s <= 0):
        raise ScenarioError("the peak factor and the peak duration must be positive")
    order = rng.permutation(len(pods))
    weights = 1.0 / np.arange(1, len(pods) + 1) ** 1.1
    weights /= weights.sum()
    peak_n = int(round(count * PEAK_SHARE)) if profile == "peak" and peak_duration_s is None else 0
    surge_s = peak_duration_s if profile == "peak" and peak_duration_s is not None else 0.0
    t_s = 0.0
    out: list[ScheduledOrder] = []
    for k in range(count):
        rate = rate_per_h * (peak_factor if k < peak_n or t_s < surge_s else 1.0)
        t_s += float(rng.exponential(3600.0 / rate))
        n_lines = int(rng.integers(1, max_lines + 1))
        picks = rng.choice(len(pods), size=n_lines, replace=False, p=weights)
        lines = tuple(OrderLine(pods[int(order[i])], int(rng.integers(1, 4))) for i in sorted(picks.tolist()))
        out.append(ScheduledOrder(round(t_s, 3), f"o-{k + 1:06d}", lines))
    return out


class SurgeWatch:
    """The backlog a peak stream's surge leaves: orders arrived and not yet ended when it ends.

    The surge ends after ``peak_duration_s``, or without one at the arrival of the last order of
    the stream's first tenth (seconds since the start). The runner calls :meth:`note` then.
    """

    def __init__(
        self, orders: Sequence[ScheduledOrder], factor: float, peak_duration_s: float | None
    ) -> None:
        n = int(round(len(orders) * PEAK_SHARE))
        last_of_tenth_s = orders[n - 1].t_s if n else 0.0
        self.factor = factor
        self.end_s = peak_duration_s if peak_duration_s is not None else last_of_tenth_s
        self.orders_in_surge = sum(1 for o in orders if o.t_s <= self.end_s)
        self.backlog: int | None = None  # None until the surge has ended within the run

    def note(self, open_orders: int) -> None:
        """The surge ends now, with ``open_orders`` arrived and not yet ended."""
        self.backlog = open_orders

    def as_dict(self, first_order_completed_s: float | None) -> dict[str, object]:
        """The ``peak`` block of ``summary.json``."""
        return {"factor": self.factor, "surge_end_s": self.end_s, "orders_in_surge": self.orders_in_surge,
                "backlog_at_surge_end": self.backlog, "first_order_completed_s": first_order_completed_s}


def load_order_file(path: Path | str) -> list[ScheduledOrder]:
    """Orders from a JSON list or JSON Lines file, sorted by arrival (stable).

    The file is read with the limits of :mod:`warehouse_maps.safe_load` (a regular file, size,
    nesting, duplicate keys, finite numbers), and every order is checked before the run starts.
    """
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(f"{path}: no such order file")
    text = read_text_capped(path)
    if text.lstrip().startswith("["):
        data = safe_json_loads(text, path)
        raw = [(i + 1, r) for i, r in enumerate(data)]
        where = "order"
    else:
        raw = [(n, safe_json_loads(ln, f"{path}:{n}")) for n, ln in enumerate(text.splitlines(), start=1)
               if ln.strip()]
        where = "line"
    if len(raw) > limit("orders"):
        raise ScenarioError(f"{path}: {len(raw):,} orders exceed the limit {limit('orders'):,} "
                            f"(raise it with {env_name('orders')})")
    orders = [_order_from(path, f"{where} {n}" if where == "order" else str(n), r) for n, r in raw]
    ids = set()
    for o in orders:
        if o.order_id in ids:
            raise ScenarioError(f"{path}: duplicate orderId {o.order_id!r}")
        ids.add(o.order_id)
    return sorted(orders, key=lambda o: o.t_s)


def _whole(value: object, what: str, low: int, high: int) -> int:
    """A whole number in ``[low, high]`` (``2.0`` passes; ``1.5``, ``true`` and ``"3"`` do not)."""
    ok = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if not ok or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{what} must be a whole number in [{low}, {high:,}], found {value!r}")
    return int(value)


def _order_from(path: Path, where: str, raw: object) -> ScheduledOrder:
    try:
        if not isinstance(raw, dict):
            raise ValueError("an order must be an object")
        order_id = raw.get("orderId")
        if not isinstance(order_id, str) or not order_id:
            raise ValueError("orderId must be a non-empty string")
        raw_lines = raw.get("lines")
        if not isinstance(raw_lines, list) or not 1 <= len(raw_lines) <= limit("order_lines"):
            raise ValueError(f"lines must be a list of 1 to {limit('order_lines'):,} lines")
        lines = []
        for ln in raw_lines:
            sku = ln.get("sku") if isinstance(ln, dict) else None
            if not isinstance(sku, str | int) or isinstance(sku, bool):
                raise ValueError("a line must be an object with a sku and a quantity")
            lines.append(OrderLine(str(sku), _whole(ln.get("quantity"), "quantity", 1, limit("quantity"))))
        t_s = raw.get("t_s", 0.0)
        if isinstance(t_s, bool) or not isinstance(t_s, int | float) or not 0 <= t_s <= limit("seconds"):
            raise ValueError(f"t_s must be a number of seconds in [0, {limit('seconds'):g}], found {t_s!r}")
        destination = raw.get("destination")
        if destination is not None and not isinstance(destination, str):
            raise ValueError("destination must be a string")
        priority = _whole(raw.get("priority", 0), "priority", -1_000_000, 1_000_000)
        return ScheduledOrder(float(t_s), order_id, tuple(lines), priority, destination)
    except ValueError as exc:
        raise ScenarioError(f"{path}: {where}: bad order ({exc})") from None


class OrderFeeder(ParticipantBase):
    """The simulated WMS: publishes each order at its arrival time (a pure participant that
    subscribes to nothing)."""

    def __init__(
        self, orders: Sequence[ScheduledOrder], site: str, start: Instant, kpi: KpiCollector
    ) -> None:
        self.orders = list(orders)
        self.topic = wms_orders_topic(site)
        self.start = start
        self.kpi = kpi
        self._next = 0
        self._headers = HeaderIds()

    @property
    def exhausted(self) -> bool:
        """True once every order has been published."""
        return self._next >= len(self.orders)

    def tick(self, now: Instant) -> list[Envelope]:
        """Publish every order due by ``now``."""
        out = []
        while not self.exhausted and self._due(self.orders[self._next]) <= now:
            order = self.orders[self._next]
            self._next += 1
            out.append(self._message(order, now))
            self.kpi.order_arrived(order.order_id, (now - self.start) / 1e9, len(order.lines))
        return out

    def _message(self, order: ScheduledOrder, now: Instant) -> Envelope:
        """The WMS order message (the robotic sortation's inducts announce parcels instead)."""
        return Envelope(self.topic, order.payload(self._headers.next(self.topic), now), *WMS_DELIVERY)

    def _due(self, order: ScheduledOrder) -> Instant:
        return Instant(self.start + seconds(order.t_s))

    def next_wakeup(self) -> Instant | None:
        """The next arrival."""
        return None if self.exhausted else self._due(self.orders[self._next])
