"""The report's tables: ``summary.json`` as rows a reader can take in (names, units, no raw JSON).

Why: a cell holding ``{"inducted": 120, "sorted": 100}`` makes an operations manager read JSON.
Nested figures become one row each (``sorter › counters › sorted``); the unit comes from the key's
suffix (``_s`` seconds, ``_m`` metres, ``_per_hour`` per hour, rates and utilisation as percent).
The headline rows come first, in an order that reads as a story: orders, throughput, robots,
sorter, run.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

HEADLINE: tuple[tuple[str, str], ...] = (
    ("orders_total", "orders"),
    ("orders_completed", "orders completed"),
    ("orders_failed", "orders failed"),
    ("orders_open", "orders open at the end"),
    ("order_lines_completed", "order lines completed"),
    ("order_lines_per_hour", "throughput"),
    ("throughput_bound_lines_per_hour", "throughput bound"),
    ("throughput_efficiency", "efficiency (throughput / bound)"),
    ("pile_on", "pile-on (lines per pod visit)"),
    ("order_cycle_time_s.p50", "order cycle time p50"),
    ("order_cycle_time_s.p95", "order cycle time p95"),
    ("order_cycle_time_s.max", "order cycle time max"),
    ("sortation.parcels_sorted", "parcels sorted"),
    ("sortation.parcels_failed", "parcels failed"),
    ("sortation.parcels_waiting_or_on_robots", "parcels waiting or on robots at the end"),
    ("sortation.parcels_per_hour", "parcel throughput"),
    ("sortation.parcels_per_hour_second_half", "parcel throughput, second half"),
    ("sortation.bound_parcels_per_hour.bound", "parcel throughput bound"),
    ("sortation.induct_utilisation", "induct utilisation"),
    ("sortation.induct_to_chute_s.p50", "induct to chute p50"),
    ("sortation.induct_to_chute_s.p95", "induct to chute p95"),
    ("robot_utilisation", "robot utilisation"),
    ("station_utilisation", "pick station utilisation"),
    ("travel_per_line_m", "travel per order line"),
    ("deadlocks", "deadlocks"),
    ("collisions", "collisions"),
    ("sorter_items_per_hour", "sorter throughput"),
    ("recirculation_rate", "recirculation"),
    ("reject_rate", "rejects"),
    ("sim_time_s", "simulated time"),
    ("wall_time_s", "wall time"),
    ("real_time_factor", "real-time factor"),
)
PERCENT_WORDS = ("utilisation", "efficiency", "_rate")
#: Headline rows left out when unknown: they belong to equipment the run did not have (no pick
#: stations on a sortation floor, no conveyor sorter), so "n/a" there would only be noise.
EQUIPMENT_ROWS = frozenset(
    {"station_utilisation", "sorter_items_per_hour", "recirculation_rate", "reject_rate"}
)


def flatten(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(dotted.key, value)`` for every leaf of nested mappings, in the mapping's order."""
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            yield from flatten(value, f"{path}.")
        else:
            yield path, value


def unit_of(key: str) -> str:
    """The unit a key's name promises (empty for counts and names)."""
    leaf = key.rsplit(".", 1)[-1]
    if any(w in key for w in PERCENT_WORDS):
        return "%"
    if "per_hour" in key:
        return "lines/h" if "line" in key else "/h"
    if any(part.endswith("_s") for part in key.split(".")):  # also percentiles of a time: x_s.p50
        return "s"
    if leaf.endswith("_m") or leaf == "travel_m":
        return "m"
    if leaf.endswith("_ms"):
        return "ms"
    return ""


def format_value(key: str, value: Any) -> str:
    """A value as text with thousands separators, percent for shares, lists joined."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float) and unit_of(key) == "%":
        return f"{100 * value:.1f} %"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    if isinstance(value, list | tuple):
        return ", ".join(format_value(key, v) for v in value) or "none"
    if isinstance(value, Mapping):
        return "none"
    return str(value)


def label_of(key: str) -> str:
    """A readable name for a dotted key (``sorter.counters.sorted`` -> ``sorter › counters › sorted``)."""
    return " › ".join(part.replace("_", " ") for part in key.split("."))


def _cell(key: str, value: Any) -> str:
    unit = unit_of(key)
    text = format_value(key, value)
    if unit and unit != "%" and value is not None and not isinstance(value, bool):
        text = f"{text} {unit}"
    return html.escape(text)


def kpi_rows(summary: Mapping[str, Any]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(headline rows, every other row) as ``(label, formatted value with unit)``; manifest left out."""
    flat = dict(flatten({k: v for k, v in summary.items() if k != "manifest"}))
    head = [(label, _cell(key, flat[key])) for key, label in HEADLINE
            if key in flat and not (key in EQUIPMENT_ROWS and flat[key] is None)]
    shown = {key for key, _ in HEADLINE}
    rest = [(html.escape(label_of(key)), _cell(key, v)) for key, v in flat.items() if key not in shown]
    return [(html.escape(label), cell) for label, cell in head], rest


def table(rows: Sequence[tuple[str, str]], header: Sequence[str] = ()) -> str:
    """An HTML table from already-escaped cells."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr><th>" + r[0] + "</th>" + "".join(f"<td>{c}</td>" for c in r[1:]) + "</tr>"
                   for r in rows)
    return f"<table>{'<tr>' + head + '</tr>' if head else ''}{body}</table>"


def manifest_rows(manifest: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The run manifest as rows (seed, layout, fleet, options), nested values flattened."""
    return [(html.escape(label_of(k)), html.escape(format_value(k, v))) for k, v in flatten(manifest)]


def delta_rows(summaries: Sequence[Mapping[str, Any]]) -> list[tuple[str, ...]]:
    """Headline KPIs of several runs side by side, each later run with its change from the first."""
    flats = [dict(flatten(s)) for s in summaries]
    rows = []
    for key, label in HEADLINE:
        if not any(key in f for f in flats):
            continue
        base = flats[0].get(key)
        cells = [_cell(key, flats[0].get(key))]
        for f in flats[1:]:
            v = f.get(key)
            text = _cell(key, v)
            if isinstance(v, int | float) and isinstance(base, int | float) and not isinstance(v, bool):
                diff = v - base
                scale = 100 if unit_of(key) == "%" else 1
                rel = f", {100 * diff / base:+.0f} %" if base else ""
                unit = " pp" if scale == 100 else ""
                text += f" <small>({scale * diff:+,.3g}{unit}{rel})</small>"
            cells.append(text)
        rows.append((html.escape(label), *cells))
    return rows
