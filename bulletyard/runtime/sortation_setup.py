"""Composition of a robotic sortation run: parcels, inducts, chutes and their KPIs.

A layout with inducts and chutes and no storage is a robotic sortation site (``sort-center``, a
converted LoRR sortation map with generated chutes): :class:`bulletyard.runtime.sim_setup.Simulation`
asks this module for the parcel stream, the participants that replace the WMS feeder and the
order observer (:class:`sim.parcels.InductFeeder`, :class:`sim.chute_bank.ChuteBank`,
:class:`sim.parcel_kpi.ParcelObserver`) and, after the run, the ``sortation`` block of
``summary.json`` with the throughput bound.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bus.clock import Instant
from controller.config import RoboticSortationConfig
from controller.tasks.chutes import ChuteBoard
from sim.chute_bank import ChuteBank
from sim.kpi import KpiCollector
from sim.parcel_kpi import ParcelObserver
from sim.parcels import InductFeeder, ScheduledParcel, generate_parcels, load_parcel_file
from sim.scenario import PEAK_FACTOR
from warehouse_maps.layout import Layout, PlaceKind

PARCELS_PER_ROBOT_H = 60.0
"""Default arrival rate per robot (parcels/h): the issue's goal of 6,000 parcels/h for 100 robots."""
BAG_SWAP_S = 30.0
"""Seconds an operator needs to swap a full chute bag."""


class RoboticSortationSite:
    """The sortation participants of one run.

    Args:
        layout: the floor (inducts, chutes).
        config: the controller's robotic sortation settings (the same the controller runs with).
        site: the site topic level.
        start: the run's start instant.
        kpi: the run's collector.
        parcels_only: True where parcels are the run's orders; False at a mixed site (orders are
            picked and then sorted: the order observer counts them, this one the parcels).
    """

    def __init__(self, layout: Layout, config: RoboticSortationConfig, site: str, start: Instant,
                 kpi: KpiCollector, parcels_only: bool = True) -> None:
        self.layout = layout
        self.config = config
        self.inducts = sorted((p.id for p in layout.of_kind(PlaceKind.INDUCT)), key=lambda i: (len(i), i))
        self.destinations = ChuteBoard(layout, config.chute_capacity, config.destinations).destinations
        self.chutes = ChuteBank(layout, site, config.sorter_id, config.chute_capacity, BAG_SWAP_S)
        self.observer = ParcelObserver(kpi, site, config.sorter_id, start, parcels_only)
        self.site = site
        self.start = start
        self.kpi = kpi

    def parcels(self, options, seq: np.random.SeedSequence) -> list[ScheduledParcel]:
        """The run's parcels: from ``options.parcel_file`` or the seeded per-induct generator."""
        if options.parcel_file:
            return load_parcel_file(Path(options.parcel_file), self.inducts)
        rate = options.rate_per_h or PARCELS_PER_ROBOT_H * max(1, options.robots)
        return generate_parcels(self.inducts, self.destinations, options.orders, seq,
                                profile=options.profile, rate_per_h=rate,
                                peak_factor=options.peak_factor or PEAK_FACTOR,
                                peak_duration_s=options.peak_duration_s)

    def feeder(self, parcels: list[ScheduledParcel]) -> InductFeeder:
        """The inducts' participant."""
        return InductFeeder(parcels, self.site, self.config.sorter_id, self.start, self.kpi)

    def summary(self, summary: dict[str, object], robots: int, speed_mps: float) -> dict[str, object]:
        """The ``sortation`` block: KPIs, the throughput bound and the chutes' own checks."""
        sim_time_s = float(summary["sim_time_s"])  # type: ignore[arg-type]
        out = self.observer.summary(sim_time_s=sim_time_s, robots=robots, inducts=len(self.inducts),
                                    load_s=self.config.load_s, capacity=self.config.chute_capacity,
                                    chutes=len(self.chutes.bags))
        sorted_n = self.observer.sorted
        travel_m = float(summary["travel_m"])  # type: ignore[arg-type]
        stops_s = self.config.load_s + self.config.tip_s
        trip_s = stops_s + travel_m / sorted_n / speed_mps if sorted_n else None
        induct_bound = len(self.inducts) * 3600.0 / self.config.load_s
        fleet_bound = robots * 3600.0 / trip_s if trip_s else None
        bound = min(induct_bound, fleet_bound) if fleet_bound else induct_bound
        out.update({
            "mean_trip_s": round(trip_s, 2) if trip_s else None,
            "bound_parcels_per_hour": {"inducts": round(induct_bound, 1),
                                       "fleet": round(fleet_bound, 1) if fleet_bound else None,
                                       "bound": round(bound, 1)},
            "efficiency": round(float(out["parcels_per_hour"]) / bound, 4)  # type: ignore[arg-type]
            if out["parcels_per_hour"] is not None else None,
            "chute_violations": dict(sorted(self.chutes.violations.items())),
            "chute_counts": dict(sorted(self.chutes.counts.items())),
            "load_s": self.config.load_s,
            "tip_s": self.config.tip_s,
            "chute_capacity": self.config.chute_capacity,
            "bag_swap_s": BAG_SWAP_S,
        })
        return out
