"""``LoopSorter``: a recirculating cross-belt or tilt-tray loop, event-driven and clock-injected.

Geometry. ``n = round(loop_length / pitch)`` carriers sit at the actual pitch ``p = L / n``. At
``start`` carrier 0 is at the origin and carrier ``c`` trails it by ``c * p``, so its position is
``(speed * t - c * p) mod L``: positions are computed from time, never stepped. A fixed station at
``x`` therefore sees a carrier pass every ``p / speed`` seconds ("slots"); slot ``j`` at ``x``
happens at ``start + ((x mod p) + j * p) / speed`` and brings carrier ``(j - floor(x / p)) mod n``.

Inducts. Each induct has a token bucket (``rate_cap_per_h``, depth ``burst_items``) and a queue.
At a slot it places the head item when it has a token and the passing carrier (two adjacent
carriers for an oversized item) is empty and not reserved by another induct. When it must let a
carrier go, it reserves the next free carrier(s) coming, so upstream inducts cannot starve it.

Items then pass the scanner, wait for a destination, and leave at their chute if it is open and
has room; otherwise they go round again and after ``max_recirculations`` misses to reject.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from bus.clock import NS_PER_S, SIM_EPOCH, Instant, seconds
from sorter.chutes import Chute, ChuteBank
from sorter.config import InductConfig, LoopConfig
from sorter.core import PASS, SLOT, ConservationError, Parcel, Resolver, SorterCore
from sorter.events import REJECT_CHUTE, Diverted, DivertResult, Inducted, Item
from sorter.feed import ParcelFeed
from sorter.scanner import Scanner


@dataclass(slots=True)
class _Induct:
    """One induct's mutable state."""

    config: InductConfig
    base: int
    offset_ns: float
    rate_per_ns: float
    tokens: float
    tokens_at: int
    queue: deque[Item] = field(default_factory=deque)
    scheduled: bool = False
    reserved: tuple[int, ...] = ()
    inducted: int = 0


class LoopSorter(SorterCore):
    """The loop sorter model.

    Args:
        config: line layout and timing.
        rng: the run's generator; the scanner and the parcel feed get their own child streams.
        start: the instant of carrier phase zero (and of the first induct slot).
        resolver: optional barcode -> chute function for runs without a controller.
    """

    def __init__(self, config: LoopConfig, rng: np.random.Generator, start: Instant = SIM_EPOCH,
                 resolver: Resolver | None = None) -> None:
        scan_rng, feed_rng, arrival_rng = rng.spawn(3)
        chutes = ChuteBank(config.chutes.chute_ids(), config.chutes.positions_m(),
                           config.chutes.capacity_items, seconds(config.chutes.clear_time_s),
                           config.reject_position_m)
        scanner = Scanner(config.scanner.position_m, config.scanner.no_read_probability, scan_rng)
        super().__init__(chutes, scanner, seconds(config.reply_timeout_s), start, resolver)
        self.config = config
        self.start = Instant(int(start))
        self.carrier_count = max(2, round(config.loop_length_m / config.carrier_pitch_m))
        self.pitch_m = config.loop_length_m / self.carrier_count
        self.slot_ns = self.pitch_m / config.speed_mps * NS_PER_S
        self.lap_ns = config.loop_length_m / config.speed_mps * NS_PER_S
        self.occupant: list[str | None] = [None] * self.carrier_count
        self.reserved_by: list[int] = [-1] * self.carrier_count
        self.feed = ParcelFeed(config.feed, feed_rng)
        self.inducts: list[_Induct] = []
        for k, ic in enumerate(config.inducts):
            base, off = self._station(ic.position_m)
            ind = _Induct(ic, base, off, ic.rate_cap_per_h / 3600.0 / NS_PER_S, 1.0, self.start)
            self.inducts.append(ind)
            if ic.automatic:
                self._wake_induct(k, self.start)
        for k, (ic, stream) in enumerate(zip(config.inducts, arrival_rng.spawn(len(config.inducts)))):
            if ic.arrival_rate_per_h is not None:
                self._start_arrivals(k, ic.arrival_rate_per_h, stream)

    # --- geometry -------------------------------------------------------------------------
    def _station(self, position_m: float) -> tuple[int, float]:
        base = math.floor(position_m / self.pitch_m)
        return base, (position_m - base * self.pitch_m) / self.config.speed_mps * NS_PER_S

    def _slot_time(self, offset_ns: float, j: int) -> int:
        return self.start + round(offset_ns + j * self.slot_ns)

    def _first_slot(self, offset_ns: float, after: int) -> int:
        j = max(0, math.ceil((after - self.start - offset_ns) / self.slot_ns - 1e-9))
        while self._slot_time(offset_ns, j) < after:
            j += 1
        return j

    def carrier_position_m(self, carrier: int, at: Instant) -> float:
        """Where ``carrier`` is at ``at`` (metres from the origin along the loop)."""
        travelled = (at - self.start) / NS_PER_S * self.config.speed_mps
        return (travelled - carrier * self.pitch_m) % self.config.loop_length_m

    def carrier_arrival(self, carrier: int, position_m: float, after: Instant) -> Instant:
        """First instant at or after ``after`` when ``carrier`` is at ``position_m``."""
        base, off = self._station(position_m)
        j0 = self._first_slot(off, after)
        j = j0 + (carrier + base - j0) % self.carrier_count
        return Instant(self._slot_time(off, j))

    def _arrival_time(self, parcel: Parcel, position_m: float, after: Instant) -> Instant:
        return self.carrier_arrival(parcel.carriers[0], position_m, after)

    # --- inducts --------------------------------------------------------------------------
    def induct(self, now: Instant, item: Item, induct_id: str) -> None:
        """Queue ``item`` at ``induct_id`` (an operator or upstream conveyor offering it)."""
        self._process_until(max(now, self.now))
        k = next((i for i, ind in enumerate(self.inducts) if ind.config.induct_id == induct_id), None)
        if k is None:
            raise KeyError(f"no induct {induct_id!r} on {self.config.sorter_id}")
        self._enqueue(k, item)

    def _enqueue(self, induct: int, item: Item) -> None:
        self.inducts[induct].queue.append(item)
        if not self.inducts[induct].scheduled:
            self._wake_induct(induct, self.now)

    def _wake_induct(self, k: int, after: int) -> None:
        ind = self.inducts[k]
        ind.scheduled = True
        j = self._first_slot(ind.offset_ns, after)
        self._push(self._slot_time(ind.offset_ns, j), SLOT, k, j)

    def _free(self, carriers: tuple[int, ...], k: int) -> bool:
        occ, res = self.occupant, self.reserved_by
        return all(occ[c] is None and res[c] in (-1, k) for c in carriers)

    def _on_slot(self, k: int, j: int) -> None:
        ind = self.inducts[k]
        now = self.now
        ind.tokens = min(ind.config.burst_items, ind.tokens + (now - ind.tokens_at) * ind.rate_per_ns)
        ind.tokens_at = now
        if not ind.queue:
            if not ind.config.automatic:
                ind.scheduled = False
                return
            ind.queue.append(self.feed.next_item())
        if ind.tokens < 1.0:
            self._wake_induct(k, now + math.ceil((1.0 - ind.tokens) / ind.rate_per_ns))
            return
        item = ind.queue[0]
        n = self.carrier_count
        lead = (j - ind.base) % n
        carriers = (lead, (lead + 1) % n) if item.oversized else (lead,)
        if self._free(carriers, k):
            ind.queue.popleft()
            self._unreserve(ind)
            ind.tokens -= 1.0
            ind.inducted += 1
            for c in carriers:
                self.occupant[c] = item.item_id
            parcel = Parcel(item, ind.config.induct_id, now, carriers)
            self._out.append(Inducted(now, item.item_id, item.barcode, ind.config.induct_id, carriers))
            self._placed(parcel)
            j += len(carriers) - 1
        elif not ind.reserved and self.config.reserve_carriers:
            self._reserve(k, lead, len(carriers))
        if ind.queue or ind.config.automatic:
            self._push(self._slot_time(ind.offset_ns, j + 1), SLOT, k, j + 1)
        else:
            ind.scheduled = False

    def _reserve(self, k: int, after: int, size: int) -> None:
        """Claim the next ``size`` adjacent free carriers coming to induct ``k`` after ``after``."""
        n = self.carrier_count
        for step in range(1, n):
            run = tuple((after + step + i) % n for i in range(size))
            if self._free(run, k):
                for c in run:
                    self.reserved_by[c] = k
                self.inducts[k].reserved = run
                return

    def _unreserve(self, ind: _Induct) -> None:
        for c in ind.reserved:
            self.reserved_by[c] = -1
        ind.reserved = ()

    # --- chutes ---------------------------------------------------------------------------
    def _release(self, parcel: Parcel) -> None:
        for c in parcel.carriers:
            self.occupant[c] = None

    def _missed(self, parcel: Parcel, chute: Chute) -> None:
        parcel.recirculations += 1
        self.counts.recirculated += 1
        if parcel.recirculations > self.config.max_recirculations:
            self.counts.lap_limit_rejects += 1
            self._route(parcel, REJECT_CHUTE, "lap_limit")
            return
        self._out.append(Diverted(self.now, parcel.item.item_id, chute.chute_id, DivertResult.RECIRCULATED,
                                  chute.status.value.lower(), parcel.recirculations))
        parcel.version += 1
        self._push(self.carrier_arrival(parcel.carriers[0], chute.position_m, Instant(self.now + 1)),
                   PASS, parcel, parcel.version)

    def check_conservation(self) -> None:
        """Also checks that carriers hold exactly the items on the loop."""
        super().check_conservation()
        held: dict[str, int] = {}
        for who in self.occupant:
            if who is not None:
                held[who] = held.get(who, 0) + 1
        expected = {i: len(p.carriers) for i, p in self.parcels.items()}
        if held != expected:
            raise ConservationError("carrier occupancy disagrees with the items on the loop")

    def analytic_throughput_per_h(self, nominal: bool = True) -> float:
        """Items/h the line can sort: carriers per hour times the induct-limited fill (at most 1).

        ``nominal`` uses the configured pitch (the issue's formula); otherwise the actual pitch.
        """
        pitch = self.config.carrier_pitch_m if nominal else self.pitch_m
        carriers_per_h = 3600.0 * self.config.speed_mps / pitch
        induct_per_h = sum(i.rate_cap_per_h for i in self.config.inducts)
        return carriers_per_h * min(1.0, induct_per_h / carriers_per_h)
