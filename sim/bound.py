"""The throughput bound of a goods-to-person run: what its stations and its fleet could do at most.

Why: a figure of order lines per hour means little without what the layout and fleet allow. The
bound is the smaller of two (``docs/operations.md``):

* station bound: every pick station picking without pause, each pod visit costing ``pile_on``
  lines x ``pick_time_s`` plus a pod exchange of ``exchange_s`` (the next robot moving in):
  ``stations x 3600 x pile_on / (pile_on x pick_time_s + exchange_s)`` lines per hour;
* travel bound: every robot on trips back to back, each trip driving the run's mean trip length
  at ``speed_mps`` and spending its station, lift and drop time:
  ``robots x 3600 x pile_on / (trip_m / speed_mps + pile_on x pick_time_s + handling_s)``.

Efficiency is the achieved lines per hour over the bound. Pile-on and the mean trip length come
from the run (lines picked per station visit; metres driven per visit).
"""

from __future__ import annotations

EXCHANGE_S = 3.0
"""Pod exchange at a station: the robot leaves, the next moves one cell in and stops (1 m/s)."""
HANDLING_S = 6.0
"""Lift at the storage place and set down after the station (3 s each, the vehicles' defaults)."""


def throughput_bound(
    *,
    stations: int,
    robots: int,
    pick_time_s: float,
    pile_on: float | None,
    trip_m: float | None,
    speed_mps: float = 1.0,
    exchange_s: float = EXCHANGE_S,
    handling_s: float = HANDLING_S,
) -> dict[str, float | None]:
    """Station bound, travel bound and their minimum, in order lines per hour (None if unknown)."""
    if not pile_on or stations <= 0:
        return {"station": None, "travel": None, "bound": None}
    station = stations * 3600.0 * pile_on / (pile_on * pick_time_s + exchange_s)
    travel = None
    if trip_m is not None and robots > 0:
        travel = robots * 3600.0 * pile_on / (trip_m / speed_mps + pile_on * pick_time_s + handling_s)
    bound = station if travel is None else min(station, travel)
    return {
        "station": round(station, 1),
        "travel": None if travel is None else round(travel, 1),
        "bound": round(bound, 1),
    }
