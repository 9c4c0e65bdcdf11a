"""Bad input from the bus, counted and logged once per kind.

Why: a malformed or unexpected message must never stop the controller, and a vehicle or WMS
that keeps sending the same bad message must not flood the log: the first of each kind is
logged, every one is counted (``rejected`` in the metrics, per kind in :attr:`Rejections.kinds`).
"""

from __future__ import annotations

import logging
from collections import Counter

log = logging.getLogger("bulletyard.controller")


class Rejections:
    """Counts rejected messages by kind (``where``'s last topic level and the reason's head)."""

    def __init__(self, counters: Counter[str]) -> None:
        self.counters = counters
        self.kinds: Counter[str] = Counter()

    def reject(self, where: str, reason: str) -> None:
        """Count one rejected message; log it when it is the first of its kind."""
        key = f"{where.split('/')[-1]}: {reason.split(':')[0]}"
        if self.kinds[key] == 0:
            log.warning("rejected message on %s: %s", where, reason)
        self.kinds[key] += 1
        self.counters["rejected"] += 1
