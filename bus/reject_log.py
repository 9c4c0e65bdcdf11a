"""RejectionLog: refused inbound messages, counted, logged once per kind and topic, summarised.

Why: a sender that keeps publishing garbage must not flood the log (10,000 malformed WMS orders
gave 10,000 warning lines) nor grow memory with every new topic it invents, and an operator must
still learn that it goes on. So the first refusal of each (kind, topic) is logged with its
detail; later ones are only counted; at most once per ``summary_period`` of the *injected* time
one line sums up what was refused since the last line. At most ``max_topics_per_kind`` topics
are logged by name per kind (80 ghost vehicles give a handful of lines, then one saying the
rest are only counted), and the tally of distinct keys is bounded.

Time is a parameter (:data:`bus.clock.Instant`, ns): the controller passes its ``now``; agents
without a clock of their own pass the one their runner gives them.
"""

from __future__ import annotations

import logging
from collections import Counter

from bus.clock import Duration, Instant, seconds

SUMMARY_PERIOD: Duration = seconds(60.0)
"""Longest quiet time between two summary lines while refusals go on (ns)."""

MAX_TOPICS_PER_KIND = 10
"""Distinct topics logged by name for one kind of refusal; further ones are only counted."""

MAX_KEYS = 1000
"""Distinct (kind, topic) pairs remembered; past it, refusals are counted under their kind only."""


class RejectionLog:
    """Counts refusals and decides which of them deserve a log line (see the module docstring).

    Args:
        log: the logger lines go to (at WARNING).
        what: what is refused, for the lines ("message", "order").
        summary_period: quiet time between summary lines (ns of injected time).
    """

    def __init__(
        self, log: logging.Logger, what: str = "message", summary_period: Duration = SUMMARY_PERIOD
    ) -> None:
        self._log = log
        self._what = what
        self.summary_period = summary_period
        self.counts: Counter[str] = Counter()
        """Refusals per kind since the start."""
        self._logged: set[tuple[str, str]] = set()
        self._topics_logged: Counter[str] = Counter()
        self._pending: Counter[str] = Counter()  # refusals not yet in any line, per kind
        self._last_summary: Instant | None = None

    @property
    def total(self) -> int:
        """All refusals since the start."""
        return sum(self.counts.values())

    def note(self, now: Instant, kind: str, topic: str, detail: str) -> None:
        """Count one refusal of ``kind`` on ``topic``; log it if it is the first of its key."""
        self.counts[kind] += 1
        key = (kind, topic)
        if key in self._logged:
            self._pending[kind] += 1
        elif self._topics_logged[kind] < MAX_TOPICS_PER_KIND and len(self._logged) < MAX_KEYS:
            self._logged.add(key)
            self._topics_logged[kind] += 1
            suffix = ""
            if self._topics_logged[kind] == MAX_TOPICS_PER_KIND:
                suffix = f" ({MAX_TOPICS_PER_KIND} topics named for {kind}: further ones are only counted)"
            self._log.warning("rejected %s on %s: %s: %s%s", self._what, topic, kind, detail, suffix)
        else:
            self._pending[kind] += 1
        if self._last_summary is None:
            self._last_summary = now
        self.flush(now)

    def flush(self, now: Instant) -> None:
        """Write the summary line if one is due (call it from a tick so a burst is summed up)."""
        if not self._pending or self._last_summary is None or now - self._last_summary < self.summary_period:
            return
        since_s = (now - self._last_summary) / 1e9
        parts = ", ".join(f"{n} {kind}" for kind, n in sorted(self._pending.items()))
        self._log.warning("rejected %ss in the last %.0f s, beyond those named: %s (total %d)",
                          self._what, since_s, parts, self.total)
        self._pending.clear()
        self._last_summary = now
