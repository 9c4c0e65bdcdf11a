"""Inventory: which pod holds which SKU and how many, and what is already promised to orders.

Goods-to-person storage keeps every SKU on one or more pods (mobile shelves). The order book asks
the inventory whether stock exists (``available``) before accepting a line; the task builder
reserves units on a chosen pod (``reserve``) and the station consumes them when the line is
picked (``consume``). Reserved units are not available to later orders, so stock is never promised
twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from controller.orders.model import Sku
from warehouse_maps.grid import Cell


@dataclass(frozen=True, slots=True)
class Pod:
    """A storage pod: its id and the storage cell it lives on when not at a station."""

    id: str
    home: Cell


class InventoryError(ValueError):
    """A reservation or pick that the stock cannot cover (a bug in the caller, not user input)."""


class Inventory:
    """Stock per (pod, SKU), with reservations.

    Args:
        pods: every pod and its home storage cell.
        stock: ``{pod_id: {sku: units}}``.
    """

    def __init__(self, pods: Iterable[Pod], stock: Mapping[str, Mapping[Sku, int]]) -> None:
        self._pods: dict[str, Pod] = {p.id: p for p in pods}
        self._on_hand: dict[tuple[str, Sku], int] = {}
        self._reserved: dict[tuple[str, Sku], int] = {}
        self._capacity: dict[tuple[str, Sku], int] = {}  # units at the start (replenishment target)
        self._pods_of: dict[Sku, list[str]] = {}
        self._skus_on: dict[str, list[Sku]] = {p: [] for p in self._pods}
        for pod_id in sorted(stock):
            if pod_id not in self._pods:
                raise ValueError(f"stock names unknown pod {pod_id!r}")
            for sku, units in sorted(stock[pod_id].items()):
                if units < 0:
                    raise ValueError(f"pod {pod_id} holds negative stock of {sku}")
                self._on_hand[(pod_id, sku)] = int(units)
                self._capacity[(pod_id, sku)] = int(units)
                self._pods_of.setdefault(sku, []).append(pod_id)
                self._skus_on[pod_id].append(sku)

    # -- queries ------------------------------------------------------------------------------

    @property
    def pods(self) -> tuple[Pod, ...]:
        """Every pod, in id order as given."""
        return tuple(self._pods.values())

    def pod(self, pod_id: str) -> Pod:
        """The pod with this id."""
        return self._pods[pod_id]

    def skus(self) -> tuple[Sku, ...]:
        """Every SKU stocked anywhere, sorted."""
        return tuple(sorted(self._pods_of))

    def knows(self, sku: Sku) -> bool:
        """True when some pod stocks ``sku`` (even if all of it is promised)."""
        return sku in self._pods_of

    def pods_with(self, sku: Sku) -> tuple[str, ...]:
        """Pods stocking ``sku``, sorted by id."""
        return tuple(self._pods_of.get(sku, ()))

    def on_hand(self, pod_id: str, sku: Sku) -> int:
        """Units physically on the pod."""
        return self._on_hand.get((pod_id, sku), 0)

    def free(self, pod_id: str, sku: Sku) -> int:
        """Units on the pod not yet promised to an order."""
        return self.on_hand(pod_id, sku) - self._reserved.get((pod_id, sku), 0)

    def available(self, sku: Sku) -> int:
        """Units of ``sku`` not yet promised, over all pods."""
        return sum(self.free(p, sku) for p in self._pods_of.get(sku, ()))

    def contents(self, pod_id: str) -> dict[Sku, int]:
        """``{sku: units on hand}`` of one pod."""
        return {s: self._on_hand[(pod_id, s)] for s in self._skus_on[pod_id]}

    # -- changes ------------------------------------------------------------------------------

    def reserve(self, pod_id: str, sku: Sku, units: int) -> None:
        """Promise ``units`` of ``sku`` on ``pod_id`` to an order line."""
        if units <= 0 or self.free(pod_id, sku) < units:
            free = self.free(pod_id, sku)
            raise InventoryError(f"cannot reserve {units} x {sku} on {pod_id} (free {free})")
        self._reserved[(pod_id, sku)] = self._reserved.get((pod_id, sku), 0) + units

    def release(self, pod_id: str, sku: Sku, units: int) -> None:
        """Undo a reservation (order cancelled or failed before picking)."""
        held = self._reserved.get((pod_id, sku), 0)
        if units <= 0 or held < units:
            raise InventoryError(f"cannot release {units} x {sku} on {pod_id} (reserved {held})")
        self._reserved[(pod_id, sku)] = held - units

    def consume(self, pod_id: str, sku: Sku, units: int) -> None:
        """A picker took ``units`` reserved units off the pod."""
        self.release(pod_id, sku, units)
        self._on_hand[(pod_id, sku)] -= units

    def move_pod(self, pod_id: str, cell: Cell) -> None:
        """The pod's home is now ``cell`` (slotting put it elsewhere)."""
        self._pods[pod_id] = Pod(pod_id, cell)

    def capacity(self, sku: Sku) -> int:
        """The most units of ``sku`` one pod held at the start (a line needs one pod with this many)."""
        return max((self._capacity[(p, sku)] for p in self._pods_of.get(sku, ())), default=0)

    def replenish(self, pod_id: str, below: int) -> int:
        """Top up every slot of ``pod_id`` holding fewer than ``below`` units back to what it held at
        the start; returns how many slots were refilled.

        Why: the documented simplification of replenishment (``docs/operations.md``): a pod is
        refilled at the pick station, from the stock behind it, whenever it leaves with a slot
        running low, so a popular SKU never runs out during a long run.
        """
        refilled = 0
        for sku in self._skus_on[pod_id]:
            key = (pod_id, sku)
            if self._on_hand[key] < below and self._on_hand[key] < self._capacity[key]:
                self._on_hand[key] = self._capacity[key]
                refilled += 1
        return refilled

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def generate(
        cls,
        storage_cells: Iterable[Cell],
        n_skus: int,
        rng: np.random.Generator,
        *,
        skus_per_pod: int = 6,
        units_per_slot: int = 200,
    ) -> Inventory:
        """A seeded inventory: one pod per storage cell, ``skus_per_pod`` SKUs each.

        SKUs are spread so that each appears on about ``pods * skus_per_pod / n_skus`` pods,
        placed at random (random slotting: popularity does not decide where a SKU lives).
        SKU ids are ``SKU00001`` ... so that the order generator can name them.
        """
        cells = list(storage_cells)
        pods = [Pod(f"POD{i + 1:05d}", cell) for i, cell in enumerate(cells)]
        slots = len(pods) * skus_per_pod
        if n_skus <= 0 or n_skus > slots:
            raise ValueError(f"n_skus must be in 1..{slots} for {len(pods)} pods")
        sku_ids = np.resize(np.arange(n_skus), slots)  # every SKU at least once
        rng.shuffle(sku_ids)
        stock: dict[str, dict[Sku, int]] = {}
        for i, pod in enumerate(pods):
            chunk = sku_ids[i * skus_per_pod : (i + 1) * skus_per_pod]
            contents: dict[Sku, int] = {}
            for s in chunk:
                sku = sku_name(int(s))
                contents[sku] = contents.get(sku, 0) + units_per_slot
            stock[pod.id] = contents
        return cls(pods, stock)


def sku_name(index: int) -> Sku:
    """The SKU id for a zero-based SKU index (``SKU00001`` for 0)."""
    return f"SKU{index + 1:05d}"
