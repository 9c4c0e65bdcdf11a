"""The sorting line of a simulated warehouse: pick stations' outbound conveyor plus the sorter.

Why: at a site with a conveyor sorter an order is done when its goods are in its destination's
chute. :class:`SortingLine` is one runner participant that plays the people and conveyors between
the pick stations and the sorter, and the sorter itself (:class:`sorter.agent.SorterAgent` on a
:class:`sorter.loop.LoopSorter`), on the same bus as everything else. It learns what to put on
the belt only from the wire, as a station would:

* the WMS ``orders`` topic tells it each order's lines (quantities); orders without a
  ``destination`` are not sorted and never reach the belt;
* when the controller reports an order ``picked`` (every line picked at a station), each unit,
  labelled ``order/line/unit`` (the label convention of ``docs/protocol-sorter.md``), reaches an
  induct ``transit_s`` later, ``unit_gap_s`` apart, inducts taken in turn order by order;
* a unit the sorter confirms ``REJECTED`` (no read, too many laps) is carried back by a person and
  inducted again, same label, ``rework_s`` later.

``close_chute`` (the ``--chute-close`` fault) closes a chute as an operator would; what the sorter
publishes about it goes out at the next tick. Deterministic: no randomness here (the sorter model
has its own seeded scanner), inducts and items are numbered in arrival order.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping

import numpy as np

from bus import limits
from bus.clock import Instant, seconds
from bus.sorter_protocol import sorter_topic, unit_labels
from bus.topics import wms_order_status_topic, wms_orders_topic
from bus.transport import Envelope
from bus.wms import TERMINAL_STATUSES
from sorter.agent import SorterAgent
from sorter.config import ChuteLayout, InductConfig, LoopConfig
from sorter.events import Item
from sorter.loop import LoopSorter

TERMINAL = TERMINAL_STATUSES


def _fields(payload: bytes, *keys: str) -> dict | None:
    """The JSON object of ``payload`` if it has every key, else None (others' bad messages are
    theirs to refuse; the conveyor just ignores them)."""
    data = limits.loads_or_none(payload)
    return data if isinstance(data, dict) and all(k in data for k in keys) else None


def loop_config(equipment: Mapping[str, object], sorter_id: str = "sorter-1") -> LoopConfig:
    """A loop sorter for a layout's ``equipment.sorter`` (``chutes``, ``inducts``, ``loop_length_m``,
    ``pitch_m``, ``speed_mps``): inducts 4 m apart from 2 m, the scanner after them, the chutes in
    pairs spread evenly up to 5 m before the reject chute. Inducts take units only from stations
    (no automatic parcel supply)."""
    chutes = int(equipment.get("chutes", 0))  # type: ignore[call-overload]
    inducts = int(equipment.get("inducts", 1))  # type: ignore[call-overload]
    length = float(equipment.get("loop_length_m", 200.0))  # type: ignore[arg-type]
    if chutes < 1 or inducts < 1:
        raise ValueError("equipment.sorter needs at least one chute and one induct")
    last_induct = 2.0 + 4.0 * (inducts - 1)
    scanner = last_induct + 6.0
    first = scanner + 10.0
    reject = length - 5.0
    positions = (chutes + 1) // 2
    spacing = (reject - 5.0 - first) / max(1, positions - 1)
    if spacing <= 0:
        raise ValueError(f"a {length:.0f} m loop is too short for {chutes} chutes and {inducts} inducts")
    return LoopConfig(
        sorter_id=sorter_id,
        loop_length_m=length,
        carrier_pitch_m=float(equipment.get("pitch_m", 0.6)),  # type: ignore[arg-type]
        speed_mps=float(equipment.get("speed_mps", 2.5)),  # type: ignore[arg-type]
        inducts=tuple(
            InductConfig(induct_id=f"in-{k + 1}", position_m=2.0 + 4.0 * k) for k in range(inducts)
        ),
        scanner={"position_m": scanner},
        chutes=ChuteLayout(count=chutes, first_m=first, spacing_m=spacing, sides=2),
        reject_position_m=reject,
    )


class SortingLine:
    """Stations' conveyor + sorter, as one participant of :class:`sim.runner.SimRunner`.

    Args:
        site: topic level of the WMS and sorter topics.
        equipment: the layout's ``equipment.sorter``.
        rng: the sorter model's random stream (scanner no-reads).
        start: the run's start instant.
        transit_s: seconds from an order's ``picked`` to its first unit at an induct.
        unit_gap_s: seconds between the units of one order.
        rework_s: seconds before a rejected unit is inducted again.
    """

    def __init__(
        self,
        site: str,
        equipment: Mapping[str, object],
        rng: np.random.Generator,
        start: Instant,
        *,
        transit_s: float = 30.0,
        unit_gap_s: float = 2.0,
        rework_s: float = 120.0,
    ) -> None:
        config = loop_config(equipment)
        self.config = config
        self.agent = SorterAgent(config.sorter_id, site, LoopSorter(config, rng, start))
        self.sorter_id = config.sorter_id
        self.inducts = [i.induct_id for i in config.inducts]
        self.transit = seconds(transit_s)
        self.unit_gap = seconds(unit_gap_s)
        self.rework = seconds(rework_s)
        self._orders_topic = wms_orders_topic(site)
        self._status_topic = wms_order_status_topic(site)
        self._confirm_topic = sorter_topic(site, config.sorter_id, "divertConfirm")
        self._quantities: dict[str, list[int]] = {}
        self._due: list[tuple[Instant, int, str, str]] = []  # (at, seq, label, induct)
        self._label_of: dict[str, str] = {}  # item id on the belt -> its label
        self._seq = 0
        self._orders_seen = 0
        self._pending: list[Envelope] = []
        self.counts = {"units_put": 0, "reworked": 0, "unknown_orders": 0}

    # -- participant ------------------------------------------------------------------------------
    def subscriptions(self) -> list[tuple[str, int]]:
        """The sorter's own topic, WMS orders and statuses, and this sorter's divert confirmations."""
        return [(t, 1) for t in self.agent.subscriptions()] + [
            (self._orders_topic, 1),
            (self._status_topic, 1),
            (self._confirm_topic, 1),
        ]

    def will(self) -> Envelope | None:
        """The sorter's CONNECTIONBROKEN will."""
        return self.agent.will()

    def on_connect(self, now: Instant) -> list[Envelope]:
        """The sorter's ONLINE, chute states and first state."""
        return self.agent.on_connect(now)

    def handle(self, now: Instant, msg: Envelope) -> list[Envelope]:
        """WMS orders and statuses feed the conveyor; the sorter gets its destinations."""
        if msg.topic == self._orders_topic:
            self._on_order(msg.payload)
            return self.agent.tick(now)
        if msg.topic == self._status_topic:
            self._on_status(now, msg.payload)
            return self.agent.tick(now)
        if msg.topic == self._confirm_topic:
            self._on_confirm(now, msg.payload)
            return []
        return self.agent.handle(now, msg)

    def tick(self, now: Instant) -> list[Envelope]:
        """Put due units on their inducts, run the sorter to ``now``, send what is pending."""
        out, self._pending = self._pending, []
        while self._due and self._due[0][0] <= now:
            _, _, label, induct = heapq.heappop(self._due)
            self._seq += 1
            item_id = f"itm-{self._seq:06d}"
            self._label_of[item_id] = label
            out += self.agent.induct(now, Item(item_id, label), induct)
        return out + self.agent.tick(now)

    def next_wakeup(self) -> Instant | None:
        """The sorter's next event, the next unit due at an induct, or now when messages wait."""
        next_unit = self._due[0][0] if self._due else None
        times = [t for t in (self.agent.next_wakeup(), next_unit) if t is not None]
        if self._pending:
            times.append(self.agent.model.now)
        return min(times) if times else None

    def fill_levels(self, count: int | None = 6) -> list[tuple[str, float]]:
        """(chute id, fill 0..1) of the first ``count`` chutes (None: all), read from the model
        (world truth, as the trace reads robot poses): the report plots them over the run. The
        sorter's own ``chuteState`` messages only come when a chute turns full, closed or open again."""
        chutes = self.agent.model.chutes
        out = []
        ids = chutes.destination_ids()
        for chute_id in ids if count is None else ids[:count]:
            chute = chutes.get(chute_id)
            out.append((chute_id, chute.fill_items / chute.capacity_items if chute.capacity_items else 0.0))
        return out

    # -- faults -----------------------------------------------------------------------------------
    def close_chute(self, now: Instant, chute_id: str) -> None:
        """An operator closes ``chute_id``; the sorter's chute state goes out at the next tick."""
        if chute_id not in self.agent.model.chutes:
            raise ValueError(f"no chute {chute_id!r} on {self.sorter_id}")
        self._pending += self.agent.close_chute(now, chute_id)

    # -- inbound ----------------------------------------------------------------------------------
    def _on_order(self, payload: bytes) -> None:
        data = _fields(payload, "orderId", "lines")
        try:
            quantities = [int(line["quantity"]) for line in data["lines"]] if data else None
        except (ValueError, KeyError, TypeError):
            quantities = None
        if data is None or quantities is None:
            return  # the controller refuses it; nothing will be picked
        if not data.get("destination"):
            return  # not sorted: its goods are packed at the station (the controller's rule)
        self._quantities[str(data["orderId"])] = quantities

    def _on_status(self, now: Instant, payload: bytes) -> None:
        data = _fields(payload, "orderId", "status")
        if data is None:
            return
        order_id, status = str(data["orderId"]), str(data["status"])
        if status == "picked":
            quantities = self._quantities.get(order_id)
            if quantities is None:
                self.counts["unknown_orders"] += 1
                return
            induct = self.inducts[self._orders_seen % len(self.inducts)]
            self._orders_seen += 1
            at = now + self.transit
            for label in unit_labels(order_id, quantities):
                self._put(Instant(at), label, induct)
                at += self.unit_gap
        elif status in TERMINAL:
            self._quantities.pop(order_id, None)

    def _on_confirm(self, now: Instant, payload: bytes) -> None:
        data = _fields(payload, "itemId", "result")
        if data is None:
            return
        item_id, result = str(data["itemId"]), str(data["result"])
        if result == "RECIRCULATED":
            return  # still on the belt
        label = self._label_of.pop(item_id, None)
        if result == "REJECTED" and label is not None:
            self.counts["reworked"] += 1
            induct = self.inducts[self.counts["reworked"] % len(self.inducts)]
            self._put(Instant(now + self.rework), label, induct)

    def _put(self, at: Instant, label: str, induct: str) -> None:
        self.counts["units_put"] += 1
        heapq.heappush(self._due, (at, self.counts["units_put"], label, induct))
