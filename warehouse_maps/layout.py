"""A layout: the grid plus the named places and equipment a warehouse engineer cares about.

Places are what the controller plans around: pod storage cells, pick stations, sorter inducts,
chute (eject) cells, chargers and parking. Each has a stable id (``S1``, ``CH3``) so messages,
reports and config files can name it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from warehouse_maps.grid import Cell, Grid


class PlaceKind(StrEnum):
    """The kinds of named place on a warehouse floor."""

    STORAGE = "storage"  # a cell where a pod (shelf) stands when stored
    PICK_STATION = "pick_station"  # where a picker takes goods from a pod
    INDUCT = "induct"  # where parcels enter a sorter or a robot takes a parcel
    CHUTE = "chute"  # the floor cell a robot stands on to drop into a chute hole (``fixture``)
    CHARGER = "charger"
    PARKING = "parking"


#: One character per place kind in ASCII layouts (`map show`, layout YAML rows).
PLACE_CHARS: dict[PlaceKind, str] = {
    PlaceKind.STORAGE: "P",
    PlaceKind.PICK_STATION: "S",
    PlaceKind.INDUCT: "I",
    PlaceKind.CHUTE: "H",
    PlaceKind.CHARGER: "C",
    PlaceKind.PARKING: "K",
}
CHAR_PLACES: dict[str, PlaceKind] = {ch: kind for kind, ch in PLACE_CHARS.items()}
PLACE_ID_PREFIX: dict[PlaceKind, str] = {
    PlaceKind.STORAGE: "P",
    PlaceKind.PICK_STATION: "S",
    PlaceKind.INDUCT: "I",
    PlaceKind.CHUTE: "CH",
    PlaceKind.CHARGER: "C",
    PlaceKind.PARKING: "K",
}


@dataclass(frozen=True, slots=True)
class Place:
    """A named cell of one kind.

    Args:
        id: stable name (``S1``, ``CH12``), unique in its layout.
        kind: what the place is for.
        cell: the floor cell a robot stands on to use the place (always passable).
        fixture: the fixed equipment this place serves, when it has its own cell: for a chute,
            the blocked hole cell next to ``cell`` that the robot tips its parcel into. None
            for places that are just floor.
    """

    id: str
    kind: PlaceKind
    cell: Cell
    fixture: Cell | None = None


@dataclass(eq=False)
class Layout:
    """A warehouse floor: grid, places and free-form equipment settings.

    Args:
        name: short name (``small-fc``).
        grid: the floor.
        places: every named place; ids are unique.
        cell_size_m: edge length of one grid cell in metres. The metric map frame (VDA 5050
            ``nodePosition``, the simulator, traces) is right-handed with z up: x east, y north,
            so cell ``(x, y)`` has its centre at ``((x + 0.5) * s, -(y + 0.5) * s)``.
        equipment: settings for equipment beyond the grid (for example the sorter loop),
            kept as plain data for the modules that own it.
    """

    name: str
    grid: Grid
    places: tuple[Place, ...] = ()
    cell_size_m: float = 1.0
    equipment: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for place in self.places:
            if place.id in seen:
                raise ValueError(f"duplicate place id {place.id!r}")
            seen.add(place.id)
            if not self.grid.is_passable(place.cell):
                raise ValueError(f"place {place.id} at {place.cell} is not on a passable cell")
            if place.fixture is not None and not self.grid.in_bounds(place.fixture):
                raise ValueError(f"place {place.id} fixture {place.fixture} lies off the grid")
        self._by_id = {p.id: p for p in self.places}

    def place(self, place_id: str) -> Place:
        """The place with this id; KeyError naming it when unknown."""
        try:
            return self._by_id[place_id]
        except KeyError:
            raise KeyError(f"unknown place id {place_id!r}") from None

    def of_kind(self, kind: PlaceKind) -> tuple[Place, ...]:
        """Places of one kind, in id order as loaded."""
        return tuple(p for p in self.places if p.kind == kind)

    def cells_of(self, kind: PlaceKind) -> tuple[Cell, ...]:
        """Cells of one kind of place."""
        return tuple(p.cell for p in self.of_kind(kind))

    def counts(self) -> dict[PlaceKind, int]:
        """How many places of each kind (every kind listed, zero included)."""
        return {kind: len(self.of_kind(kind)) for kind in PlaceKind}

    def cell_centre_m(self, cell: Cell) -> tuple[float, float]:
        """Map-frame coordinates of a cell centre in metres (x east, y north; rows go south)."""
        return ((cell[0] + 0.5) * self.cell_size_m, -(cell[1] + 0.5) * self.cell_size_m)

    def cell_at_m(self, x_m: float, y_m: float) -> Cell:
        """The cell containing a map-frame point (inverse of :meth:`cell_centre_m`)."""
        return (int(x_m // self.cell_size_m), int(-y_m // self.cell_size_m))
