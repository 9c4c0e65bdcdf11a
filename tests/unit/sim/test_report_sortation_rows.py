"""A robotic sortation run's report leads with its parcel figures, in their units."""

from __future__ import annotations

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
