"""Destination -> chute plans: read from a plan file, or balanced automatically by expected volume.

A sortation plan says which chutes serve each destination (a route, a store, a carrier service).
Automatic plans give every destination one chute and hand out the rest with the D'Hondt method
on expected volume, so a destination with a tenth of the parcels gets about a tenth of the chutes
and no chute fills much faster than another. When there are more destinations than chutes,
destinations share chutes, heaviest first onto the least-loaded chute.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from pathlib import Path

from warehouse_maps.errors import InputError
from warehouse_maps.safe_load import read_text_capped, safe_yaml_load

ChutePlan = dict[str, tuple[str, ...]]
"""Destination key -> the chutes serving it, in preference order."""


class PlanError(ValueError):
    """A sortation plan file that cannot be used (names the file and the entry)."""

    def __init__(self, source: str, message: str) -> None:
        self.source = source
        self.message = message
        super().__init__(f"{source}: {message}")


def balanced_plan(volume: Mapping[str, float], chute_ids: Sequence[str]) -> ChutePlan:
    """Chutes per destination proportional to expected ``volume`` (any unit, e.g. items/h).

    Ties are broken by destination name so the plan is the same on every run.
    """
    if not chute_ids:
        raise ValueError("no chutes to plan")
    dests = sorted(volume, key=lambda d: (-volume[d], d))
    if len(dests) > len(chute_ids):
        return _shared_plan(volume, dests, chute_ids)
    counts = {d: 1 for d in dests}
    # D'Hondt: the next chute goes to the destination with the largest volume per chute
    heap = [(-volume[d] / 2.0, d) for d in dests]
    heapq.heapify(heap)
    for _ in range(len(chute_ids) - len(dests)):
        _, d = heapq.heappop(heap)
        counts[d] += 1
        heapq.heappush(heap, (-volume[d] / (counts[d] + 1), d))
    plan: dict[str, list[str]] = {d: [] for d in dests}
    # deal chutes round-robin so each destination's chutes spread along the line
    pool = list(chute_ids)
    i = 0
    while pool:
        for d in dests:
            if len(plan[d]) < counts[d] and pool:
                plan[d].append(pool.pop(0))
        i += 1
    return {d: tuple(plan[d]) for d in sorted(plan)}


def _shared_plan(volume: Mapping[str, float], dests: list[str], chute_ids: Sequence[str]) -> ChutePlan:
    load = [(0.0, c) for c in chute_ids]
    heapq.heapify(load)
    plan: ChutePlan = {}
    for d in dests:
        used, chute = heapq.heappop(load)
        plan[d] = (chute,)
        heapq.heappush(load, (used + volume[d], chute))
    return dict(sorted(plan.items()))


def load_plan(path: str | Path, chute_ids: Sequence[str] | None = None) -> ChutePlan:
    """Read a plan YAML ``{destinations: {D001: [c001, c002], ...}}``; checks chutes exist."""
    path = Path(path)
    try:  # size, nesting, aliases, duplicate keys and finite numbers checked (docs/limits.md)
        data = safe_yaml_load(read_text_capped(path), path)[0]
    except InputError as exc:
        raise PlanError(str(path), f"cannot read plan: {exc.message}"
                        + (f" (line {exc.line})" if exc.line else "")) from None
    table = data.get("destinations") if isinstance(data, dict) else None
    if not isinstance(table, dict):
        raise PlanError(str(path), "expected a mapping 'destinations: {name: [chute, ...]}'")
    known = set(chute_ids) if chute_ids is not None else None
    plan: ChutePlan = {}
    for dest, chutes in table.items():
        if isinstance(chutes, str):
            chutes = [chutes]
        if not isinstance(chutes, list) or not chutes:
            raise PlanError(str(path), f"destination {dest!r}: expected a non-empty list of chutes")
        for c in chutes:
            if known is not None and str(c) not in known:
                raise PlanError(str(path), f"destination {dest!r}: chute {c!r} does not exist")
        plan[str(dest)] = tuple(str(c) for c in chutes)
    return plan
