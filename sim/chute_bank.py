"""The chutes of a robotic sortation area, simulated: bags that fill, are swapped, and a sensor.

Why a participant of its own: a chute learns of a parcel only by the parcel falling into it, not
from the controller. It reads every vehicle's VDA ``state``; a parcel (a load named by the
induct's ``destination``) that leaves a robot standing on a chute's drop cell fell into that chute
(the light curtain of a real chute). It then publishes ``divertConfirm`` (``SORTED``) and
``chuteState`` with its fill, turns ``FULL`` when the bag holds ``capacity`` parcels, closes
(``CLOSED``) for ``swap_s`` seconds once the controller sends ``chuteRelease`` (nothing more on
its way), and opens again, empty.

It also checks the controller: a parcel tipped into a chute that is closed, or released, or a
parcel set down anywhere but on a drop cell, is counted in :attr:`ChuteBank.violations` (tests
assert there are none). An operator may ask to swap a bag early (:meth:`ChuteBank.close_chute`,
``--chute-close ID@T``): the chute turns ``FULL`` at once and closes on the release.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bus import wire_json
from bus.clock import Instant, seconds
from bus.sorter_protocol import ChuteRelease, ProtocolError, SorterOutbox, decode
from bus.topics import VdaTopic, sorter_topic, vda_filter
from bus.transport import Envelope
from warehouse_maps.grid import Cell
from warehouse_maps.layout import Layout, PlaceKind


@dataclass(slots=True)
class _Bag:
    chute_id: str
    state: str = "OPEN"
    fill: int = 0
    released: bool = False
    reopen_at: Instant | None = None
    swaps: int = 0


class ChuteBank:
    """See the module docstring.

    Args:
        layout: its chute places (drop cells).
        site, sorter_id: the robotic sorter's topic levels.
        capacity: parcels a bag holds.
        swap_s: seconds an operator needs to swap a full bag.
    """

    def __init__(self, layout: Layout, site: str, sorter_id: str, capacity: int, swap_s: float) -> None:
        self.layout = layout
        self.site = site
        self.sorter_id = sorter_id
        self.capacity = capacity
        self.swap_s = swap_s
        chutes = layout.of_kind(PlaceKind.CHUTE)
        self.at_cell: dict[Cell, str] = {p.cell: p.id for p in chutes}
        self.bags = {p.id: _Bag(p.id) for p in sorted(chutes, key=lambda p: p.id)}
        self.loads: dict[str, set[str]] = {}  # robot -> load ids it carried at its last state
        self.parcels: set[str] = set()  # parcels on robots (the induct's ``destination``), not yet tipped
        self.tipped: dict[str, str] = {}  # parcel id -> chute
        self.violations: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()
        self._pending: list[Envelope] = []
        self._swapping: set[str] = set()  # chutes whose bag is being swapped (a few of thousands)
        self.outbox = SorterOutbox(site, sorter_id)
        self._due_now = False

    # -- participant ----------------------------------------------------------------------------
    def subscriptions(self) -> list[tuple[str, int]]:
        """Every vehicle's state, the controller's releases and the parcels loaded at the inducts."""
        return [(vda_filter(VdaTopic.STATE), 0), (self._topic("chuteRelease"), 1),
                (self._topic("destination"), 1)]

    def on_connect(self, now: Instant) -> list[Envelope]:
        """Every chute's state (the controller learns the bags after a restart)."""
        return [self._state(now, bag) for bag in self.bags.values()]

    def will(self) -> Envelope | None:
        """No will."""
        return None

    def handle(self, now: Instant, msg: Envelope) -> list[Envelope]:
        """A vehicle state (loads that left a robot), a release, or a parcel loaded (``destination``)."""
        if msg.topic.endswith("/destination"):
            try:
                self.parcels.add(str(wire_json.loads(msg.payload)["itemId"]))
            except (ValueError, KeyError, TypeError):
                self.counts["bad_messages"] += 1
            return []
        if msg.topic.endswith("/chuteRelease"):
            try:
                body = decode("chuteRelease", msg.payload, msg.topic)
            except ProtocolError:
                self.counts["bad_messages"] += 1
                return []
            assert isinstance(body, ChuteRelease)
            return self._release(now, body.chute_id)
        if b'"loadId"' not in msg.payload and not self.loads.get(msg.topic.split("/")[-2]):
            return []  # carries nothing and carried nothing: most states (parsing them all cost time)
        try:
            state = wire_json.loads(msg.payload)
            serial = str(state["serialNumber"])
            loads = {str(ld.get("loadId")) for ld in state.get("loads") or ()}
            pos = state.get("agvPosition") or {}
            cell = self.layout.cell_at_m(float(pos["x"]), float(pos["y"])) if pos else None
        except (ValueError, KeyError, TypeError, AttributeError):
            self.counts["bad_states"] += 1
            return []
        before = self.loads.get(serial, set())
        self.loads[serial] = loads
        out: list[Envelope] = []
        for load_id in sorted((before - loads) & self.parcels):  # pods at a mixed site are loads too
            out.extend(self._tip(now, serial, load_id, cell))
        return out

    def tick(self, now: Instant) -> list[Envelope]:
        """Bags whose swap is over open again; an operator's early close goes out."""
        out, self._pending = self._pending, []
        self._due_now = False
        for bag in [self.bags[c] for c in sorted(self._swapping)]:
            if bag.reopen_at is not None and bag.reopen_at <= now:
                self._swapping.discard(bag.chute_id)
                bag.state, bag.fill, bag.released, bag.reopen_at = "OPEN", 0, False, None
                out.append(self._state(now, bag))
        return out

    def next_wakeup(self) -> Instant | None:
        """The next bag swap that ends (or now, when an operator's close waits to go out)."""
        times = [t for c in self._swapping if (t := self.bags[c].reopen_at) is not None]
        if self._due_now and self._pending:
            return Instant(0)
        return min(times) if times else None

    # -- chutes ---------------------------------------------------------------------------------
    def close_chute(self, now: Instant, chute_id: str) -> None:
        """An operator asks to swap ``chute_id``'s bag now: FULL at the next tick (the controller
        sends no more and releases it once the parcels on their way have been tipped)."""
        bag = self.bags.get(chute_id)
        if bag is None:
            raise ValueError(f"no chute {chute_id!r} (chutes {min(self.bags)}..{max(self.bags)})")
        if bag.state == "OPEN":
            bag.state = "FULL"
            self.counts["operator_closes"] += 1
            self._pending.append(self._state(now, bag))
            self._due_now = True

    def _tip(self, now: Instant, serial: str, load_id: str, cell: Cell | None) -> list[Envelope]:
        chute_id = self.at_cell.get(cell) if cell is not None else None
        if chute_id is None:
            self.parcels.discard(load_id)
            self.violations["parcel set down off a chute"] += 1
            return []
        bag = self.bags[chute_id]
        self.parcels.discard(load_id)
        if bag.state == "CLOSED" or bag.released:
            self.violations[f"tipped into a {bag.state.lower()} chute"] += 1
        bag.fill += 1
        self.tipped[load_id] = chute_id
        self.counts["sorted"] += 1
        out = [self.outbox.envelope(now, "divertConfirm", item_id=load_id, chute_id=chute_id,
                                    result="SORTED")]
        if bag.fill >= self.capacity and bag.state == "OPEN":
            bag.state = "FULL"
        out.append(self._state(now, bag))
        return out

    def _release(self, now: Instant, chute_id: str) -> list[Envelope]:
        bag = self.bags.get(chute_id)
        if bag is None or bag.state != "FULL" or bag.released:
            self.counts["ignored_releases"] += 1
            return []
        bag.released = True
        bag.state = "CLOSED"
        bag.swaps += 1
        bag.reopen_at = Instant(now + seconds(self.swap_s))
        self._swapping.add(chute_id)
        return [self._state(now, bag)]

    # -- wire -----------------------------------------------------------------------------------
    def _topic(self, kind: str) -> str:
        return sorter_topic(self.site, self.sorter_id, kind)

    def _state(self, now: Instant, bag: _Bag) -> Envelope:
        return self.outbox.envelope(now, "chuteState", chute_id=bag.chute_id, state=bag.state,
                                    fill_items=bag.fill, capacity_items=self.capacity)

    def fill_levels(self) -> list[tuple[str, float]]:
        """(chute, fill as a share of the bag) for every chute."""
        return [(cid, bag.fill / self.capacity) for cid, bag in self.bags.items()]
