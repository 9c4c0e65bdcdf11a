"""Bad input from the bus, counted, logged once per kind and topic, and summed up.

Why: a malformed or unexpected message must never stop the controller, and a vehicle or WMS
that keeps sending bad messages must not flood the log: the first of each (kind, topic) is logged
(at most ten topics per kind), every one is counted (``rejected`` in the metrics, per kind in
:attr:`Rejections.kinds`), and the rest are summed up in one line at most once a minute of the
controller's time (:class:`bus.reject_log.RejectionLog`, ``docs/limits-bus.md``).
"""

from __future__ import annotations

import logging
from collections import Counter

from bus.clock import Instant
from bus.reject_log import RejectionLog

log = logging.getLogger("bulletyard.controller")


class Rejections:
    """Counts rejected messages by kind (``where``'s last topic level and the rule broken)."""

    def __init__(self, counters: Counter[str]) -> None:
        self.counters = counters
        self.kinds: Counter[str] = Counter()
        self.log = RejectionLog(log)

    def reject(self, now: Instant, where: str, reason: str, kind: str | None = None) -> None:
        """Count one rejected message; log it when it is the first of its kind on ``where``.

        Args:
            now: the controller's time (paces the summary lines).
            where: the topic (or ``state/{serial}``).
            reason: what is wrong, for the log.
            kind: the rule broken (default: the reason's head).
        """
        kind = kind or reason.split(":")[0]
        self.log.note(now, kind, where, reason)
        self.kinds[f"{where.split('/')[-1]}: {kind}"] += 1
        self.counters["rejected"] += 1

    def refused_order(self, now: Instant, topic: str, order_id: str | None, reason: str, kind: str) -> None:
        """Log a refused WMS payload once per kind (it is counted as ``orders_refused``, and answered)."""
        self.log.note(now, kind, topic, f"order {order_id or '(without orderId)'}: {reason}")

    def flush(self, now: Instant) -> None:
        """Write the summary line when one is due."""
        self.log.flush(now)
