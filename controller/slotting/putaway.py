"""Where pods stand: storage places, which pod is on (or promised to) each, and the put-away rule.

Why: goods-to-person throughput depends on how far pods travel. After a station visit a pod need
not go back to the place it came from; it goes to a free storage place near the station it just
left (``nearest``), so the pods that are asked for often drift toward the stations during a run
(RAWSim-O's "nearest" storage-location rule). ``home`` keeps the old rule (every pod back to the
place it was lifted from) for comparison.

Invariant (tested): a place holds or expects at most one pod. A place is claimed for a pod when
its trip is built, so two pods on their way can never be sent to one place; the place a pod is
lifted from stays taken until the robot reports the lift.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

import numpy as np

from warehouse_maps.grid import Cell, Grid

PutAway = Literal["nearest", "home"]


class StoragePlaces:
    """Storage places and the pods on them.

    Args:
        grid: the floor (distances from stations to places).
        places: storage place id -> cell.
        pods_at: pod id -> the place id it starts on.
        stations: station cells (places are ranked by distance from each, once).
    """

    def __init__(self, grid: Grid, places: Mapping[str, Cell], pods_at: Mapping[str, str],
                 stations: Iterable[Cell]) -> None:
        self.cells = dict(places)
        self.holder: dict[str, str] = {}  # place id -> the pod on it or on its way to it
        self.place_of: dict[str, str] = {}  # pod id -> its place (where it stands or will be set down)
        self.leaving: dict[str, str] = {}  # pod id -> the place it still stands on, until lifted
        for pod, place in sorted(pods_at.items()):
            if place not in self.cells:
                raise ValueError(f"pod {pod}: unknown storage place {place!r}")
            if place in self.holder:
                raise ValueError(f"pods {self.holder[place]} and {pod} start on one place {place}")
            self.holder[place] = pod
            self.place_of[pod] = place
        ids = sorted(self.cells)
        self._ranked: dict[Cell, list[str]] = {}
        for cell in dict.fromkeys(stations):
            table = grid.distance_table(cell)
            dist = np.array([table[self.cells[p][1], self.cells[p][0]] for p in ids], dtype=np.int64)
            dist[dist < 0] = np.iinfo(np.int64).max
            self._ranked[cell] = [ids[k] for k in np.argsort(dist, kind="stable") if dist[k] >= 0]

    @classmethod
    def at_cells(cls, grid: Grid, places: Mapping[str, Cell], pods: Mapping[str, Cell],
                 stations: Iterable[Cell]) -> StoragePlaces:
        """Places with pods given by the cell they stand on (each must be a storage place)."""
        by_cell = {c: pid for pid, c in places.items()}
        for pod, cell in pods.items():
            if cell not in by_cell:
                raise ValueError(f"pod {pod} stands on {cell}, which is no storage place")
        return cls(grid, places, {pod: by_cell[cell] for pod, cell in pods.items()}, stations)

    def cell_of(self, pod: str) -> Cell:
        """The cell the pod stands on now (before it is lifted) or will be set down on."""
        return self.cells[self.leaving.get(pod, self.place_of[pod])]

    def claim_for(
        self, pod: str, station: Cell, rule: PutAway, blocked: frozenset[Cell] = frozenset()
    ) -> str:
        """Choose the place ``pod`` goes to after ``station`` and claim it; returns the place id.

        ``nearest``: the free place nearest the station (the pod's own place counts as free);
        ``home``: the place it stands on now. Places on ``blocked`` cells are skipped. The pod's
        old place stays taken until :meth:`lifted`.
        """
        own = self.place_of[pod]
        if rule == "nearest":
            for place in self._ranked.get(station, ()):
                if place == own:
                    return own
                if place not in self.holder and self.cells[place] not in blocked:
                    self.holder[place] = pod
                    self.leaving[pod] = own
                    self.place_of[pod] = place
                    return place
        return own

    def lifted(self, pod: str) -> None:
        """The pod left the place it stood on: that place is free now."""
        old = self.leaving.pop(pod, None)
        if old is not None and self.holder.get(old) == pod:
            del self.holder[old]

    def unclaim(self, pod: str) -> None:
        """Undo a claim (the trip was dropped before the pod was lifted): the pod stays where it is."""
        old = self.leaving.pop(pod, None)
        if old is not None:
            del self.holder[self.place_of[pod]]
            self.place_of[pod] = old
