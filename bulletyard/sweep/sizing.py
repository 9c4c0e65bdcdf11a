"""The sizing answer of a sweep: throughput against fleet size, its knee, and the spec's target.

For each layout and profile, every fleet size has one throughput per seed (order lines per hour,
or parcels per hour with ``metric: parcels_per_hour``). The *bound* is the offered load: the
order lines that arrived per hour of the run, which no fleet can beat. The *knee* is the smallest
fleet whose mean throughput is within ``KNEE_SHARE`` of the best mean of the series: robots
added beyond it buy little. The *target* (``target: {lines_per_hour: 5000, profile: peak}``) is
met by the smallest fleet whose every seed ran and reached it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bulletyard.sweep.svg import line_chart

KNEE_SHARE = 0.95


@dataclass
class Point:
    """One fleet size of a series: the throughput of each seed that ran, and the offered load."""

    robots: int
    values: list[float] = field(default_factory=list)
    bounds: list[float] = field(default_factory=list)
    failed: int = 0

    @property
    def mean(self) -> float | None:
        """Mean over the seeds that ran."""
        return sum(self.values) / len(self.values) if self.values else None


@dataclass
class Series:
    """One layout under one profile."""

    layout: str
    profile: str
    points: dict[int, Point] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """``fc / peak x4 600s``."""
        return f"{Path(self.layout).stem} / {self.profile}"

    def knee(self) -> int | None:
        """Smallest fleet whose mean is within ``KNEE_SHARE`` of the best mean."""
        means = {r: p.mean for r, p in sorted(self.points.items()) if p.mean is not None}
        if not means:
            return None
        best = max(means.values())
        return next(r for r, m in means.items() if m >= KNEE_SHARE * best)

    def smallest_holding(self, target: float) -> int | None:
        """Smallest fleet where every seed ran (none failed) and reached ``target``."""
        for r, p in sorted(self.points.items()):
            if p.values and not p.failed and min(p.values) >= target:
                return r
        return None


@dataclass
class Study:
    """Every series of a sweep, with the spec's metric and target."""

    metric: str
    series: list[Series]
    target: Any = None

    def answers(self) -> list[str]:
        """One sentence per series: its knee, and the target's answer when the spec asks."""
        out = []
        for s in self.series:
            knee = s.knee()
            out.append(f"{s.name}: knee at {knee} robots" if knee else f"{s.name}: no finished cell")
        if self.target is None:
            return out
        goal = self.target.lines_per_hour or self.target.parcels_per_hour
        unit = "lines/h" if self.target.lines_per_hour else "parcels/h"
        for s in self.target_series():
            r = s.smallest_holding(goal)
            verdict = f"{r} robots hold it in every seed" if r else \
                "no fleet size of the sweep holds it in every seed"
            out.append(f"target {goal:,.0f} {unit} on {s.name}: {verdict}")
        return out

    def target_series(self) -> list[Series]:
        """The series the target is about (none without a target)."""
        t = self.target
        if t is None:
            return []
        return [
            s for s in self.series
            if (t.profile is None or t.profile in (s.profile, s.profile.split(" ")[0]))
            and (t.layout is None or Path(t.layout).stem == Path(s.layout).stem)
        ]


def analyse(spec: Any, table: list[dict[str, Any]]) -> Study:
    """Group the result table's rows into series (rows of other shapes are ignored)."""
    metric = spec.metric
    by_key: dict[tuple[str, str], Series] = {}
    for row in table:
        key = (row["layout"], row["profile_label"])
        series = by_key.setdefault(key, Series(*key))
        point = series.points.setdefault(int(row["robots"]), Point(int(row["robots"])))
        value = row.get(metric)
        if row["status"] != "ok" or value is None:
            point.failed += 1
            continue
        point.values.append(float(value))
        if metric == "lines_per_hour" and row.get("offered_lines_per_hour") is not None:
            point.bounds.append(float(row["offered_lines_per_hour"]))
    return Study(metric, list(by_key.values()), spec.target)


def write_sizing_html(path: Path, spec: Any, study: Study) -> None:
    """``sizing.html``: one self-contained page (inline SVG, no scripts, no external files)."""
    unit = "order lines per hour" if study.metric == "lines_per_hour" else "parcels per hour"
    goal = None
    if study.target is not None:
        goal = study.target.lines_per_hour or study.target.parcels_per_hour
    charts, tables = [], []
    for s in study.series:
        pts = sorted(s.points.values(), key=lambda p: p.robots)
        charts.append(line_chart(
            title=s.name,
            x_label="robots",
            y_label=unit,
            xs=[p.robots for p in pts],
            mean=[p.mean for p in pts],
            low=[min(p.values) if p.values else None for p in pts],
            high=[max(p.values) if p.values else None for p in pts],
            bound=[sum(p.bounds) / len(p.bounds) if p.bounds else None for p in pts],
            knee=s.knee(),
            target=goal if s in study.target_series() else None,
        ))
        tables.append(_table(s, pts))
    answers = "".join(f"<li>{html.escape(a)}</li>" for a in study.answers())
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sizing: {html.escape(spec.name)}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; max-width: 980px; }}
table {{ border-collapse: collapse; margin: 8px 0 24px; }}
td, th {{ border: 1px solid #ccc; padding: 3px 8px; text-align: right; }}
th {{ background: #f3f3f3; }}
svg {{ display: block; margin: 8px 0; }}
</style></head><body>
<h1>Sizing: {html.escape(spec.name)}</h1>
<p>{unit.capitalize()} against fleet size. Line: mean over seeds; band: lowest to highest seed;
dashed grey: offered load (order lines that arrived per hour, the most any fleet can complete);
dotted red: the target; the knee is the smallest fleet within {KNEE_SHARE:.0%} of the best mean.</p>
<ul>{answers}</ul>
{"".join(c + t for c, t in zip(charts, tables))}
</body></html>
"""
    path.write_text(page, encoding="utf-8")


def _table(s: Series, pts: list[Point]) -> str:
    head = "<tr><th>robots</th><th>seeds ran</th><th>failed</th><th>mean</th><th>min</th><th>max</th>" \
           "<th>offered</th></tr>"

    def f(v: float | None) -> str:
        return "" if v is None else f"{v:,.0f}"

    body = "".join(
        f"<tr><td>{p.robots}</td><td>{len(p.values)}</td><td>{p.failed}</td><td>{f(p.mean)}</td>"
        f"<td>{f(min(p.values) if p.values else None)}</td><td>{f(max(p.values) if p.values else None)}</td>"
        f"<td>{f(sum(p.bounds) / len(p.bounds) if p.bounds else None)}</td></tr>"
        for p in pts
    )
    return f"<table>{head}{body}</table>"
