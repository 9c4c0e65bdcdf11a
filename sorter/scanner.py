"""The barcode scanner: reads an item's barcode or fails with a seeded probability.

Loop and inline sorters both use it. The random stream is a passed ``numpy.random.Generator``,
so a run is reproducible from its seed and independent of everything else that draws numbers.
"""

from __future__ import annotations

import numpy as np


class Scanner:
    """A scanner at ``position_m`` that fails to read with ``no_read_probability``."""

    def __init__(self, position_m: float, no_read_probability: float, rng: np.random.Generator) -> None:
        if not 0.0 <= no_read_probability <= 1.0:
            raise ValueError("no_read_probability must lie in [0, 1]")
        self.position_m = position_m
        self.no_read_probability = no_read_probability
        self._rng = rng
        self.scans = 0
        self.no_reads = 0

    def read(self, barcode: str) -> str | None:
        """The barcode, or None for a no-read."""
        self.scans += 1
        if self.no_read_probability and self._rng.random() < self.no_read_probability:
            self.no_reads += 1
            return None
        return barcode
