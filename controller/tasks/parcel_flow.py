"""Robotic sortation: parcels wait at inducts, robots carry each one to a chute of its destination.

Small robots sort at Singles-Day scale without a conveyor loop; this is the controller's side
(``robotic_sortation.enabled``; ``docs/sortation.md``; a mixed site's picked orders come too):

* an induct announces each parcel waiting there (the sorter protocol's ``inducted``, ``barcode``
  ``{destination}:{parcelId}``); it joins that induct's queue;
* each assignment cycle, every induct with parcels waiting and fewer than ``robots_per_induct``
  robots bound to it gets slots; idle robots are matched to slots by OR-Tools (path distance to
  the induct, plus ``backlog_weight_cells`` per parcel fewer waiting than at the busiest induct,
  so long queues are served first);
* a slot's parcel is the first in the queue whose destination has an open chute with room: the
  nearest to the induct (:class:`~controller.tasks.chutes.ChuteBoard`); a parcel whose
  destination no chute serves fails at once, with that reason; one whose chutes are all full or
  closed waits (the reason is logged once) while the parcels behind it go;
* the trip has two stops: ``pick`` at the induct (the operator's load, ``load_s``) and ``drop`` on
  the chute's drop cell (the tip, ``tip_s``). Once loaded the controller publishes ``destination``
  (the induct's display shows the chute), and when the chute turns FULL before the robot's tip is
  planned, the parcel is rerouted to another open chute of its destination (``destination`` again);
* a parcel on a lost robot waits ``lost_parcel_timeout_s`` for it to come back and tip it, then
  fails, and the robot's trip loses its tip (:mod:`controller.tasks.lost_aboard`).

Pure: no clock reads, no randomness; every iteration is in a stable order.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Sequence

import numpy as np

from bus.clock import Instant, seconds
from bus.recent import RecentWindow
from bus.sorter_protocol import (
    ChuteState,
    Inducted,
    ProtocolError,
    SorterOutbox,
    decode,
    parse_sorter_topic,
    sorter_topic,
)
from bus.transport import Envelope
from controller.config import RoboticSortationConfig
from controller.execution.trips import Stop, Trip
from controller.sortation.planner import SorterInbound
from controller.tasks.chutes import ChuteBoard
from controller.tasks.lost_aboard import LostAboard
from controller.tasks.parcel import Parcel, ParcelFleet
from controller.tasks.visits import min_cost_matching
from warehouse_maps.grid import Cell
from warehouse_maps.layout import Layout, PlaceKind

log = logging.getLogger("bulletyard.controller.parcels")
SCAN_LIMIT = 64
"""Parcels of one induct's queue looked at per cycle for a chute (a queue far above capacity is long)."""
UNREACHABLE_COST = 1 << 20
"""Matching cost of a robot that cannot reach an induct (it is chosen only when nothing else is)."""


class ParcelFlow:
    """See the module docstring.

    Args:
        site: topic level of the sorter topics.
        layout: its inducts and chutes.
        config: the robotic sortation settings.
        fleet: the robots' side; a parcel is rerouted only while its tip (stop 1) is not yet planned.
    """

    def __init__(self, site: str, layout: Layout, config: RoboticSortationConfig, fleet: ParcelFleet) -> None:
        places = sorted(layout.of_kind(PlaceKind.INDUCT), key=lambda p: (len(p.id), p.id))
        if not places:
            raise ValueError(f"layout {layout.name} has no inducts for robotic sortation")
        self.site = site
        self.config = config
        self.board = ChuteBoard(layout, config.chute_capacity, config.destinations)
        self.inducts = {p.id: p.cell for p in places}
        tables = layout.grid.distance_tables(self.inducts.values())
        self._tables = dict(zip(self.inducts, tables, strict=True))
        self.queues: dict[str, deque[str]] = {i: deque() for i in self.inducts}
        self.bound: Counter[str] = Counter()  # robots on their way to an induct, not yet loaded
        self.parcels: dict[str, Parcel] = {}  # open parcels only
        self.trips: dict[str, Trip] = {}
        self.counts: Counter[str] = Counter()
        self.failed_reasons: Counter[str] = Counter()
        self.held_reasons: Counter[str] = Counter()
        self.fleet = fleet
        self.lost_aboard = LostAboard(config.lost_parcel_timeout_s, fleet)
        self.outbox = SorterOutbox(site, config.sorter_id)
        self.outcomes: list[tuple[str, str | None]] = []  # (order, None: sorted | why it failed)
        # parcels announced in the last hour (a repeat is refused; a shift's ids are not all kept)
        self._seen: RecentWindow[bool] = RecentWindow(seconds(3600.0), 200_000)
        self._next_trip = 0

    # -- messages -------------------------------------------------------------------------------
    def subscriptions(self) -> list[tuple[str, int]]:
        """(filter, qos): parcels announced at inducts and chute states."""
        sid = self.config.sorter_id
        return [(sorter_topic(self.site, sid, k), 1) for k in ("inducted", "chuteState")]

    def owns(self, topic: str) -> bool:
        """True for this robotic sorter's topics."""
        parsed = parse_sorter_topic(topic)
        return parsed is not None and parsed[:2] == (self.site, self.config.sorter_id)

    def decode(self, msg: Envelope) -> SorterInbound | None:
        """The typed value of a parcel or chute message (None: not read here, or bad input, which
        is counted and logged once)."""
        parsed = parse_sorter_topic(msg.topic)
        kind = parsed[2] if parsed else ""
        if kind not in ("inducted", "chuteState"):
            return None
        try:
            body = decode(kind, msg.payload, msg.topic)
        except ProtocolError as err:
            self._bad(str(err))
            return None
        assert isinstance(body, Inducted | ChuteState)
        return SorterInbound(msg.topic, self.config.sorter_id, body)

    def on_message(self, now: Instant, msg: SorterInbound) -> list[Envelope]:
        """A parcel at an induct or a chute's new state."""
        body = msg.body
        if isinstance(body, Inducted):
            return self._arrived(now, body)
        assert isinstance(body, ChuteState)
        if body.chute_id not in self.board.chutes:
            self._bad(f"{msg.topic}: unknown chute {body.chute_id!r}")
            return []
        out = self._releases(now, self.board.on_state(body.chute_id, body.state))
        if body.state != "OPEN":
            out.extend(self._reroute(now, body.chute_id))
        return out

    def _arrived(self, now: Instant, msg: Inducted) -> list[Envelope]:
        pid = msg.item_id
        if msg.induct_id not in self.inducts:
            self._bad(f"parcel {pid}: unknown induct {msg.induct_id!r}")
            return []
        if pid in self._seen or pid in self.parcels:
            self.counts["duplicate_parcels"] += 1
            return []
        return self._enqueue(now, Parcel(pid, msg.barcode.split(":", 1)[0], msg.induct_id, now))

    def add_order(self, now: Instant, order_id: str, destination: str, near: Cell) -> list[Envelope]:
        """A mixed site: an order picked at a station (at ``near``) becomes a parcel at the induct
        nearest that station (a conveyor takes it there); the order ends when its parcel does."""
        induct = min(self.inducts, key=lambda i: (int(self._tables[i][near[1], near[0]]) % (1 << 30), i))
        self.counts["from_orders"] += 1
        return self._enqueue(now, Parcel(f"{order_id}/parcel", destination, induct, now, order_id=order_id))

    def _enqueue(self, now: Instant, parcel: Parcel) -> list[Envelope]:
        """A new parcel joins its induct's queue, or fails when no chute serves its destination."""
        self._seen.add(now, parcel.parcel_id, True)
        self.counts["arrived"] += 1
        if not self.board.chutes_of(parcel.destination):
            return self._fail(now, parcel, f"no chute serves destination {parcel.destination!r}")
        self.parcels[parcel.parcel_id] = parcel
        self.queues[parcel.induct].append(parcel.parcel_id)
        return []

    def carries(self, order_id: str) -> bool:
        """True while the order's parcel is waiting or on a robot (a mixed site)."""
        return f"{order_id}/parcel" in self.parcels

    def take_outcomes(self) -> list[tuple[str, str | None]]:
        """Orders whose parcel ended since the last call: (order, None) sorted, (order, why) failed."""
        out, self.outcomes = self.outcomes, []
        return out

    def _bad(self, text: str) -> None:
        if self.counts["bad_messages"] == 0:
            log.warning("robotic sortation: %s", text)
        self.counts["bad_messages"] += 1

    # -- assignment -----------------------------------------------------------------------------
    def plan(self, now: Instant, robots: Sequence[tuple[str, Cell]],
             blocked: frozenset[Cell]) -> list[tuple[str, Trip]]:
        """Idle robots (with the cell their plan ends on) to induct slots; the trips started."""
        self._evacuate(blocked)
        if not robots:
            return []
        slots: list[tuple[str, Parcel]] = []
        for induct in self.inducts:
            if self.inducts[induct] in blocked:
                continue
            room = self.config.robots_per_induct - self.bound[induct]
            for parcel in self._ready(now, induct, room, blocked):
                slots.append((induct, parcel))
        pairs = sorted(min_cost_matching(self._slot_costs(robots, slots))) if slots else []
        started = [(robots[i][0], self._start(*slots[j])) for i, j in pairs]
        matched = {j for _, j in pairs}
        for j, (_, parcel) in enumerate(slots):
            if j not in matched:  # no robot this cycle: its chute is chosen again next time
                assert parcel.chute is not None
                self.board.uncommit(parcel.chute)
                parcel.chute = None
        return started

    def _evacuate(self, blocked: frozenset[Cell]) -> None:
        """Parcels waiting at an induct whose cell a lost robot blocks go to the nearest induct that is
        not blocked (operators carry them over); a robot on its way for one is sent there too while
        its load is not yet planned."""
        usable = [i for i, c in self.inducts.items() if c not in blocked]
        for induct, cell in self.inducts.items():
            if cell not in blocked or not usable or not self.queues[induct]:
                continue
            to = min(usable, key=lambda i: (int(self._tables[i][cell[1], cell[0]]) % (1 << 30), i))
            for pid in list(self.queues[induct]):
                parcel = self.parcels[pid]
                tid = parcel.trip_id
                if tid is not None and self.fleet.stops_planned(tid) != 0:
                    continue  # its robot is about to load it (or stands blocked itself)
                if tid is not None:
                    stops = (self._load_stop(to, parcel), self.trips[tid].stops[1])
                    trip = self.trips[tid] = Trip(tid, stops, "parcel", (pid,))
                    self.fleet.amend(trip)
                    self.bound[induct] -= 1
                    self.bound[to] += 1
                self.queues[induct].remove(pid)
                self.queues[to].append(pid)
                parcel.induct = to
                self.counts["moved_from_blocked_induct"] += 1
                log.warning("parcel %s moved from induct %s (blocked at %s) to %s", pid, induct, cell, to)

    def _slot_costs(self, robots: Sequence[tuple[str, Cell]], slots: list[tuple[str, Parcel]]) -> np.ndarray:
        """Robots x slots: path steps to the slot's induct, plus ``backlog_weight_cells`` per parcel
        fewer waiting there than at the busiest induct."""
        waiting = self.waiting()
        most = max(waiting.values())
        cost = np.empty((len(robots), len(slots)), dtype=np.int64)
        cells = np.asarray([c for _, c in robots], dtype=np.int64).reshape(-1, 2)
        for j, (induct, _) in enumerate(slots):
            d = self._tables[induct][cells[:, 1], cells[:, 0]].astype(np.int64)
            d[d < 0] = UNREACHABLE_COST
            cost[:, j] = d + int(round(self.config.backlog_weight_cells * (most - waiting[induct])))
        return cost

    def _ready(self, now: Instant, induct: str, room: int, blocked: frozenset[Cell]) -> list[Parcel]:
        """Up to ``room`` parcels of the induct's queue, in order, that have a chute now (chosen and
        committed); parcels that have none wait, with the reason logged once."""
        out: list[Parcel] = []
        if room <= 0:
            return out
        table = self._tables[induct]
        for k, pid in enumerate(self.queues[induct]):
            if k >= SCAN_LIMIT:
                break
            parcel = self.parcels[pid]
            if parcel.trip_id is not None:
                continue
            choice = self.board.choose(parcel.destination, table, blocked)
            if choice.chute is None:
                if not parcel.held_reason:
                    parcel.held_reason = choice.reason
                    self.counts["held_at_induct"] += 1
                    self.held_reasons[choice.reason.split(" (")[0]] += 1
                    log.info("parcel %s waits at %s: %s", pid, induct, choice.reason)
                continue
            parcel.chute = choice.chute
            self.board.commit(choice.chute)
            out.append(parcel)
            if len(out) >= room:
                break
        return out

    def _start(self, induct: str, parcel: Parcel) -> Trip:
        self._next_trip += 1
        tid = f"R{self._next_trip:07d}"
        assert parcel.chute is not None
        trip = Trip(tid, (self._load_stop(induct, parcel), self._tip_stop(parcel.parcel_id, parcel.chute)),
                    kind="parcel", order_ids=(parcel.parcel_id,))
        parcel.trip_id = tid
        self.trips[tid] = trip
        self.bound[induct] += 1
        self.counts["trips"] += 1
        return trip

    def _load_stop(self, induct: str, parcel: Parcel) -> Stop:
        return Stop(self.inducts[induct], "pick",
                    (("parcelId", parcel.parcel_id), ("inductId", induct), ("duration", self.config.load_s)))

    def _tip_stop(self, parcel_id: str, chute: str) -> Stop:
        return Stop(self.board.chutes[chute].cell, "drop",
                    (("parcelId", parcel_id), ("chuteId", chute), ("duration", self.config.tip_s)))

    # -- progress -------------------------------------------------------------------------------
    def stop_done(self, now: Instant, trip: Trip, stop_index: int) -> list[Envelope]:
        """Stop 0: the parcel is on the robot (the induct calls its next robot); stop 1: tipped."""
        parcel = self.parcels.get(trip.order_ids[0]) if trip.order_ids else None
        if parcel is None or parcel.trip_id != trip.trip_id:
            return []
        if stop_index == 0:
            parcel.loaded = True
            self.bound[parcel.induct] -= 1
            self.queues[parcel.induct].remove(parcel.parcel_id)
            self.counts["loaded"] += 1
            return [self._destination(now, parcel)]
        assert parcel.chute is not None
        self.trips.pop(trip.trip_id, None)
        self.parcels.pop(parcel.parcel_id)
        self.counts["sorted"] += 1
        if parcel.order_id is not None:
            self.outcomes.append((parcel.order_id, None))
        return self._releases(now, self.board.tipped(parcel.chute))

    def robot_lost(self, now: Instant, serial: str, returned: Trip | None,
                   carried: Trip | None) -> list[Envelope]:
        """A robot was lost. ``returned``: its trip left it (the parcel waits for another robot, or fails
        if on board); ``carried``: the trip stays with it, the parcel on board waits (:meth:`expire_lost`)."""
        out: list[Envelope] = []
        for trip, kept in ((returned, False), (carried, True)):
            if trip is None or trip.kind != "parcel":
                continue
            parcel = self.parcels.get(trip.order_ids[0])
            if parcel is None or parcel.trip_id != trip.trip_id:
                continue
            if parcel.loaded and kept:
                self.counts["lost_with_robot"] += self.lost_aboard.add(parcel.parcel_id, serial, trip.trip_id)
            elif parcel.loaded:
                out.extend(self._give_up(now, parcel, f"robot {serial} was lost with the parcel on board"))
            else:
                self.trips.pop(trip.trip_id, None)
                assert parcel.chute is not None
                out.extend(self._releases(now, self.board.uncommit(parcel.chute)))
                self.bound[parcel.induct] -= 1
                parcel.trip_id, parcel.chute = None, None
                self.counts["returned_to_queue"] += 1
        return out

    def expire_lost(self, now: Instant) -> list[Envelope]:
        """Parcels on lost robots: those whose robot is back ride on; those whose robot has been
        lost ``lost_parcel_timeout_s`` fail and their robot's trip loses its tip (:mod:`.lost_aboard`)."""
        back, expired = self.lost_aboard.check(now)
        if back:
            self.counts["back_with_robot"] += len(back)
        out: list[Envelope] = []
        for pid, reason in expired:
            parcel = self.parcels.get(pid)
            if parcel is not None and parcel.trip_id is not None:
                self.fleet.abandon(parcel.trip_id)
                out.extend(self._give_up(now, parcel, reason))
        return out

    def _reroute(self, now: Instant, chute: str) -> list[Envelope]:
        """Parcels heading to a chute that is no longer open go to another open chute of their
        destination while their tip is not yet planned (the others still tip there: the chute
        closes only once they have, see :mod:`controller.tasks.chutes`)."""
        out: list[Envelope] = []
        for pid in sorted(p.parcel_id for p in self.parcels.values() if p.chute == chute and p.trip_id):
            parcel = self.parcels[pid]
            tid = parcel.trip_id
            assert tid is not None
            if self.fleet.stops_planned(tid) not in (0, 1):
                continue
            choice = self.board.choose(parcel.destination, self._tables[parcel.induct])
            if choice.chute is None:
                continue
            trip = self.trips[tid]
            new = Trip(tid, (trip.stops[0], self._tip_stop(pid, choice.chute)), trip.kind, trip.order_ids)
            self.fleet.amend(new)
            self.trips[tid] = new
            self.board.commit(choice.chute)
            out.extend(self._releases(now, self.board.uncommit(chute)))
            parcel.chute = choice.chute
            self.counts["rerouted"] += 1
            if parcel.loaded:
                out.append(self._destination(now, parcel))
        return out

    # -- outbound -------------------------------------------------------------------------------
    def _give_up(self, now: Instant, parcel: Parcel, reason: str) -> list[Envelope]:
        """A parcel on a robot leaves robotic sortation: its trip is forgotten, its chute uncommitted."""
        self.trips.pop(parcel.trip_id or "", None)
        self.parcels.pop(parcel.parcel_id)
        assert parcel.chute is not None
        return self._releases(now, self.board.uncommit(parcel.chute)) + self._fail(now, parcel, reason)

    def _fail(self, now: Instant, parcel: Parcel, reason: str) -> list[Envelope]:
        """The parcel cannot be sorted by robots: it goes to manual handling, with the reason."""
        log.warning("parcel %s at %s: %s", parcel.parcel_id, parcel.induct, reason)
        if parcel.order_id is not None:
            self.outcomes.append((parcel.order_id, f"its parcel: {reason}"))
        self.counts["failed"] += 1
        self.failed_reasons["robot lost with the parcel" if "lost" in reason else reason] += 1
        return [self.outbox.envelope(now, "divertConfirm", item_id=parcel.parcel_id, chute_id="reject",
                                     result="REJECTED", reason=reason)]

    def _destination(self, now: Instant, parcel: Parcel) -> Envelope:
        return self.outbox.envelope(now, "destination", item_id=parcel.parcel_id, chute_id=parcel.chute)

    def _releases(self, now: Instant, chutes: list[str]) -> list[Envelope]:
        self.counts["chute_releases"] += len(chutes)
        return [self.outbox.envelope(now, "chuteRelease", chute_id=cid) for cid in chutes]

    def waiting(self) -> dict[str, int]:
        """Parcels waiting per induct (not yet on a robot)."""
        return {i: len(q) for i, q in self.queues.items()}

