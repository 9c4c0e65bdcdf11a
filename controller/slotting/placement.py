"""Pod placement: the most demanded pods on the storage cells nearest the pick stations.

A pod's forecast demand is the sum of the forecast order lines of the SKUs it holds (a trip is
made per pod visit, so pod demand drives robot travel). Storage cells are ranked by the round
trip to their nearest pick station (distance tables); pods ranked by demand take cells in that
order. The plan is also the return rule: a pod coming back from a station goes to its planned
cell (:meth:`SlottingPlan.return_cell`), so the floor converges to the plan as pods are used.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass

import numpy as np

from controller.assignment.travel import TravelTimes
from controller.orders.inventory import Inventory
from controller.orders.model import Sku
from controller.slotting.forecast import MoverClass
from warehouse_maps.grid import Cell
from warehouse_maps.layout import Layout, PlaceKind


@dataclass(frozen=True)
class SlottingPlan:
    """Where each pod lives, and why.

    Args:
        cells: ``{pod_id: storage cell}``.
        demand: forecast order lines per bucket for each pod.
        classes: mover class per pod (the class of the cumulative-demand cut it falls in).
        method: ``forecast`` or ``random``.
        ranking: storage cells from best (nearest a station) to worst, for fallbacks.
    """

    cells: Mapping[str, Cell]
    demand: Mapping[str, float]
    classes: Mapping[str, MoverClass]
    method: str = "forecast"
    ranking: tuple[Cell, ...] = ()

    def return_cell(self, pod_id: str, current_home: Cell, occupied: Container[Cell] = ()) -> Cell:
        """Where a pod goes back to after a station visit.

        Its planned cell when no other pod stands there (``occupied``: cells holding other pods
        now); otherwise the free storage cell ranked nearest to the planned one (its old home
        included, when still free), so pods drift towards the plan visit by visit.
        """
        target = self.cells.get(pod_id, current_home)
        if target not in occupied:
            return target
        if not self.ranking:
            return current_home
        rank = {c: i for i, c in enumerate(self.ranking)}
        want = rank.get(target, len(self.ranking))
        free = [c for c in self.ranking if c not in occupied]
        if not free:
            return current_home
        return min(free, key=lambda c: (abs(rank[c] - want), rank[c]))

    def apply(self, inventory: Inventory) -> int:
        """Put every pod on its planned cell at once (an overnight re-slot); returns pods moved."""
        moved = 0
        for pod in inventory.pods:
            cell = self.cells.get(pod.id)
            if cell is not None and cell != pod.home:
                inventory.move_pod(pod.id, cell)
                moved += 1
        return moved

    def as_dict(self) -> dict[str, object]:
        """Plain data for ``slotting.yaml`` (pods sorted by planned cell rank)."""
        return {
            "method": self.method,
            "pods": [
                {"pod": pod_id, "cell": [int(c[0]), int(c[1])], "class": self.classes[pod_id].value,
                 "demand_lines_per_bucket": round(float(self.demand.get(pod_id, 0.0)), 4)}
                for pod_id, c in self.cells.items()
            ],
        }


def cell_ranking(layout: Layout, dist: TravelTimes) -> list[Cell]:
    """Storage cells from the nearest to a pick station (round trip) to the farthest."""
    cells = list(layout.cells_of(PlaceKind.STORAGE))
    stations = layout.cells_of(PlaceKind.PICK_STATION)
    if not stations:
        raise ValueError(f"layout {layout.name} has no pick station to slot towards")
    idx = dist.index(cells)
    best = np.full(len(cells), np.inf)
    for s_cell in stations:
        there = dist.cells_to(idx, s_cell).astype(float)
        if dist.grid.is_uniform:  # two-way grid: the way back is as long
            back = there
        else:
            s_idx = dist.index([s_cell])[0]
            back = np.array([dist.table(c)[s_idx] for c in cells], dtype=float)
        best = np.minimum(best, there + back)
    order = sorted(range(len(cells)), key=lambda i: (best[i], cells[i][1], cells[i][0]))
    return [cells[i] for i in order]


def pod_demand(inventory: Inventory, sku_demand: Mapping[Sku, float]) -> dict[str, float]:
    """Forecast order lines per bucket for each pod (sum over the SKUs it holds)."""
    return {pod.id: sum(sku_demand.get(s, 0.0) for s in inventory.contents(pod.id))
            for pod in inventory.pods}


def _pod_classes(ranked: list[str], demand: Mapping[str, float], fast_share: float,
                 medium_share: float) -> dict[str, MoverClass]:
    total = sum(demand.values()) or 1.0
    cum, out = 0.0, {}
    for pod_id in ranked:
        before = cum / total
        cum += demand[pod_id]
        if demand[pod_id] <= 0:
            out[pod_id] = MoverClass.SLOW
        elif before < fast_share:
            out[pod_id] = MoverClass.FAST
        elif before < medium_share:
            out[pod_id] = MoverClass.MEDIUM
        else:
            out[pod_id] = MoverClass.SLOW
    return out


def plan_slotting(layout: Layout, inventory: Inventory, sku_demand: Mapping[Sku, float],
                  dist: TravelTimes, fast_share: float = 0.8, medium_share: float = 0.95) -> SlottingPlan:
    """Forecast slotting: pods by demand onto cells by nearness to a station."""
    demand = pod_demand(inventory, sku_demand)
    cells = cell_ranking(layout, dist)
    pods = sorted(demand, key=lambda p: (-demand[p], p))
    if len(pods) > len(cells):
        raise ValueError(f"{len(pods)} pods but only {len(cells)} storage cells")
    placed = dict(zip(pods, cells, strict=False))
    return SlottingPlan(placed, demand, _pod_classes(pods, demand, fast_share, medium_share), "forecast",
                        tuple(cells))


def random_slotting(layout: Layout, inventory: Inventory, sku_demand: Mapping[Sku, float],
                    rng: np.random.Generator) -> SlottingPlan:
    """The comparison: every pod on a random storage cell (seeded)."""
    demand = pod_demand(inventory, sku_demand)
    cells = list(layout.cells_of(PlaceKind.STORAGE))
    pods = sorted(demand)
    if len(pods) > len(cells):
        raise ValueError(f"{len(pods)} pods but only {len(cells)} storage cells")
    perm = rng.permutation(len(cells))[: len(pods)]
    placed = {p: cells[int(i)] for p, i in zip(pods, perm, strict=True)}
    ranked = sorted(demand, key=lambda p: (-demand[p], p))
    return SlottingPlan(placed, demand, _pod_classes(ranked, demand, 0.8, 0.95), "random",
                        tuple(cells[int(i)] for i in rng.permutation(len(cells))))
