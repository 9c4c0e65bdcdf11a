"""Goods-to-person operations: orders released to stations, pods chosen for pile-on, pods put away.

Why: a pod visit costs a robot trip and a pod exchange at the station, whatever it serves; the
throughput of a robotic mobile fulfilment system is set by how many order lines each visit
serves (*pile-on*, Merschformann et al. 2019, RAWSim-O). This module is the live controller's one
order and inventory model (``rule="pileon"``, the default):

* orders are released to stations, each holding at most ``station_open_orders`` (a put wall),
  to the station whose open lines and bound pods share most of their SKUs;
* per station under its ``robots_per_station`` cap, the pod at rest serving most of its open
  lines is chosen and the units reserved (:class:`Inventory`: never promised twice); open lines
  join pods already on their way; robots are matched to pods by OR-Tools;
* after the station the pod goes to the free storage place nearest it (``StoragePlaces``).
``docs/operations.md`` gives the rules and defaults in full.

``rule="greedy"`` is the old baseline kept for comparison on the same model: orders first come
first served, one trip per order and pod, pods back to their own place, no robot cap.

Trips are :class:`controller.execution.trips.Trip` (three stops: ``pick`` the pod, ``wait`` at the
station for ``lines x pick_time_s`` seconds, ``drop`` it on its place). Pure: no clock reads, no
randomness; every iteration is in a stable order.
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Callable, Sequence

import numpy as np

from bus.clock import Instant
from controller.execution.trips import Trip
from controller.orders.inventory import Inventory
from controller.orders.model import Order, OrderRefused
from controller.slotting.putaway import PutAway, StoragePlaces
from controller.tasks.visits import (
    RELEASE_SLACK,
    Line,
    OpsConfig,
    OrderState,
    Picked,
    Visit,
    match_robots,
    pod_trip,
)
from warehouse_maps.grid import Cell
from warehouse_maps.layout import Layout, PlaceKind


class Operations:
    """See the module docstring.

    Args:
        layout: the floor (pick stations, storage places).
        inventory: stock per (pod, SKU); pods start on the storage place at their cell.
        config: rules and defaults.
    """

    def __init__(self, layout: Layout, inventory: Inventory, config: OpsConfig | None = None) -> None:
        self.config = config or OpsConfig()
        self.inventory = inventory
        self.grid = layout.grid
        stations = sorted(layout.of_kind(PlaceKind.PICK_STATION), key=lambda p: p.id)
        self.stations = {p.id: p.cell for p in stations}
        storage = {p.id: p.cell for p in layout.of_kind(PlaceKind.STORAGE)}
        pods = {pod.id: pod.home for pod in inventory.pods}
        self.places = StoragePlaces.at_cells(self.grid, storage, pods, self.stations.values())
        self._st_dist = {s: self.grid.distance_table(c) for s, c in self.stations.items()}
        self.orders: dict[str, OrderState] = {}
        self.backlog: deque[str] = deque()  # accepted, not yet released to a station
        self.at_station: dict[str, list[str]] = {s: [] for s in self.stations}  # open orders per station
        self.visits: dict[str, Visit] = {}  # trip id -> visit, until the pod is set down
        self.busy_pods: set[str] = set()
        self.counters: Counter[str] = Counter()
        self._next_trip = 0

    # -- intake ---------------------------------------------------------------------------------
    def check(self, order: Order) -> None:
        """Raise :class:`OrderRefused` when the order cannot be done here."""
        if not self.stations:
            raise OrderRefused("impossible: the layout has no pick station")
        for i, line in enumerate(order.lines):
            if not self.inventory.knows(line.sku):
                raise OrderRefused(f"impossible: lines[{i}].sku {line.sku!r} is not stocked")
            if self.inventory.capacity(line.sku) < line.quantity:
                raise OrderRefused(
                    f"impossible: lines[{i}] wants {line.quantity} x {line.sku}, more than any pod holds"
                )

    def accept(self, order: Order, now: Instant) -> None:
        """Queue an order for release to a station."""
        lines = [Line(order.id, i, ln.sku, ln.quantity) for i, ln in enumerate(order.lines)]
        self.orders[order.id] = OrderState(order, now, open_lines=lines, lines_left=len(lines))
        self.backlog.append(order.id)

    def drop_orders(self, order_ids: set[str]) -> None:
        """Forget failed orders: their unreserved lines leave; reserved ones stay with their pod
        (released in :meth:`lost` or picked and discarded) so stock stays consistent."""
        for oid in sorted(order_ids):
            st = self.orders.pop(oid, None)
            if st is None:
                continue
            if st.station is not None and oid in self.at_station[st.station]:
                self.at_station[st.station].remove(oid)
        self.backlog = deque(o for o in self.backlog if o in self.orders)

    # -- planning -------------------------------------------------------------------------------
    def plan(
        self,
        now: Instant,
        robots: Sequence[tuple[str, Cell]],
        blocked: frozenset[Cell],
        amendable: Callable[[str], bool],
    ) -> tuple[list[tuple[str, Trip]], list[Trip], set[str]]:
        """One assignment cycle.

        Args:
            now: the cycle's time (ages).
            robots: idle robots allowed to work, with the cell their plan ends on.
            blocked: cells nobody may use (pods, stations and places there are skipped).
            amendable: trip id -> True while its robot's plan has not reached the station.

        Returns:
            (robot, new trip) pairs, amended trips (same id, more lines), and the orders given
            their first trip this cycle.
        """
        touched: set[str] = set()
        self._release(blocked)
        amended = self._add_on_the_way(amendable, touched) if self.config.rule == "pileon" else []
        if not robots:
            return [], amended, touched
        free = [s for s in self.stations if self.stations[s] not in blocked]
        if self.config.rule == "pileon":
            cands = self._pileon_candidates(now, free, len(robots), blocked)
        else:
            cands = self._greedy_candidates(free, len(robots), blocked)
        out = []
        for robot, (station, pod, lines) in self._match(robots, cands):
            trip = self._start(station, pod, lines, blocked)
            touched.update(ln.order_id for ln in lines)
            out.append((robot, trip))
        return out, amended, touched

    def _release(self, blocked: frozenset[Cell]) -> None:
        """Move backlog orders into free station slots, oldest first (greedy: every order at once,
        to the station with the fewest open orders).

        pileon: the oldest order goes to the station whose open lines and bound pods share most of
        its SKUs (so a pod visit there can serve it too), among the stations within
        ``RELEASE_SLACK`` open orders of the emptiest; when one station alone has room, it takes
        the backlog order (of the oldest 50) that its bound pods serve best (pod matching).
        """
        usable = [s for s in self.stations if self.stations[s] not in blocked]
        if self.config.rule != "pileon":
            while self.backlog and usable:
                station = min(usable, key=lambda s: (len(self.at_station[s]), s))
                self._put(self.backlog.popleft(), station)
            return
        cap = self.config.station_open_orders
        skus = {s: self._station_skus(s) for s in usable}
        while self.backlog:
            room = [s for s in usable if len(self.at_station[s]) < cap]
            if not room:
                return
            low = min(len(self.at_station[s]) for s in room)
            near = [s for s in room if len(self.at_station[s]) <= low + RELEASE_SLACK]
            if len(room) == 1:
                station = room[0]
                oid = self._pick_for(station)
                self.backlog.remove(oid)
            else:
                oid = self.backlog.popleft()
                lines = self.orders[oid].open_lines
                station = min(near, key=lambda s: (-sum(ln.sku in skus[s] for ln in lines),
                                                   len(self.at_station[s]), s))
            self._put(oid, station)
            skus[station].update(ln.sku for ln in self.orders[oid].open_lines)

    def _put(self, oid: str, station: str) -> None:
        self.orders[oid].station = station
        self.at_station[station].append(oid)

    def _station_skus(self, station: str) -> set[str]:
        """SKUs of the station's open lines and on the pods bound to it."""
        out = {ln.sku for oid in self.at_station[station] for ln in self.orders[oid].open_lines}
        for v in self.visits.values():
            if v.station == station and not v.picked:
                out.update(self.inventory.contents(v.pod))
        return out

    def _pick_for(self, station: str, window: int = 50) -> str:
        """Pod matching: of the oldest ``window`` backlog orders, the one with most lines a pod
        already bound to ``station`` can serve (ties: the oldest)."""
        bound = [v.pod for v in self.visits.values() if v.station == station and not v.picked]
        if not bound:
            return self.backlog[0]
        best, best_n = self.backlog[0], 0
        for k, oid in enumerate(self.backlog):
            if k >= window:
                break
            lines = self.orders[oid].open_lines
            n = sum(1 for ln in lines if any(self.inventory.free(p, ln.sku) >= ln.quantity for p in bound))
            if n > best_n:
                best, best_n = oid, n
        return best

    def _add_on_the_way(self, amendable: Callable[[str], bool], touched: set[str]) -> list[Trip]:
        """Open lines a pod already bound to their station can serve join that pod's visit."""
        amended: dict[str, Visit] = {}
        for tid, v in sorted(self.visits.items()):
            if v.picked or not amendable(tid):
                continue
            for oid in self.at_station[v.station]:
                st = self.orders[oid]
                for ln in list(st.open_lines):
                    if self.inventory.free(v.pod, ln.sku) >= ln.quantity:
                        self.inventory.reserve(v.pod, ln.sku, ln.quantity)
                        st.open_lines.remove(ln)
                        v.lines.append(ln)
                        amended[tid] = v
                        touched.add(oid)
        out = []
        for tid, v in amended.items():
            v.trip = self._trip(tid, v.station, v.pod, v.lines, self.places.place_of[v.pod], v.place_from)
            self.counters["lines_added_on_the_way"] += 1
            out.append(v.trip)
        return out

    def _bound_to(self) -> Counter[str]:
        return Counter(v.station for v in self.visits.values() if not v.picked)

    def _pileon_candidates(self, now: Instant, stations: list[str], limit: int,
                           blocked: frozenset[Cell]) -> list[tuple[str, str, list[Line]]]:
        """Per station under its robot cap, the pods at rest serving most of its open lines."""
        bound = self._bound_to()
        room = {s: self.config.robots_per_station - bound[s] for s in stations}
        taken: set[str] = set()
        used: set[tuple[str, int]] = set()  # lines put on a candidate pod this cycle
        out: list[tuple[str, str, list[Line]]] = []
        while len(out) < limit:
            progress = False
            for s in sorted(stations, key=lambda s: (bound[s], s)):
                if room[s] <= 0 or len(out) >= limit:
                    continue
                best = self._best_pod(now, s, taken, used, blocked)
                if best is None:
                    room[s] = 0
                    continue
                pod, lines = best
                taken.add(pod)
                used.update((ln.order_id, ln.index) for ln in lines)
                out.append((s, pod, lines))
                room[s] -= 1
                bound[s] += 1
                progress = True
            if not progress:
                break
        return out

    def _best_pod(self, now: Instant, station: str, taken: set[str], used: set[tuple[str, int]],
                  blocked: frozenset[Cell]) -> tuple[str, list[Line]] | None:
        """The pod at rest with the best score for the station's unserved lines, and those lines."""
        score: defaultdict[str, float] = defaultdict(float)
        age_unit = self.config.age_per_line_s * 1e9
        for oid in self.at_station[station]:
            st = self.orders[oid]
            bonus = (now - st.arrived) / age_unit if age_unit > 0 else 0.0
            for ln in st.open_lines:
                if (ln.order_id, ln.index) in used:
                    continue
                for pod in self.inventory.pods_with(ln.sku):
                    if pod in self.busy_pods or pod in taken:
                        continue
                    if self.inventory.free(pod, ln.sku) >= ln.quantity:
                        score[pod] += 1.0 + bonus
        if not score:
            return None
        table = self._st_dist[station]
        for pod in sorted(score, key=lambda p: (-score[p], self._dist(table, p), p)):
            cell = self.places.cell_of(pod)
            if cell in blocked or int(table[cell[1], cell[0]]) < 0:
                continue
            lines = self._lines_for(pod, self.at_station[station], used)
            if lines:
                return pod, lines
        return None

    def _lines_for(self, pod: str, order_ids: Sequence[str], used: set[tuple[str, int]]) -> list[Line]:
        """Open lines of ``order_ids`` not in ``used`` the pod's free stock covers (cumulatively)."""
        want: Counter[str] = Counter()
        out = []
        for oid in order_ids:
            for ln in self.orders[oid].open_lines:
                if (ln.order_id, ln.index) in used:
                    continue
                if self.inventory.free(pod, ln.sku) - want[ln.sku] >= ln.quantity:
                    want[ln.sku] += ln.quantity
                    out.append(ln)
        return out

    def _greedy_candidates(self, stations: list[str], limit: int,
                           blocked: frozenset[Cell]) -> list[tuple[str, str, list[Line]]]:
        """The old rule: oldest order first, one pod per trip serving that order's lines only."""
        out: list[tuple[str, str, list[Line]]] = []
        taken: set[str] = set()
        for oid in list(self.orders):
            if len(out) >= limit:
                break
            st = self.orders[oid]
            if st.station is None or not st.open_lines:
                continue
            first = st.open_lines[0]
            pods = [p for p in self.inventory.pods_with(first.sku)
                    if p not in self.busy_pods and p not in taken
                    and self.inventory.free(p, first.sku) >= first.quantity
                    and self.places.cell_of(p) not in blocked]
            if not pods:
                continue
            station = st.station
            if station not in stations:
                continue
            table = self._st_dist[station]
            pod = min(pods, key=lambda p: (self._dist(table, p), p))
            lines = self._lines_for(pod, [oid], set())
            taken.add(pod)
            out.append((station, pod, lines))
        return out

    def _dist(self, table: np.ndarray, pod: str) -> int:
        """Cells from the pod's cell to a station (a distance table), large when unreachable."""
        c = self.places.cell_of(pod)
        d = int(table[c[1], c[0]])
        return d if d >= 0 else 1 << 30

    def _match(self, robots: Sequence[tuple[str, Cell]],
               cands: list[tuple[str, str, list[Line]]]) -> list[tuple[str, tuple[str, str, list[Line]]]]:
        """Robots to candidate pods, least total travel (Manhattan cells), by OR-Tools."""
        pairs = match_robots([c for _, c in robots], [self.places.cell_of(p) for _, p, _ in cands])
        return sorted(((robots[i][0], cands[j]) for i, j in pairs), key=lambda p: p[0])

    def _start(self, station: str, pod: str, lines: list[Line], blocked: frozenset[Cell]) -> Trip:
        """Reserve the lines on the pod, claim its put-away place and build the trip."""
        for ln in lines:
            self.inventory.reserve(pod, ln.sku, ln.quantity)
            self.orders[ln.order_id].open_lines.remove(ln)
        place_from = self.places.place_of[pod]
        rule: PutAway = "nearest" if self.config.rule == "pileon" else "home"
        place = self.places.claim_for(pod, self.stations[station], rule, blocked)
        self._next_trip += 1
        tid = f"T{self._next_trip:07d}"
        trip = self._trip(tid, station, pod, lines, place, place_from)
        self.visits[tid] = Visit(trip, pod, station, list(lines), place_from)
        self.busy_pods.add(pod)
        self.counters["trips"] += 1
        return trip

    def _trip(self, tid: str, station: str, pod: str, lines: list[Line], place: str, place_from: str) -> Trip:
        cells = self.places.cells
        return pod_trip(tid, station, self.stations[station], pod, lines,
                        (place_from, cells[place_from]), (place, cells[place]), self.config.pick_time_s)

    # -- progress -------------------------------------------------------------------------------
    def lifted(self, trip_id: str) -> None:
        """Stop 0 done: the pod left its place."""
        v = self.visits.get(trip_id)
        if v is not None and not v.lifted:
            v.lifted = True
            self.places.lifted(v.pod)

    def picked(self, trip_id: str) -> Picked:
        """Stop 1 done: the visit's lines are picked (units consumed, slots running low refilled)."""
        v = self.visits.get(trip_id)
        if v is None or v.picked:
            return Picked(0, ())
        v.picked = True
        done = []
        for ln in v.lines:
            self.inventory.consume(v.pod, ln.sku, ln.quantity)
            st = self.orders.get(ln.order_id)
            if st is None:  # failed meanwhile: the units went to the failed-order tote
                continue
            st.lines_left -= 1
            if st.lines_left <= 0:
                done.append(ln.order_id)
                self.orders.pop(ln.order_id)
                if st.station is not None and ln.order_id in self.at_station[st.station]:
                    self.at_station[st.station].remove(ln.order_id)
        self.counters["station_visits"] += 1
        self.counters["lines_picked"] += len(v.lines)
        self.counters["replenished_slots"] += self.inventory.replenish(v.pod, self.config.refill_below)
        return Picked(len(v.lines), tuple(sorted(done)))

    def set_down(self, trip_id: str) -> None:
        """Stop 2 done: the pod stands on its new place and may be fetched again."""
        v = self.visits.pop(trip_id, None)
        if v is not None:
            self.busy_pods.discard(v.pod)
            self.inventory.move_pod(v.pod, self.places.cells[self.places.place_of[v.pod]])

    def lost(self, trip_id: str) -> None:
        """The trip's robot was lost before lifting the pod: its lines go back to their stations."""
        v = self.visits.pop(trip_id, None)
        if v is None:
            return
        for ln in v.lines:
            self.inventory.release(v.pod, ln.sku, ln.quantity)
            st = self.orders.get(ln.order_id)
            if st is not None:
                st.open_lines.append(ln)
        self.places.unclaim(v.pod)
        self.busy_pods.discard(v.pod)

    def open_at(self, station: str) -> list[str]:
        """Orders open at a station (released, not yet wholly picked)."""
        return list(self.at_station[station])
