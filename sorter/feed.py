"""The seeded parcel stream for automatic inducts: barcodes that name a destination.

A barcode is ``"{destination}:{serial}"`` (``D007:000123``); the controller maps the destination
part to a chute. Destination volumes follow a Zipf-like law with ``zipf_exponent`` (0 gives a
uniform mix) so chute planning by expected volume has something to balance. Draws are batched
from the passed ``numpy.random.Generator`` because one ``choice`` call per item would dominate the
cost of a simulated hour.
"""

from __future__ import annotations

import numpy as np

from sorter.config import FeedConfig
from sorter.events import Item

_BATCH = 4096


def destination_names(count: int) -> list[str]:
    """Destination keys used in barcodes: ``D001``, ``D002``, ..."""
    return [f"D{k + 1:03d}" for k in range(count)]


def destination_weights(config: FeedConfig) -> dict[str, float]:
    """Expected share of the stream per destination (sums to 1)."""
    ranks = np.arange(1, config.destinations + 1, dtype=float)
    weights = ranks ** (-config.zipf_exponent)
    weights /= weights.sum()
    return dict(zip(destination_names(config.destinations), weights.tolist()))


class ParcelFeed:
    """Allocates item ids (``itm-000001``...) and draws barcodes and sizes for automatic inducts."""

    def __init__(self, config: FeedConfig, rng: np.random.Generator, prefix: str = "itm") -> None:
        self._names = destination_names(config.destinations)
        self._weights = np.array(list(destination_weights(config).values()))
        self._oversized = config.oversized_fraction
        self._rng = rng
        self._prefix = prefix
        self._serial = 0
        self._dest: list[int] = []
        self._big: list[bool] = []

    def next_id(self) -> str:
        """A fresh item id (also used for items fed by hand without one)."""
        self._serial += 1
        return f"{self._prefix}-{self._serial:06d}"

    def next_item(self) -> Item:
        """The next parcel of the automatic stream."""
        if not self._dest:
            self._dest = self._rng.choice(len(self._names), size=_BATCH, p=self._weights).tolist()[::-1]
            self._big = (self._rng.random(_BATCH) < self._oversized).tolist()
        item_id = self.next_id()
        name = self._names[self._dest.pop()]
        return Item(item_id, f"{name}:{self._serial:06d}", self._big.pop())
