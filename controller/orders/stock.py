"""The stock a controller starts with: a seeded mixed ("chaotic") default, or a file.

Default (``docs/operations.md`` gives the reasons): one pod per storage place, named after the
place it starts on; as many SKUs as storage places, named after the places too (so the order
generator and order files keep their SKU names); each pod holds ``skus_per_pod`` (10) different
SKUs, ``units_per_slot`` (30) units each, so each SKU lies on about 10 pods spread at random over
the floor. Seeded: the same generator gives the same stock.

File (``--inventory FILE``): CSV with a header ``pod,place,sku,units`` or a JSON list of objects
with those keys. ``place`` is the storage place id the pod starts on (one pod per place); a pod
appears on as many rows as it holds SKUs. Errors raise :class:`StockFileError` naming the file
and the line (CSV) or entry (JSON).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from controller.orders.inventory import Inventory, Pod
from warehouse_maps.errors import InputError
from warehouse_maps.layout import Layout, PlaceKind
from warehouse_maps.limits import env_name, limit
from warehouse_maps.safe_load import read_text_capped, safe_json_loads

SKUS_PER_POD = 10
UNITS_PER_SLOT = 30
FIELDS = ("pod", "place", "sku", "units")


class StockFileError(ValueError):
    """An inventory file that cannot be used (the message names the file and the line)."""


def mixed_stock(layout: Layout, rng: np.random.Generator, *, skus_per_pod: int = SKUS_PER_POD,
                units_per_slot: int = UNITS_PER_SLOT) -> Inventory:
    """The default mixed inventory of a layout (see the module docstring)."""
    places = sorted(layout.of_kind(PlaceKind.STORAGE), key=lambda p: p.id)
    pods = [Pod(p.id, p.cell) for p in places]
    skus = [p.id for p in places]
    per_pod = min(skus_per_pod, len(skus))
    stock: dict[str, dict[str, int]] = {}
    if pods:
        # every SKU on ``per_pod`` pods: a shuffled deck of SKUs dealt ``per_pod`` to a pod, redrawn
        # for a pod that would get the same SKU twice (rare; then it holds fewer, larger slots)
        deck = np.tile(np.arange(len(skus)), per_pod)
        rng.shuffle(deck)
        for i, pod in enumerate(pods):
            slots: dict[str, int] = {}
            for s in deck[i * per_pod : (i + 1) * per_pod]:
                sku = skus[int(s)]
                slots[sku] = slots.get(sku, 0) + units_per_slot
            stock[pod.id] = slots
    return Inventory(pods, stock)


def dedicated_stock(layout: Layout, units_per_pod: int = 1000) -> Inventory:
    """One SKU per pod, named after its place (the stock the controller assumed before issue 18;
    kept for tests that need a SKU to live on exactly one pod)."""
    places = sorted(layout.of_kind(PlaceKind.STORAGE), key=lambda p: p.id)
    return Inventory([Pod(p.id, p.cell) for p in places], {p.id: {p.id: units_per_pod} for p in places})


def load_stock(path: str | Path, layout: Layout) -> Inventory:
    """The inventory in ``path`` (CSV or JSON, see the module docstring)."""
    path = Path(path)
    try:
        text = read_text_capped(path)  # a regular file within the size limit (not /dev/zero)
    except InputError as err:
        raise StockFileError(f"{path}: cannot read inventory file: {err.message}") from None
    if text.lstrip().startswith("["):
        try:
            raw = safe_json_loads(text, path)  # nesting, duplicate keys, non-finite numbers
        except InputError as err:
            raise StockFileError(f"{err.source}:{err.line}: not JSON ({err.message})") from None
        rows = [(f"{path}: entry {i + 1}", r) for i, r in enumerate(raw)]
    else:
        reader = csv.DictReader(io.StringIO(text))
        if reader.fieldnames is None or set(FIELDS) - set(reader.fieldnames):
            raise StockFileError(f"{path}:1: the header must name the columns {', '.join(FIELDS)}")
        rows = [(f"{path}:{reader.line_num}", r) for r in reader]
    places = {p.id: p.cell for p in layout.of_kind(PlaceKind.STORAGE)}
    pods: dict[str, Pod] = {}
    place_of: dict[str, str] = {}
    stock: dict[str, dict[str, int]] = {}
    for where, row in rows:
        pod, place, sku, units = _row(where, row)
        if place not in places:
            raise StockFileError(f"{where}: place {place!r} is not a storage place of layout {layout.name}")
        if place_of.setdefault(place, pod) != pod:
            raise StockFileError(f"{where}: place {place} already holds pod {place_of[place]}")
        if pods.setdefault(pod, Pod(pod, places[place])).home != places[place]:
            raise StockFileError(f"{where}: pod {pod} is given two places")
        slots = stock.setdefault(pod, {})
        if sku in slots:
            raise StockFileError(f"{where}: pod {pod} lists SKU {sku} twice")
        slots[sku] = units
    if not pods:
        raise StockFileError(f"{path}: no stock rows")
    return Inventory(sorted(pods.values(), key=lambda p: p.id), stock)


def _row(where: str, row: object) -> tuple[str, str, str, int]:
    if not isinstance(row, dict):
        raise StockFileError(f"{where}: expected an object with {', '.join(FIELDS)}")
    missing = [k for k in FIELDS if row.get(k) in (None, "")]
    if missing:
        raise StockFileError(f"{where}: missing {', '.join(missing)}")
    units = row["units"]
    for key in ("pod", "place", "sku"):
        if not isinstance(row[key], str | int) or isinstance(row[key], bool):
            raise StockFileError(f"{where}: {key} must be a name, not {row[key]!r}")
    if isinstance(units, float | int) and not isinstance(units, bool) and units > limit("quantity"):
        raise StockFileError(f"{where}: units {units:g} exceeds the limit {limit('quantity'):,} "
                             f"(raise it with {env_name('quantity')})")
    try:
        n = int(units)
    except (TypeError, ValueError):
        n = -1
    if n < 0 or isinstance(units, bool) or (isinstance(units, float) and not units.is_integer()):
        raise StockFileError(f"{where}: units must be a whole number >= 0, not {units!r}")
    return str(row["pod"]), str(row["place"]), str(row["sku"]), n
