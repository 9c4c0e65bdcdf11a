"""The seeded order stream: determinism, long tail, the Singles Day peak."""

from __future__ import annotations

import numpy as np
import pytest

from bus.clock import SIM_EPOCH, seconds
from controller.orders.generator import (
    OrderGenerator,
    RateProfile,
    RateSegment,
    StreamConfig,
    singles_day_profile,
    sku_popularity,
)


def _orders(seed: int, hours: float = 2.0, base: float = 300.0):
    cfg = StreamConfig(n_skus=1000, profile=singles_day_profile(base))
    return OrderGenerator(cfg, np.random.default_rng(seed)).orders(SIM_EPOCH, hours * 3600)


def test_same_seed_same_stream_other_seed_differs() -> None:
    assert _orders(1) == _orders(1)
    assert _orders(1) != _orders(2)


def test_peak_hour_runs_at_ten_times_the_base_rate() -> None:
    orders = _orders(3, hours=2.0, base=300.0)
    first = sum(1 for o in orders if o.created < SIM_EPOCH + seconds(3600))
    second = len(orders) - first
    assert 2700 <= first <= 3300  # Poisson(3000)
    assert 240 <= second <= 360  # Poisson(300)
    assert 7.5 <= first / second <= 13


def test_orders_are_well_formed_and_ids_unique() -> None:
    orders = _orders(4)
    assert len({o.id for o in orders}) == len(orders)
    for o in orders:
        assert o.lines
        assert all(1 <= ln.quantity <= 3 for ln in o.lines)
        assert len({ln.sku for ln in o.lines}) == len(o.lines)
        assert o.due > o.created
    created = [o.created for o in orders]
    assert created == sorted(created)
    assert np.mean([len(o.lines) for o in orders]) == pytest.approx(1.6, abs=0.15)


def test_popularity_has_a_long_tail() -> None:
    p = sku_popularity(1000, 1.0)
    assert p.sum() == pytest.approx(1.0)
    assert p[:10].sum() > 0.35  # the top 1 % of SKUs take over a third of the demand
    assert (p[500:] > 0).all()  # but every SKU can be ordered
    lines = [ln.sku for o in _orders(5) for ln in o.lines]
    top = max(set(lines), key=lines.count)
    assert top == "SKU00001"


def test_rate_profile_rejects_bad_segments() -> None:
    with pytest.raises(ValueError, match="starts with a segment at 0"):
        RateProfile((RateSegment(10.0, 5.0),))
    with pytest.raises(ValueError, match="negative"):
        RateProfile((RateSegment(0.0, -1.0),))
