"""``report.html``: one self-contained page with inline SVG plots (no plotting dependency).

Plots: throughput over time against the arrival profile, order cycle-time histogram, robot
utilisation, congestion heat map (where working robots stood still), sorter chute fill. The run
manifest and the summary table head the page, so a report always says what produced it.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from sim.kpi import KpiCollector

W, H, PAD = 640, 260, 44
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def _axes(title: str, xlabel: str, ylabel: str, x_max: float, y_max: float) -> list[str]:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" '
        f'font-size="11"><rect width="{W}" height="{H}" fill="white"/>',
        f'<text x="{W / 2}" y="14" text-anchor="middle" font-size="13">{html.escape(title)}</text>',
        f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - 10}" y2="{H - PAD}" stroke="black"/>',
        f'<line x1="{PAD}" y1="{H - PAD}" x2="{PAD}" y2="24" stroke="black"/>',
        f'<text x="{W / 2}" y="{H - 8}" text-anchor="middle">{html.escape(xlabel)}</text>',
        f'<text x="12" y="{H / 2}" transform="rotate(-90 12 {H / 2})" text-anchor="middle">'
        f"{html.escape(ylabel)}</text>",
    ]
    for k in range(5):
        fx, fy = k / 4, k / 4
        x = PAD + fx * (W - 10 - PAD)
        y = H - PAD - fy * (H - PAD - 24)
        parts.append(f'<text x="{x:.1f}" y="{H - PAD + 14}" text-anchor="middle">{fx * x_max:.4g}</text>')
        parts.append(f'<text x="{PAD - 4}" y="{y + 4:.1f}" text-anchor="end">{fy * y_max:.4g}</text>')
    return parts


def _sx(x: float, x_max: float) -> float:
    return PAD + (x / x_max if x_max else 0) * (W - 10 - PAD)


def _sy(y: float, y_max: float) -> float:
    return H - PAD - (y / y_max if y_max else 0) * (H - PAD - 24)


def line_chart(
    series: Mapping[str, Sequence[tuple[float, float]]], title: str, xlabel: str, ylabel: str
) -> str:
    """Lines for named series of (x, y) points."""
    xs = [x for pts in series.values() for x, _ in pts] or [1.0]
    ys = [y for pts in series.values() for _, y in pts] or [1.0]
    x_max, y_max = max(max(xs), 1e-9), max(max(ys), 1e-9) * 1.05
    parts = _axes(title, xlabel, ylabel, x_max, y_max)
    for k, (name, pts) in enumerate(series.items()):
        colour = PALETTE[k % len(PALETTE)]
        if pts:
            path = " ".join(f"{_sx(x, x_max):.1f},{_sy(y, y_max):.1f}" for x, y in pts)
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{path}"/>')
        parts.append(f'<text x="{W - 150}" y="{34 + 14 * k}" fill="{colour}">{html.escape(name)}</text>')
    return "".join(parts) + "</svg>"


def bar_chart(labels: Sequence[str], values: Sequence[float], title: str, xlabel: str, ylabel: str) -> str:
    """Vertical bars (labels shown when there are few of them)."""
    y_max = max(max(values, default=0.0), 1e-9) * 1.05
    parts = _axes(title, xlabel, ylabel, float(len(values)), y_max)
    width = (W - 10 - PAD) / max(len(values), 1)
    for i, v in enumerate(values):
        x = PAD + i * width
        y = _sy(v, y_max)
        parts.append(
            f'<rect x="{x + 0.5:.1f}" y="{y:.1f}" width="{max(width - 1, 0.5):.1f}" '
            f'height="{H - PAD - y:.1f}" fill="{PALETTE[0]}"><title>{html.escape(labels[i])}: {v:.3g}'
            f"</title></rect>"
        )
    return "".join(parts) + "</svg>"


def histogram(values: Sequence[float], title: str, xlabel: str, bins: int = 30) -> str:
    """Histogram of values."""
    if not len(values):
        return bar_chart([], [], title, xlabel, "count")
    counts, edges = np.histogram(np.asarray(values, dtype=float), bins=bins)
    labels = [f"{edges[i]:.0f}-{edges[i + 1]:.0f}" for i in range(len(counts))]
    svg = bar_chart(labels, [float(c) for c in counts], title, f"{xlabel} (0 to {edges[-1]:.0f})", "count")
    return svg


def heat_map(grid: np.ndarray, title: str) -> str:
    """A grid of cells shaded by value (white = 0, dark red = max)."""
    h, w = grid.shape
    cell = max(1.0, min((W - 20) / max(w, 1), (H * 1.6 - 40) / max(h, 1)))
    v_max = float(grid.max()) if grid.size and grid.max() > 0 else 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w * cell + 20:.0f}" height="{h * cell + 40:.0f}" '
        f'font-family="sans-serif" font-size="11"><rect width="100%" height="100%" fill="white"/>'
        f'<text x="10" y="14" font-size="13">{html.escape(title)} (max {v_max:.0f} s)</text>'
    ]
    ys, xs = np.nonzero(grid)
    for y, x in zip(ys.tolist(), xs.tolist(), strict=True):
        a = float(grid[y, x]) / v_max
        parts.append(
            f'<rect x="{10 + x * cell:.1f}" y="{24 + y * cell:.1f}" width="{cell:.1f}" '
            f'height="{cell:.1f}" fill="rgb(200,0,0)" fill-opacity="{0.1 + 0.9 * a:.2f}"/>'
        )
    parts.append(
        f'<rect x="10" y="24" width="{w * cell:.1f}" height="{h * cell:.1f}" fill="none" stroke="#888"/>'
    )
    return "".join(parts) + "</svg>"


def _table(summary: Mapping[str, object]) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(json.dumps(v))}</td></tr>"
        for k, v in summary.items()
        if k != "manifest"
    )
    return f"<table>{rows}</table>"


def write_report(path: Path | str, summary: Mapping[str, object], kpi: KpiCollector) -> Path:
    """Write ``report.html`` for a finished run and return its path."""
    bin_min = kpi.bin_s / 60.0
    last = max([*kpi.lines_per_bin.keys(), *kpi.arrivals_per_bin.keys(), 0])
    per_h = 3600.0 / kpi.bin_s
    arrivals = [(b * bin_min, kpi.arrivals_per_bin.get(b, 0) * per_h) for b in range(last + 1)]
    done = [(b * bin_min, kpi.lines_per_bin.get(b, 0) * per_h) for b in range(last + 1)]
    util = kpi.utilisation_by_robot()
    chutes = [(c, kpi.chute_series(c)) for c in sorted(kpi.chute_fill)[:6]]
    series = {"order lines arriving / h": arrivals, "order lines completed / h": done}
    bound = summary.get("throughput_bound_lines_per_hour")
    if isinstance(bound, int | float) and done:  # the run's bound (sim/bound.py), for scale
        series["throughput bound / h"] = [(done[0][0], float(bound)), (done[-1][0], float(bound))]
    plots = [
        line_chart(
            series,
            "Throughput vs arrival profile and the bound",
            "simulated minutes",
            "lines per hour",
        ),
        histogram(list(kpi.cycle_times_s), "Order cycle time", "seconds"),
        bar_chart(
            list(util), [v * 100 for v in util.values()], "Robot utilisation", "robot", "% of time busy"
        ),
        heat_map(
            kpi.congestion if kpi.congestion is not None else np.zeros((1, 1)),
            "Congestion: time working robots stood still per cell",
        ),
        line_chart(
            {cid: [(t / 60, f * 100) for t, f in pts] for cid, pts in chutes} or {"no sorter": []},
            "Sorter chute fill",
            "simulated minutes",
            "% full",
        ),
    ]
    manifest = summary.get("manifest", {})
    body = (
        "<!doctype html><html><head><meta charset='utf-8'><title>bulletyard run report</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "th,td{border:1px solid #ccc;padding:2px 8px;text-align:left;font-size:13px}"
        "svg{margin:8px 0;display:block}</style></head><body>"
        "<h1>bulletyard simulation report</h1><h2>Run manifest</h2>"
        f"<pre>{html.escape(json.dumps(manifest, indent=2))}</pre><h2>Summary</h2>{_table(summary)}"
        "<h2>Plots</h2>" + "".join(plots) + "</body></html>"
    )
    out = Path(path)
    out.write_text(body, encoding="utf-8")
    return out
