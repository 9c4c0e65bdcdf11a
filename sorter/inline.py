"""``InlineSorter``: a straight conveyor that diverts items sideways; no recirculation.

Items enter at the induct, keep at least ``min_gap_m`` of belt between them and move at
``speed_mps``, so an item's position is ``induct + speed * (t - inducted_at)``. It shares the
scanner, chutes, destinations and deadlines with the loop (:mod:`sorter.core`); what differs is
the end: an item that cannot leave at its chute (full, closed, no destination in time, chute
already behind it) rides on to the reject chute at the end of the conveyor.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from bus.clock import NS_PER_S, SIM_EPOCH, Instant, seconds
from sorter.chutes import Chute, ChuteBank
from sorter.config import InlineConfig
from sorter.core import SLOT, Parcel, Resolver, SorterCore
from sorter.events import REJECT_CHUTE, Inducted, Item
from sorter.feed import ParcelFeed
from sorter.scanner import Scanner


class InlineSorter(SorterCore):
    """The inline sorter model (same commands and events as :class:`sorter.loop.LoopSorter`).

    Args:
        config: conveyor layout and timing.
        rng: the run's generator; scanner and feed get child streams.
        start: when the conveyor starts.
        resolver: optional barcode -> chute function for runs without a controller.
    """

    def __init__(self, config: InlineConfig, rng: np.random.Generator, start: Instant = SIM_EPOCH,
                 resolver: Resolver | None = None) -> None:
        scan_rng, feed_rng, arrival_rng = rng.spawn(3)
        chutes = ChuteBank(config.chutes.chute_ids(), config.chutes.positions_m(),
                           config.chutes.capacity_items, seconds(config.chutes.clear_time_s),
                           config.length_m)
        scanner = Scanner(config.scanner.position_m, config.scanner.no_read_probability, scan_rng)
        super().__init__(chutes, scanner, seconds(config.reply_timeout_s), start, resolver)
        self.config = config
        self.feed = ParcelFeed(config.feed, feed_rng)
        self.gap_ns = math.ceil(config.min_gap_m / config.speed_mps * NS_PER_S)
        self.rate_per_ns = config.induct.rate_cap_per_h / 3600.0 / NS_PER_S
        self.tokens = 1.0
        self.tokens_at = int(start)
        self.last_placed: int | None = None
        self.queue: deque[Item] = deque()
        self.scheduled = False
        if config.induct.automatic:
            self._wake(int(start))
        if config.induct.arrival_rate_per_h is not None:
            self._start_arrivals(0, config.induct.arrival_rate_per_h, arrival_rng)

    def induct(self, now: Instant, item: Item, induct_id: str | None = None) -> None:
        """Queue ``item`` at the induct."""
        if induct_id is not None and induct_id != self.config.induct.induct_id:
            raise KeyError(f"no induct {induct_id!r} on {self.config.sorter_id}")
        self._process_until(max(now, self.now))
        self._enqueue(0, item)

    def _enqueue(self, induct: int, item: Item) -> None:
        self.queue.append(item)
        if not self.scheduled:
            self._wake(self.now)

    def _wake(self, at: int) -> None:
        self.scheduled = True
        self._push(at, SLOT, 0)

    def _on_slot(self, subject: int, version: int) -> None:
        now = self.now
        burst = self.config.induct.burst_items
        self.tokens = min(burst, self.tokens + (now - self.tokens_at) * self.rate_per_ns)
        self.tokens_at = now
        if not self.queue:
            if not self.config.induct.automatic:
                self.scheduled = False
                return
            self.queue.append(self.feed.next_item())
        ready = now
        if self.tokens < 1.0:
            ready = max(ready, now + math.ceil((1.0 - self.tokens) / self.rate_per_ns))
        if self.last_placed is not None:
            ready = max(ready, self.last_placed + self.gap_ns * (2 if self.queue[0].oversized else 1))
        if ready > now:
            self._push(ready, SLOT, 0)
            return
        item = self.queue.popleft()
        self.tokens -= 1.0
        self.last_placed = now
        self._out.append(Inducted(now, item.item_id, item.barcode, self.config.induct.induct_id, ()))
        self._placed(Parcel(item, self.config.induct.induct_id, now))
        if self.queue or self.config.induct.automatic:
            self._push(now + self.gap_ns, SLOT, 0)
        else:
            self.scheduled = False

    def _arrival_time(self, parcel: Parcel, position_m: float, after: Instant) -> Instant | None:
        travel_m = position_m - self.config.induct.position_m
        at = parcel.inducted_at + round(travel_m / self.config.speed_mps * NS_PER_S)
        return Instant(at) if at >= after else None

    def _missed(self, parcel: Parcel, chute: Chute) -> None:
        reason = "chute_passed" if chute.can_take() else f"chute_{chute.status.value.lower()}"
        self._route(parcel, REJECT_CHUTE, reason)
