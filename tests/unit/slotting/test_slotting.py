"""Slotting: the smoothing method as documented, ABC classes, placement near the stations, and
less robot travel per line than random slotting."""

from __future__ import annotations

import numpy as np
import pytest

from bus.clock import SIM_EPOCH, Instant, seconds
from controller.assignment import TravelTimes
from controller.orders import Order, OrderLine
from controller.slotting import ForecastConfig, MoverClass, classify, forecast_demand, plan_slotting
from controller.slotting.forecast import line_counts, smooth
from controller.slotting.placement import cell_ranking
from tests.unit.orders.helpers import small_inventory, small_layout


def _order(i: int, sku: str, hour: int) -> Order:
    created = Instant(SIM_EPOCH + seconds(hour * 3600 + 1))
    return Order(f"O{i}", (OrderLine(sku, 5),), "CH001", created=created)


def test_exponential_smoothing_matches_the_documented_formula() -> None:
    counts = np.array([[2.0, 4.0, 0.0, 10.0, 6.0]])
    cfg = ForecastConfig(alpha=0.5, warmup=2)
    level = 3.0  # mean of the first two buckets
    for x in (0.0, 10.0, 6.0):
        level = 0.5 * x + 0.5 * level
    assert smooth(counts, cfg)[0] == pytest.approx(level)


def test_demand_counts_lines_per_bucket_not_units() -> None:
    history = [_order(0, "A", 0), _order(1, "A", 0), _order(2, "B", 2)]
    skus, counts = line_counts(history, SIM_EPOCH, 3600)
    assert skus == ["A", "B"]
    assert counts.tolist() == [[2, 0, 0], [0, 0, 1]]
    demand = forecast_demand(history, SIM_EPOCH, ForecastConfig(alpha=1.0, warmup=1))
    assert demand == {"A": 0.0, "B": 1.0}  # alpha 1: the last bucket only


def test_abc_classes_follow_cumulative_demand_share() -> None:
    demand = {"A": 70.0, "B": 15.0, "C": 10.0, "D": 5.0, "E": 0.0}
    classes = classify(demand, ["A", "B", "C", "D", "E", "F"])
    assert classes == {"A": MoverClass.FAST, "B": MoverClass.FAST, "C": MoverClass.MEDIUM,
                       "D": MoverClass.SLOW, "E": MoverClass.SLOW, "F": MoverClass.SLOW}


def test_busiest_pods_go_nearest_the_stations() -> None:
    layout = small_layout()
    inv = small_inventory(layout)
    dist = TravelTimes(layout.grid)
    demand = {"SKU-8": 50.0, "SKU-5": 20.0, "SKU-1": 1.0}
    plan = plan_slotting(layout, inv, demand, dist)
    ranked = cell_ranking(layout, dist)
    assert plan.cells["POD8"] == ranked[0]
    assert plan.cells["POD5"] == ranked[1]
    assert plan.classes["POD8"] is MoverClass.FAST
    assert sorted(plan.cells.values()) == sorted(layout.cells_of("storage"))  # a permutation
    assert plan.apply(inv) > 0
    assert inv.pod("POD8").home == ranked[0]
    assert plan.return_cell("POD8", (9, 9)) == ranked[0]
    # planned cell taken: the free cell ranked next to it
    assert plan.return_cell("POD8", (9, 9), occupied={ranked[0]}) == ranked[1]
