"""The chutes of a robotic sortation area as the controller sees them: plan, state, load.

Why the controller counts: a robot tips its parcel tens of seconds after its chute was chosen,
so the chute's own fill (reported in ``chuteState``) is always behind. A chute is chosen only
while ``load`` (parcels on their way there plus parcels tipped since its bag was last swapped) is
below ``capacity``, so its bag never takes more than it holds. A chute that reports ``FULL`` (bag
at capacity, or an operator asking to swap it) gets no new parcel; once the parcels still on
their way to it are tipped the controller releases it (``chuteRelease``) and only then does it
close for the swap: a closed chute never receives a parcel. A chute is open again, empty, once it
reports ``OPEN`` after that.

Destinations are ``D001``...: each is served by the chutes a volume-balanced plan gives it
(:func:`controller.sortation.mapping.balanced_plan`, equal volumes). Pure: no clock, no randomness.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from controller.sortation.mapping import balanced_plan
from warehouse_maps.grid import Cell
from warehouse_maps.layout import Layout, PlaceKind


@dataclass(slots=True)
class Chute:
    """One chute: where a robot stands to tip into it, its state and its load (parcels)."""

    chute_id: str
    cell: Cell
    state: str = "OPEN"  # OPEN, FULL or CLOSED, as the chute last reported
    in_flight: int = 0  # parcels on robots heading here
    load: int = 0  # in flight + tipped since the bag was last swapped
    released: bool = False  # chuteRelease sent for the current FULL


@dataclass(frozen=True, slots=True)
class Choice:
    """A chute for a parcel, or why there is none (``chute`` None)."""

    chute: str | None
    reason: str = ""
    never: bool = False  # True: no chute will ever serve it (the parcel fails)


def chute_order(chute_id: str) -> tuple[int, str]:
    """Natural order of chute ids (``CH2`` before ``CH10``)."""
    digits = "".join(ch for ch in chute_id if ch.isdigit())
    return (int(digits) if digits else 0, chute_id)


class ChuteBoard:
    """See the module docstring.

    Args:
        layout: its ``chute`` places (the drop cells).
        capacity: parcels one bag holds.
        destinations: how many destinations D001... (None: a third of the chutes, at least one).
    """

    def __init__(self, layout: Layout, capacity: int, destinations: int | None = None) -> None:
        places = sorted(layout.of_kind(PlaceKind.CHUTE), key=lambda p: chute_order(p.id))
        if not places:
            raise ValueError(f"layout {layout.name} has no chutes for robotic sortation")
        self.capacity = capacity
        self.chutes = {p.id: Chute(p.id, p.cell) for p in places}
        count = destinations or max(1, len(places) // 3)
        names = [f"D{k:03d}" for k in range(1, count + 1)]
        self.plan = balanced_plan(dict.fromkeys(names, 1.0), [p.id for p in places])
        self.destinations = names

    def choose(self, destination: str, table: np.ndarray, blocked: frozenset[Cell] = frozenset()) -> Choice:
        """The open chute of ``destination`` with room, nearest by ``table`` (a distance table to
        every cell from where the robot loads; ties: chute order) whose drop cell is not ``blocked``
        (a lost robot stands there), or why there is none."""
        ids = self.plan.get(destination)
        if not ids:
            return Choice(None, f"no chute serves destination {destination!r}", never=True)
        best: tuple[int, tuple[int, str]] | None = None
        for cid in ids:
            c = self.chutes[cid]
            if c.state != "OPEN" or c.load >= self.capacity:
                continue
            d = int(table[c.cell[1], c.cell[0]])
            if d < 0 or c.cell in blocked:
                continue
            key = (d, chute_order(cid))
            if best is None or key < best:
                best = key
        if best is None:
            states = ", ".join(f"{cid} {self._why(cid)}" for cid in ids)
            return Choice(None, f"every chute of {destination} is unavailable ({states})")
        return Choice(best[1][1])

    def _why(self, cid: str) -> str:
        c = self.chutes[cid]
        if c.state != "OPEN":
            return c.state.lower()
        return "full" if c.load >= self.capacity else "unreachable or blocked"

    def commit(self, chute_id: str) -> None:
        """A parcel is on its way to the chute."""
        c = self.chutes[chute_id]
        c.in_flight += 1
        c.load += 1

    def uncommit(self, chute_id: str) -> list[str]:
        """A parcel meant for the chute will not come (rerouted, or its robot was lost); returns the
        chute when it is now due a release."""
        c = self.chutes[chute_id]
        c.in_flight -= 1
        c.load -= 1
        return self.due_releases([chute_id])

    def tipped(self, chute_id: str) -> list[str]:
        """A parcel fell into the chute; returns the chute when it is now due a release."""
        self.chutes[chute_id].in_flight -= 1
        return self.due_releases([chute_id])

    def on_state(self, chute_id: str, state: str) -> list[str]:
        """The chute reported ``state``; returns chutes due a release."""
        c = self.chutes.get(chute_id)
        if c is None:
            return []
        if state == "OPEN" and c.state != "OPEN":
            c.load = c.in_flight  # a fresh bag (in flight is 0 when it was released)
            c.released = False
        c.state = state
        return self.due_releases([chute_id])

    def due_releases(self, ids: Sequence[str]) -> list[str]:
        """Of ``ids``, the FULL chutes with nothing on its way, not yet released (marked released)."""
        out = []
        for cid in ids:
            c = self.chutes[cid]
            if c.state == "FULL" and c.in_flight == 0 and not c.released:
                c.released = True
                out.append(cid)
        return out

    def chutes_of(self, destination: str) -> tuple[str, ...]:
        """The chutes serving a destination (empty for an unknown one)."""
        return self.plan.get(destination, ())

    def fill(self) -> dict[str, int]:
        """Parcels tipped into each chute since its bag was last swapped (the controller's count)."""
        return {cid: c.load - c.in_flight for cid, c in self.chutes.items()}
