"""The peak profile's midnight surge: several times the base rate for a set time, then the base."""

from __future__ import annotations

import numpy as np
import pytest

from sim.scenario import ScenarioError, generate_orders
from warehouse_maps.catalog import load_layout


@pytest.fixture(scope="module")
def layout():
    return load_layout("small-fc")


def test_surge_runs_at_the_multiplied_rate_for_its_duration(layout) -> None:
    orders = generate_orders(layout, 3000, np.random.default_rng(7), profile="peak", rate_per_h=600,
                             peak_factor=5, peak_duration_s=1800)
    in_surge = sum(1 for o in orders if o.t_s < 1800)
    after = sum(1 for o in orders if 1800 <= o.t_s < 3600)
    # 5 x 600/h for half an hour = 1,500 expected; then 600/h for half an hour = 300 expected
    assert 1400 < in_surge < 1600
    assert 250 < after < 350


def test_without_a_duration_the_first_tenth_of_the_orders_is_the_surge(layout) -> None:
    orders = generate_orders(layout, 2000, np.random.default_rng(3), profile="peak", rate_per_h=300)
    surge_gap_s = orders[199].t_s / 200  # 3,000/h: 1.2 s apart on average
    base_gap_s = (orders[-1].t_s - orders[199].t_s) / 1800  # 300/h: 12 s apart on average
    assert 1.0 < surge_gap_s < 1.4
    assert 11.0 < base_gap_s < 13.0


def test_a_bad_surge_is_refused(layout) -> None:
    with pytest.raises(ScenarioError, match="peak factor"):
        generate_orders(layout, 5, np.random.default_rng(1), profile="peak", rate_per_h=60,
                        peak_duration_s=-1)
