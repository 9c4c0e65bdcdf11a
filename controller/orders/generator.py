"""A seeded order stream: long-tail SKU popularity, order sizes, destinations, a time-varying rate.

The stream is what a simulation feeds the order book. Popularity follows a Zipf-like law
(``weight(rank) = 1 / rank ** zipf_s``): a few SKUs take most of the demand, most SKUs are rarely
ordered (the long tail). Arrivals are a non-homogeneous Poisson process with a piecewise-constant
rate; :func:`singles_day_profile` gives the peak of the first hour of Singles Day at ten times the
base rate. Same seed, same stream.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bus.clock import NS_PER_S, Instant, seconds
from controller.orders.inventory import sku_name
from controller.orders.model import Order, OrderLine


@dataclass(frozen=True, slots=True)
class RateSegment:
    """From ``start_s`` (seconds after the stream start) on, orders arrive at ``orders_per_h``."""

    start_s: float
    orders_per_h: float


@dataclass(frozen=True, slots=True)
class RateProfile:
    """A piecewise-constant arrival rate; the last segment lasts forever."""

    segments: tuple[RateSegment, ...]

    def __post_init__(self) -> None:
        if not self.segments or self.segments[0].start_s != 0:
            raise ValueError("a rate profile starts with a segment at 0 s")
        starts = [s.start_s for s in self.segments]
        if starts != sorted(starts) or len(set(starts)) != len(starts):
            raise ValueError("rate segments must have strictly increasing start times")
        if any(s.orders_per_h < 0 for s in self.segments):
            raise ValueError("arrival rates cannot be negative")

    def rate_per_s(self, t_s: float) -> float:
        """Arrival rate in orders per second at ``t_s``."""
        rate = self.segments[0].orders_per_h
        for seg in self.segments:
            if seg.start_s <= t_s:
                rate = seg.orders_per_h
        return rate / 3600.0


def constant_profile(orders_per_h: float) -> RateProfile:
    """The same rate all the time."""
    return RateProfile((RateSegment(0.0, orders_per_h),))


def singles_day_profile(base_per_h: float, peak_factor: float = 10.0, peak_s: float = 3600.0) -> RateProfile:
    """Singles Day: the first ``peak_s`` seconds at ``peak_factor`` x the base rate, then the base."""
    return RateProfile((RateSegment(0.0, base_per_h * peak_factor), RateSegment(peak_s, base_per_h)))


@dataclass(frozen=True, slots=True)
class StreamConfig:
    """What the generated orders look like.

    Args:
        n_skus: SKUs ``SKU00001`` ... ``SKU{n}``; rank 1 is the most popular.
        zipf_s: popularity exponent (1.0: classic long tail; 0: uniform).
        mean_lines: mean lines per order (1 + a geometric number of extra lines).
        max_units_per_line: line quantities are uniform in 1..this.
        destinations: destination (chute) ids, chosen uniformly.
        profile: arrival rate over time.
        max_priority: priorities are uniform in 0..this.
        due_after_s: due time after creation.
    """

    n_skus: int
    profile: RateProfile
    destinations: tuple[str, ...] = tuple(f"CH{i:03d}" for i in range(1, 201))
    zipf_s: float = 1.0
    mean_lines: float = 1.6
    max_units_per_line: int = 3
    max_priority: int = 2
    due_after_s: float = 4 * 3600.0


def sku_popularity(n_skus: int, zipf_s: float) -> np.ndarray:
    """Probability of each SKU index being ordered (sums to 1)."""
    weights: np.ndarray = 1.0 / np.arange(1, n_skus + 1, dtype=float) ** zipf_s
    probabilities: np.ndarray = weights / weights.sum()
    return probabilities


class OrderGenerator:
    """Generates orders for a time window from a seeded ``numpy.random.Generator``."""

    def __init__(self, config: StreamConfig, rng: np.random.Generator, id_prefix: str = "O") -> None:
        self.config = config
        self._rng = rng
        self._prefix = id_prefix
        self._next_id = 1
        self._cdf = np.cumsum(sku_popularity(config.n_skus, config.zipf_s))

    def arrivals_s(self, duration_s: float) -> list[float]:
        """Arrival offsets in seconds in ``[0, duration_s)`` (exact for piecewise-constant rates)."""
        out: list[float] = []
        bounds = [s.start_s for s in self.config.profile.segments[1:]] + [float("inf")]
        t = 0.0
        for seg, end in zip(self.config.profile.segments, bounds):
            end = min(end, duration_s)
            rate = seg.orders_per_h / 3600.0
            t = max(t, seg.start_s)
            while rate > 0 and t < end:
                t += float(self._rng.exponential(1.0 / rate))
                if t < end:
                    out.append(t)
            t = end
            if end >= duration_s:
                break
        return out

    def orders(self, start: Instant, duration_s: float) -> list[Order]:
        """All orders arriving in ``[start, start + duration_s)``, in arrival order."""
        return [self.order_at(Instant(start + seconds(t))) for t in self.arrivals_s(duration_s)]

    def order_at(self, created: Instant) -> Order:
        """One order created at ``created``."""
        cfg, rng = self.config, self._rng
        extra = rng.geometric(1.0 / cfg.mean_lines) - 1 if cfg.mean_lines > 1 else 0
        n_lines = 1 + int(extra)
        picks = np.searchsorted(self._cdf, rng.random(n_lines), side="right")
        skus: list[int] = []
        for s in picks:  # an order names a SKU once
            s = int(min(s, cfg.n_skus - 1))
            if s not in skus:
                skus.append(s)
        lines = tuple(OrderLine(sku_name(s), int(rng.integers(1, cfg.max_units_per_line + 1))) for s in skus)
        order = Order(
            id=f"{self._prefix}{self._next_id:07d}",
            lines=lines,
            destination=cfg.destinations[int(rng.integers(len(cfg.destinations)))],
            priority=int(rng.integers(0, cfg.max_priority + 1)),
            due=Instant(created + int(cfg.due_after_s * NS_PER_S)),
            created=created,
        )
        self._next_id += 1
        return order
