"""The controller's link between orders and the conveyor sorter.

Why: an order at a sorting site is done when its goods are in its destination's chute, not when
the robot has brought the pod back. This module owns that bookkeeping for the controller core:
it checks each order's ``destination`` against the chute plan, registers one parcel label per
picked unit with the :class:`~controller.sortation.planner.SortationPlanner` (which answers the
sorter), and counts the units sorted per order.

Labels: unit ``u`` (from 0) of line ``i`` (from 0, in WMS order) of order ``O`` carries the
barcode ``O/i/u`` (see ``docs/protocol-sorter.md``); whoever puts the unit on the conveyor (the
pick station) prints that label. A unit that ends in reject is handled by people and inducted
again with the same label, so it is still counted once when it is finally sorted.

No clock, no randomness: time comes in as ``now``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field

from bus.clock import Instant
from bus.sorter_protocol import parse_sorter_topic, unit_labels
from bus.transport import Envelope
from controller.config import ControllerConfigError, SortationConfig
from controller.orders.model import Order, OrderRefused
from controller.sortation.events import ItemInducted, ItemRejected, ItemSorted
from controller.sortation.mapping import balanced_plan
from controller.sortation.planner import SortationPlanner, SorterInbound


@dataclass(frozen=True, slots=True)
class SorterNews:
    """What one sorter message means for the controller.

    Attributes:
        replies: the planner's answers to the sorter.
        units_sorted: (order, label) of each unit newly in a chute (for the journal).
        items: (order, sorter, item id, label) of each item of ours put on the line (for the
            journal: a restarted controller credits their confirms).
        all_inducted: orders whose last unit just went on the line (status ``inducted``).
        all_sorted: orders whose last unit just reached its chute (status ``sorted``).
    """

    replies: list[Envelope]
    units_sorted: list[tuple[str, str]]
    items: list[tuple[str, str, str, str]]
    all_inducted: list[str]
    all_sorted: list[str]


def chute_ids(count: int) -> list[str]:
    """``c001``... as the sorter names its destination chutes."""
    return [f"c{k:03d}" for k in range(1, count + 1)]


@dataclass(slots=True)
class _Units:
    labels: list[str]
    inducted: set[str] = field(default_factory=set)  # on the line or beyond (sorted ones too)
    sorted: set[str] = field(default_factory=set)
    rejected: int = 0


class SortationLink:
    """Orders <-> sorter for one site.

    Args:
        site: topic level of the sorter topics.
        sorter: the layout's ``equipment.sorter`` mapping (``chutes``: how many).
        config: the controller's sortation settings.
    """

    def __init__(self, site: str, sorter: Mapping[str, object], config: SortationConfig) -> None:
        chutes = int(sorter.get("chutes", 0))  # type: ignore[call-overload]
        if chutes < 1:
            raise ControllerConfigError(
                "sortation.enabled: the layout's sorter has no chutes (equipment.sorter.chutes)"
            )
        count = config.destinations or max(1, chutes // 2)
        names = [f"D{k:03d}" for k in range(1, count + 1)]
        # a destination is a group (D001...) or one chute named directly (c001...), as WMSs do both
        self.plan = {**balanced_plan(dict.fromkeys(names, 1.0), chute_ids(chutes)),
                     **{c: (c,) for c in chute_ids(chutes)}}
        self.groups = names  # the destination groups, D001...
        self.planner = SortationPlanner(site, self.plan, strategy=config.strategy)
        self.site = site
        self._units: dict[str, _Units] = {}

    def subscriptions(self) -> list[tuple[str, int]]:
        """(filter, qos): the sorter messages the planner reads."""
        return [(f, 1) for f in self.planner.subscriptions()]

    def owns(self, topic: str) -> bool:
        """True for this site's sorter topics."""
        parsed = parse_sorter_topic(topic)
        return parsed is not None and parsed[0] == self.site

    def check(self, order: Order) -> None:
        """Refuse an order the sorter cannot sort: one whose destination the plan does not know.

        An order without a destination is not sorted (its goods leave the station another way,
        e.g. packed there): it is complete once picked, as at a site without a sorter."""
        if order.destination is not None and order.destination not in self.plan:
            groups = sorted(d for d in self.plan if d.startswith("D"))
            chutes = sorted(d for d in self.plan if not d.startswith("D"))
            raise OrderRefused(
                f"unknown destination {order.destination!r} (this site sorts to {groups[0]}..{groups[-1]} "
                f"or to a chute {chutes[0]}..{chutes[-1]})"
            )

    def register(self, order: Order, already_sorted: Set[str] = frozenset(),
                 on_line: Sequence[tuple[str, str, str]] = ()) -> None:
        """Expect the order's units: one label per unit, each sorted to the order's destination.
        A restarted controller passes what its journal knows: ``already_sorted`` labels, and
        ``on_line`` (sorter_id, item_id, label) of items on the belt whose confirm is still to come.
        An order without a destination is not tracked (:meth:`all_sorted` is True for it)."""
        if order.destination is None:
            return
        labels = unit_labels(order.id, [line.quantity for line in order.lines])
        for label in labels:
            self.planner.register_parcel(label, order.id, order.destination)
        done = set(already_sorted) & set(labels)
        units = self._units[order.id] = _Units(labels, inducted=set(done), sorted=done)
        for sorter_id, item_id, label in on_line:
            if label in labels:
                units.inducted.add(label)
                self.planner.adopt(sorter_id, item_id, label)

    def decode(self, msg: Envelope) -> SorterInbound | None:
        """The typed value of a message on this site's sorter topics (None: not read, or bad
        input the planner counted)."""
        return self.planner.decode(msg)

    def handle(self, now: Instant, msg: SorterInbound) -> SorterNews:
        """Feed one sorter message to the planner: its replies, and what it means for orders."""
        out = self.planner.on_message(now, msg)
        units_sorted: list[tuple[str, str]] = []
        items: list[tuple[str, str, str, str]] = []
        done: list[str] = []
        on_line: list[str] = []
        for event in self.planner.take_events():
            units = self._units.get(event.order_id) if event.order_id else None
            if units is None:
                continue  # a parcel that belongs to no order we know (counted by the planner)
            if isinstance(event, ItemInducted) and event.barcode in units.labels:
                items.append((event.order_id, event.sorter_id, event.item_id, event.barcode))  # type: ignore[arg-type]
                if event.barcode not in units.inducted:  # a reworked unit comes again: once
                    units.inducted.add(event.barcode)
                    if len(units.inducted) == len(units.labels):
                        on_line.append(event.order_id)  # type: ignore[arg-type]
            elif isinstance(event, ItemSorted) and event.barcode in units.labels:
                if event.barcode in units.sorted:
                    continue  # the same label sorted twice (a duplicate label): counted once
                units.sorted.add(event.barcode)
                units.inducted.add(event.barcode)  # (its inducted message may have come to a predecessor)
                units_sorted.append((event.order_id, event.barcode))  # type: ignore[arg-type]
                if len(units.sorted) == len(units.labels):
                    done.append(event.order_id)  # type: ignore[arg-type]
            elif isinstance(event, ItemRejected):
                units.rejected += 1
        return SorterNews(out, units_sorted, items, on_line, done)

    def all_sorted(self, order_id: str) -> bool:
        """True once every unit of the order is in a chute (True for orders not tracked here)."""
        units = self._units.get(order_id)
        return units is None or len(units.sorted) >= len(units.labels)

    def forget(self, order_id: str) -> None:
        """Drop a finished order's labels and counts (they would otherwise pile up over a shift)."""
        units = self._units.pop(order_id, None)
        for label in units.labels if units is not None else ():
            self.planner.parcels.pop(label, None)
        for item in [i for i, f in self.planner.in_flight.items() if f.order_id == order_id]:
            del self.planner.in_flight[item]  # e.g. adopted items whose confirm never came
