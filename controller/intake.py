"""WMS order intake for the controller core: validate, refuse with a reason, turn into pod trips.

Why: every order from the warehouse management system is either accepted exactly once or
refused with a reason on the status topic; nothing is dropped silently. This module is the
controller's own small intake (one pod trip per order line group: fetch the pod, bring it to a
pick station, return it home) so the core runs end to end; the assignment helper's order book,
task builder and OR-Tools assigner (``controller/orders``, ``controller/tasks``,
``controller/assignment``) replace the trip building and matching where they are merged.

Wire format (JSON on ``bulletyard/v1/{site}/orders``)::

    {"headerId": 0, "timestamp": "...", "version": "1.0.0", "orderId": "o-1",
     "lines": [{"sku": "S-001", "quantity": 2}], "priority": 0}

Without an explicit inventory, a SKU names the storage place of its pod (``sku == place id``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from controller.execution.trips import Stop, Trip
from warehouse_maps.layout import Layout, PlaceKind

MAX_ORDER_BYTES = 256 * 1024


class OrderRefused(ValueError):
    """An order that cannot be accepted; the message is the reason sent back to the WMS."""


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One line: ``quantity`` units of ``sku``."""

    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class WmsOrder:
    """A validated order."""

    order_id: str
    lines: tuple[OrderLine, ...]
    priority: int = 0
    destination: str | None = None  # chute or dock group the order is sorted to (sortation sites)


def parse_order(payload: bytes) -> WmsOrder:
    """Decode and validate an order payload.

    Raises:
        OrderRefused: with the reason (malformed JSON, missing or wrong fields).
    """
    if len(payload) > MAX_ORDER_BYTES:
        raise OrderRefused(f"malformed: payload of {len(payload)} bytes exceeds {MAX_ORDER_BYTES}")
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise OrderRefused(f"malformed: not JSON ({err})") from None
    if not isinstance(data, dict):
        raise OrderRefused("malformed: order is not a JSON object")
    order_id = data.get("orderId")
    if not isinstance(order_id, str) or not order_id or len(order_id) > 128:
        raise OrderRefused("malformed: orderId must be a non-empty string of at most 128 characters")
    lines = data.get("lines")
    if not isinstance(lines, list) or not lines:
        raise OrderRefused("malformed: lines must be a non-empty list")
    out = []
    for i, line in enumerate(lines):
        if not isinstance(line, dict):
            raise OrderRefused(f"malformed: lines[{i}] is not an object")
        sku, qty = line.get("sku"), line.get("quantity")
        if not isinstance(sku, str) or not sku:
            raise OrderRefused(f"malformed: lines[{i}].sku must be a non-empty string")
        if not isinstance(qty, int) or isinstance(qty, bool) or qty <= 0:
            raise OrderRefused(f"malformed: lines[{i}].quantity must be a positive integer")
        out.append(OrderLine(sku, qty))
    priority = data.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise OrderRefused("malformed: priority must be an integer")
    destination = data.get("destination")
    bad_destination = not isinstance(destination, str) or not destination or len(destination) > 64
    if destination is not None and bad_destination:
        raise OrderRefused("malformed: destination must be a non-empty string of at most 64 characters")
    return WmsOrder(order_id, tuple(out), priority, destination)


@dataclass
class TripBuilder:
    """Turns accepted orders into pod trips, checking that each is possible on this layout.

    Args:
        layout: the floor; storage places are pods, pick stations are stations.
        inventory: SKU -> storage place id of its pod (None: a SKU is its place id).
    """

    layout: Layout
    inventory: Mapping[str, str] | None = None
    _station_load: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.stations = sorted(self.layout.of_kind(PlaceKind.PICK_STATION), key=lambda p: p.id)
        self._storage = {p.id: p for p in self.layout.of_kind(PlaceKind.STORAGE)}
        for s in self.stations:
            self._station_load.setdefault(s.id, 0)

    def pod_of(self, sku: str) -> str | None:
        """The storage place id holding ``sku``, or None."""
        place = self.inventory.get(sku) if self.inventory is not None else sku
        return place if place in self._storage else None

    def check(self, order: WmsOrder) -> None:
        """Raise :class:`OrderRefused` if the order cannot be done here (unknown SKU, no station)."""
        if not self.stations:
            raise OrderRefused("impossible: the layout has no pick station")
        for i, line in enumerate(order.lines):
            pod = self.pod_of(line.sku)
            if pod is None:
                raise OrderRefused(f"impossible: lines[{i}].sku {line.sku!r} is not stocked")
            cell = self._storage[pod].cell
            if all(self.layout.grid.distance(cell, s.cell) < 0 for s in self.stations):
                raise OrderRefused(f"impossible: pod {pod} of lines[{i}] cannot reach any station")

    def trips(self, order: WmsOrder) -> list[Trip]:
        """One trip per pod the order needs: lift at home, pick at the least loaded station, drop home."""
        by_pod: dict[str, list[int]] = {}
        for i, line in enumerate(order.lines):
            by_pod.setdefault(self.pod_of(line.sku) or "", []).append(i)
        trips = []
        for n, pod in enumerate(sorted(by_pod)):
            home = self._storage[pod].cell
            reachable = [s for s in self.stations if self.layout.grid.distance(home, s.cell) >= 0]
            station = min(
                reachable,
                key=lambda s: (self._station_load[s.id], self.layout.grid.distance(home, s.cell), s.id),
            )
            self._station_load[station.id] += 1
            lines = ",".join(str(i) for i in by_pod[pod])
            trips.append(
                Trip(
                    trip_id=f"{order.order_id}#{n}",
                    stops=(
                        Stop(home, "pick", (("podId", pod),)),
                        Stop(
                            station.cell,
                            "wait",
                            (("stationId", station.id), ("orderId", order.order_id), ("lines", lines)),
                        ),
                        Stop(home, "drop", (("podId", pod),)),
                    ),
                    kind="pod",
                    order_ids=(order.order_id,),
                )
            )
        return trips

    def hold_station(self, trip: Trip) -> None:
        """Count a trip's station load (after the assigner moved it to another station)."""
        for stop in trip.stops:
            for key, value in stop.parameters:
                if key == "stationId" and value in self._station_load:
                    self._station_load[value] += 1

    def release_station(self, trip: Trip) -> None:
        """Forget a finished or returned trip's station load."""
        for stop in trip.stops:
            for key, value in stop.parameters:
                if key == "stationId" and value in self._station_load:
                    self._station_load[value] = max(0, self._station_load[value] - 1)
