"""``report.html`` and ``compare.html``: one self-contained page each, plots embedded as SVG.

A run's report heads with the run manifest (what produced it) and its headline KPIs, then the plots
of :mod:`sim.report_plots`. A comparison shows the same plots with several runs overlaid and the
headline KPIs side by side with each run's change from the first. Plots are SVG files embedded as
base64 ``data:`` images: the page opens offline, from a CI artefact or a mail, and the figures stay
sharp when zoomed; each image is its own document, so the ids matplotlib gives clip paths cannot
clash between plots. Rendering is deterministic (fixed hash salt, no date in the files).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.figure import Figure

from sim.report_data import RunData
from sim.report_plots import all_figures
from sim.report_table import delta_rows, kpi_rows, manifest_rows, table

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}"
    "table{border-collapse:collapse;margin:0.5em 0}th,td{border:1px solid #ddd;padding:3px 10px;"
    "text-align:left;font-size:13px}td{text-align:right;font-variant-numeric:tabular-nums}"
    "th{font-weight:normal;background:#f6f6f6}figure{margin:1.5em 0}img{max-width:100%}"
    "figcaption{font-size:13px;color:#555}details{margin:1em 0}h2{border-bottom:1px solid #ddd}"
)
CAPTIONS = {
    "Throughput": "Order lines completed per hour in each minute (solid), lines arriving (dotted) and "
    "the throughput bound of the run's stations and fleet (dashed, sim/bound.py; docs/operations.md).",
    "Order cycle time": "Arrival on the WMS topic to completion; p50/p95/p99 are nearest-rank percentiles.",
    "Robot states": "Mean robots per state in each minute, as the simulated vehicles report it: driving "
    "(turning is not told apart from driving), busy (an action: lift, pick, drop), waiting (nodes "
    "ahead but standing: waiting on the plan or another robot), idle, offline.",
    "Utilisation": "Pick stations: share of the run a robot was busy on the station's cell (on a "
    "robotic sortation floor: parcels loaded per hour at each induct). Robots: share of each robot's "
    "time not idle, charging or offline.",
    "Congestion": "Seconds robots with work (driving or waiting) stood still on each cell, over the "
    "layout: walls dark, racks (storage places) blue-grey, pick stations green, chute drops purple.",
    "Chute fill": "Fill of each chute in each minute, held from one report to the next (100 % = "
    "full: a conveyor sorter recirculates or rejects parcels for it; robots wait for its bag swap).",
}


def svg_data_uri(fig: Figure) -> str:
    """The figure as an SVG ``data:`` URI (text kept as text, so the page stays searchable)."""
    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "bulletyard", "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def figures_html(runs: Sequence[RunData]) -> str:
    """Every plot as a ``<figure>`` with its caption."""
    parts = []
    for title, fig in all_figures(runs):
        parts.append(
            f'<figure><img alt="{html.escape(title)}" src="{svg_data_uri(fig)}">'
            f"<figcaption><b>{html.escape(title)}.</b> {html.escape(CAPTIONS.get(title, ''))}"
            "</figcaption></figure>"
        )
    if not any(r.chute_fill for r in runs):
        parts.append("<p>No sorter or chute ran, so there is no chute fill plot.</p>")
    return "".join(parts)


def page(title: str, body: str) -> str:
    """A whole HTML document (no external resource, no script)."""
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>\n"
    )


def report_html(run: RunData) -> str:
    """The report of one run."""
    head, rest = kpi_rows(run.summary)
    manifest: Mapping[str, Any] = run.summary.get("manifest", {})
    body = (
        f"<h2>Key figures</h2>{table(head)}"
        f"<h2>Plots</h2>{figures_html([run])}"
        f"<h2>Run manifest</h2>{table(manifest_rows(manifest))}"
        f"<details><summary>Every figure in summary.json</summary>{table(rest)}</details>"
    )
    name = manifest.get("layout", run.layout.get("name", "?"))
    return page(f"bulletyard run report: {name}, {manifest.get('robots', '?')} robots", body)


def compare_html(runs: Sequence[RunData]) -> str:
    """Several runs side by side: headline KPIs with changes from the first run, plots overlaid."""
    header = ["", *(r.label for r in runs)]
    settings = ("layout", "robots", "orders", "profile", "seed", "operations_rule")
    setting_rows = [
        (html.escape(k), *(html.escape(str(r.summary.get("manifest", {}).get(k, "n/a"))) for r in runs))
        for k in settings
    ]
    body = (
        f"<h2>Runs</h2>{table(setting_rows, header)}"
        f"<h2>Key figures</h2><p>Change from {html.escape(runs[0].label)} in brackets "
        f"(pp: percentage points).</p>{table(delta_rows([r.summary for r in runs]), header)}"
        f"<h2>Plots</h2>{figures_html(runs)}"
    )
    return page(f"bulletyard comparison of {len(runs)} runs", body)


def write_report(path: Path | str, run: RunData) -> Path:
    """Write ``report.html`` for a finished run and return its path."""
    out = Path(path)
    out.write_text(report_html(run), encoding="utf-8")
    return out
