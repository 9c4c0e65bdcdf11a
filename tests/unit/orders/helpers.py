"""A small drawn goods-to-person floor and stock for the order, task and assignment tests.

::

    S.........      S = pick station (S1 top, S2 bottom), P = pod storage, C = charger
    ..PP..PP..
    ..PP..PP.C
    S.........
"""

from __future__ import annotations

from controller.orders.inventory import Inventory, Pod
from warehouse_maps.grid import Grid
from warehouse_maps.layout import CHAR_PLACES, PLACE_ID_PREFIX, Layout, Place

ROWS = [
    "S.........",
    "..PP..PP..",
    "..PP..PP.C",
    "S.........",
]


def small_layout(rows: list[str] = ROWS) -> Layout:
    """A layout from ASCII rows; place ids numbered per kind in row-major order."""
    places: list[Place] = []
    counts: dict[str, int] = {}
    for y, row in enumerate(rows):
        for x, ch in enumerate(row):
            kind = CHAR_PLACES.get(ch)
            if kind is not None:
                counts[kind] = counts.get(kind, 0) + 1
                places.append(Place(f"{PLACE_ID_PREFIX[kind]}{counts[kind]}", kind, (x, y)))
    return Layout("test-small", Grid.from_rows(rows), tuple(places))


def small_inventory(layout: Layout) -> Inventory:
    """Eight pods; POD1 and POD2 both stock SKU-A; each pod also holds its own SKU-<n>."""
    pods = [Pod(f"POD{i + 1}", p.cell) for i, p in enumerate(layout.of_kind("storage"))]
    stock = {p.id: {f"SKU-{i + 1}": 10} for i, p in enumerate(pods)}
    stock["POD1"]["SKU-A"] = 5
    stock["POD2"]["SKU-A"] = 5
    return Inventory(pods, stock)
