"""``kpi_series.json``: the time series and distributions behind a run's plots, kept in the run folder.

Why a file of its own: ``summary.json`` holds the headline figures, but a report or a comparison of
several runs (``bulletyard compare``) needs the series behind them (throughput per minute, robots
per state, utilisation per robot and station, where robots stood still, chute fill, every order's
cycle time) and the layout to draw them on. The run writes them once; :func:`load_run` reads a run
folder back and says in one sentence what is wrong with a folder that is not a run.

Units: seconds for times, order lines per hour for throughput, shares 0..1 for utilisation and
fill, robots (a mean over each bin) for the state series, metres for the layout.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from sim.kpi import KpiCollector
from warehouse_maps.ascii_rows import layout_rows
from warehouse_maps.layout import Layout, PlaceKind

SERIES_FILE = "kpi_series.json"
SERIES_VERSION = 1


class NotARunError(ValueError):
    """A folder that is not a finished run (or one written by an older bulletyard)."""


@dataclass(frozen=True)
class RunData:
    """What the report and the comparison draw, for one run.

    Attributes:
        label: how plots and tables name the run (its folder name).
        summary: ``summary.json`` as written.
        bin_s: width of the time bins in seconds.
        arrivals_per_h: order lines arriving in each bin, as a rate per hour.
        completed_per_h: order lines completed in each bin, as a rate per hour.
        cycle_times_s: every completed order's cycle time, in completion order.
        robots_by_state: state -> mean robots in that state per bin.
        robot_utilisation: robot id -> share of its time busy (0..1).
        station_utilisation: station id -> share of the run a robot was busy at it (0..1).
        congestion: ``[x, y, seconds]`` for every cell where working robots stood still.
        chute_fill: chute id -> ``[t_s, fill 0..1]`` samples.
        layout: ``name``, ``cell_size_m`` and ``rows`` (the ASCII drawing of the layout).
    """

    label: str
    summary: Mapping[str, Any]
    bin_s: float
    arrivals_per_h: list[float]
    completed_per_h: list[float]
    cycle_times_s: list[float]
    robots_by_state: dict[str, list[float]]
    robot_utilisation: dict[str, float]
    station_utilisation: dict[str, float]
    congestion: list[list[float]]
    chute_fill: dict[str, list[list[float]]]
    layout: dict[str, Any]

    @property
    def bound_per_h(self) -> float | None:
        """The run's throughput bound (``sim/bound.py``), order lines per hour, when known."""
        bound = self.summary.get("throughput_bound_lines_per_hour")
        return float(bound) if isinstance(bound, int | float) else None


def place_order(place_id: str) -> tuple[int, str]:
    """Sort key that puts ``S2`` before ``S10`` (ids of one prefix differ in length by number)."""
    return (len(place_id), place_id)


def kpi_series(kpi: KpiCollector, layout: Layout, sim_time_s: float) -> dict[str, Any]:
    """The JSON body of ``kpi_series.json`` for a finished run."""
    last = max([*kpi.lines_per_bin.keys(), *kpi.arrivals_per_bin.keys(), 0])
    per_h = 3600.0 / kpi.bin_s
    stations = {p.id: p.cell for p in layout.of_kind(PlaceKind.PICK_STATION)}
    congestion = []
    if kpi.congestion is not None:
        for y, x in zip(*kpi.congestion.nonzero(), strict=True):
            congestion.append([int(x), int(y), round(float(kpi.congestion[y, x]), 2)])
    return {
        "version": SERIES_VERSION,
        "bin_s": kpi.bin_s,
        "arrivals_per_h": [kpi.arrivals_per_bin.get(b, 0) * per_h for b in range(last + 1)],
        "completed_per_h": [kpi.lines_per_bin.get(b, 0) * per_h for b in range(last + 1)],
        "cycle_times_s": [round(v, 3) for v in kpi.cycle_times_s],
        "robots_by_state": {k: [round(v, 3) for v in vs] for k, vs in kpi.robots_by_state().items()},
        "robot_utilisation": {k: round(v, 4) for k, v in kpi.utilisation_by_robot().items()},
        "station_utilisation": {
            sid: round(kpi.station_busy_by_cell.get(cell, 0.0) / sim_time_s, 4) if sim_time_s > 0 else 0.0
            for sid, cell in sorted(stations.items(), key=lambda kv: place_order(kv[0]))
        },
        "congestion": congestion,
        "chute_fill": {
            cid: [[round(t, 2), round(f, 4)] for t, f in kpi.chute_series(cid)]
            for cid in sorted(kpi.chute_fill)
        },
        "layout": {"name": layout.name, "cell_size_m": layout.cell_size_m, "rows": layout_rows(layout)},
    }


def run_data(label: str, summary: Mapping[str, Any], series: Mapping[str, Any]) -> RunData:
    """A :class:`RunData` from the two JSON bodies (keys as :func:`kpi_series` writes them)."""
    values = {f.name: series[f.name] for f in fields(RunData) if f.name not in ("label", "summary")}
    return RunData(label=label, summary=summary, **values)


def load_run(folder: Path | str) -> RunData:
    """Read a run folder (``summary.json`` and ``kpi_series.json``).

    Raises:
        NotARunError: the folder is missing, is not a run, or was written before the series file.
    """
    path = Path(folder)
    if not path.is_dir():
        raise NotARunError(f"{path}: no such folder")
    summary_path, series_path = path / "summary.json", path / SERIES_FILE
    if not summary_path.is_file():
        raise NotARunError(f"{path}: not a run folder (no summary.json; `bulletyard sim --out` writes one)")
    if not series_path.is_file():
        raise NotARunError(f"{path}: has no {SERIES_FILE} (written by an older bulletyard: run it again)")
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        series = json.loads(series_path.read_text(encoding="utf-8"))
        if series.get("version") != SERIES_VERSION:
            raise NotARunError(f"{series_path}: version {series.get('version')}, expected {SERIES_VERSION}")
        return run_data(path.resolve().name, summary, series)
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise NotARunError(f"{path}: unreadable run files ({type(exc).__name__}: {exc})") from None
