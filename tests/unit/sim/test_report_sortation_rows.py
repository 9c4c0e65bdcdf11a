"""A robotic sortation run's report leads with its parcel figures, in their units."""

from __future__ import annotations

import numpy as np

from sim.report_data import RunData
from sim.report_plots import chute_fill, utilisation
from sim.report_table import kpi_rows


def test_parcel_figures_are_headline_rows_with_units() -> None:
    summary = {"orders_total": 4, "sortation": {
        "parcels_sorted": 3, "parcels_per_hour": 540.0, "bound_parcels_per_hour": {"bound": 986.2},
        "induct_utilisation": 0.0969, "induct_to_chute_s": {"p50": 26.05, "p95": 57.29, "max": 60.1}}}
    head, rest = kpi_rows(summary)
    rows = dict(head)
    assert rows["parcels sorted"] == "3"
    assert rows["parcel throughput"] == "540 /h"
    assert rows["parcel throughput bound"] == "986 /h"
    assert rows["induct utilisation"] == "9.7 %"
    assert rows["induct to chute p95"] == "57.3 s"
    assert ("sortation › induct to chute s › max", "60.1 s") in rest


def test_rows_for_equipment_the_run_lacks_are_left_out_of_the_headline() -> None:
    summary = {"orders_total": 4, "station_utilisation": None, "sorter_items_per_hour": None,
               "recirculation_rate": None, "reject_rate": None, "order_cycle_time_s": {"p50": None}}
    labels = [label for label, _ in kpi_rows(summary)[0]]
    for absent in ("pick station utilisation", "sorter throughput", "rejects", "recirculation"):
        assert absent not in labels
    assert "order cycle time p50" in labels  # unknown for a reason worth showing: nothing finished


def test_a_conveyor_sorter_that_sorted_nothing_still_shows_zero() -> None:
    rows = dict(kpi_rows({"sorter_items_per_hour": 0.0, "station_utilisation": 0.0})[0])
    assert rows["sorter throughput"] == "0 /h"
    assert rows["pick station utilisation"] == "0.0 %"


def _run(summary: dict, **series: object) -> RunData:
    blank = {"bin_s": 60.0, "arrivals_per_h": [], "completed_per_h": [], "cycle_times_s": [],
             "robots_by_state": {}, "robot_utilisation": {"r1": 0.5}, "station_utilisation": {},
             "congestion": [], "chute_fill": {}, "layout": {"name": "x", "cell_size_m": 1.0, "rows": ["."]}}
    return RunData(label="run", summary=summary, **{**blank, **series})  # type: ignore[arg-type]


def test_a_sortation_floor_plots_parcels_loaded_per_induct_not_empty_stations() -> None:
    run = _run({"sim_time_s": 1800.0, "sortation": {"loads_by_induct": {"I2": 90, "I10": 30}}})
    ax = utilisation([run]).axes[0]
    assert ax.get_title() == "Inducts"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["I2", "I10"]
    assert [round(p.get_height()) for p in ax.patches] == [180, 60]  # per hour over half an hour


def test_chute_fill_holds_between_reports_up_to_the_run_end() -> None:
    fills = {f"CH{k}": [[0.0, 0.0]] for k in range(1, 10)}  # more chutes than lines: an image
    fills["CH1"] = [[0.0, 0.0], [70.0, 0.5]]
    fig = chute_fill([_run({"sim_time_s": 240.0}, chute_fill=fills)])
    assert fig is not None
    img = fig.axes[0].images[0].get_array()
    assert img.shape == (9, 4)  # four minutes, every bin known
    assert list(img[0]) == [0.0, 50.0, 50.0, 50.0]
    assert not np.isnan(np.asarray(img, dtype=float)).any()
