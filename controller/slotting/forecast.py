"""Demand forecast per SKU from order history, and the fast / medium / slow (ABC) classes.

Method (stated in ``docs/slotting.md``): the history is cut into buckets of ``bucket_s`` seconds
(hourly by default); each SKU's order-line count per bucket is smoothed with simple exponential
smoothing, ``level = alpha * lines_in_bucket + (1 - alpha) * level``, starting from the mean of
the first ``warmup`` buckets. The forecast is the final level: expected order lines per bucket.
Lines, not units, because a robot trip is made per line to pick, whatever its quantity.

Classes follow the usual Pareto cut on the forecast, sorted from the most demanded SKU down:
SKUs making up the first ``fast_share`` (80 %) of forecast demand are fast movers, the next up to
``medium_share`` (95 %) medium, the rest (and SKUs with no demand) slow.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from bus.clock import Instant, seconds
from controller.orders.model import Order, Sku


class MoverClass(StrEnum):
    """How fast a SKU (or pod) moves."""

    FAST = "fast"
    MEDIUM = "medium"
    SLOW = "slow"


@dataclass(frozen=True, slots=True)
class ForecastConfig:
    """Smoothing settings.

    Args:
        bucket_s: length of one history bucket in seconds.
        alpha: smoothing factor in (0, 1]; larger follows recent demand faster.
        warmup: buckets averaged to start the level.
        fast_share: cumulative demand share of fast movers.
        medium_share: cumulative demand share of fast plus medium movers.
    """

    bucket_s: float = 3600.0
    alpha: float = 0.3
    warmup: int = 3
    fast_share: float = 0.80
    medium_share: float = 0.95

    def __post_init__(self) -> None:
        if not 0 < self.alpha <= 1:
            raise ValueError("alpha must be in (0, 1]")
        if self.bucket_s <= 0 or self.warmup < 1:
            raise ValueError("bucket_s must be positive and warmup at least 1")
        if not 0 < self.fast_share <= self.medium_share <= 1:
            raise ValueError("need 0 < fast_share <= medium_share <= 1")


def line_counts(history: Iterable[Order], start: Instant, bucket_s: float) -> tuple[list[Sku], np.ndarray]:
    """SKUs (sorted) and their order-line counts per bucket, shape ``(n_skus, n_buckets)``.

    Orders without a creation time count in the first bucket; orders before ``start`` are skipped.
    """
    per: dict[Sku, dict[int, int]] = {}
    n_buckets = 1
    width = seconds(bucket_s)
    for order in history:
        created = order.created if order.created is not None else start
        if created < start:
            continue
        b = int((created - start) // width)
        n_buckets = max(n_buckets, b + 1)
        for line in order.lines:
            row = per.setdefault(line.sku, {})
            row[b] = row.get(b, 0) + 1
    skus = sorted(per)
    counts = np.zeros((len(skus), n_buckets))
    for i, sku in enumerate(skus):
        for b, n in per[sku].items():
            counts[i, b] = n
    return skus, counts


def smooth(counts: np.ndarray, cfg: ForecastConfig) -> np.ndarray:
    """Simple exponential smoothing along the bucket axis; returns the final level per row."""
    if counts.size == 0:
        return np.zeros(counts.shape[0])
    level: np.ndarray = counts[:, : cfg.warmup].mean(axis=1)
    for b in range(min(cfg.warmup, counts.shape[1]), counts.shape[1]):
        level = cfg.alpha * counts[:, b] + (1 - cfg.alpha) * level
    return level


def forecast_demand(history: Iterable[Order], start: Instant,
                    cfg: ForecastConfig = ForecastConfig()) -> dict[Sku, float]:
    """Expected order lines per bucket for every SKU seen in the history."""
    skus, counts = line_counts(history, start, cfg.bucket_s)
    return dict(zip(skus, smooth(counts, cfg).tolist(), strict=True))


def classify(demand: dict[Sku, float], all_skus: Iterable[Sku] = (),
             cfg: ForecastConfig = ForecastConfig()) -> dict[Sku, MoverClass]:
    """ABC classes by cumulative share of forecast demand (ties broken by SKU id)."""
    classes = {sku: MoverClass.SLOW for sku in all_skus}
    total = sum(v for v in demand.values() if v > 0)
    ranked = sorted((s for s, v in demand.items() if v > 0), key=lambda s: (-demand[s], s))
    cum = 0.0
    for sku in ranked:
        share_before = cum / total
        cum += demand[sku]
        if share_before < cfg.fast_share:
            classes[sku] = MoverClass.FAST
        elif share_before < cfg.medium_share:
            classes[sku] = MoverClass.MEDIUM
        else:
            classes[sku] = MoverClass.SLOW
    for sku, v in demand.items():
        if v <= 0:
            classes[sku] = MoverClass.SLOW
    return classes
