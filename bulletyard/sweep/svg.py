"""A small line chart as inline SVG (no plotting library: the page stays one file, and the sweep
needs no dependency beyond Ray)."""

from __future__ import annotations

import html
import math

WIDTH, HEIGHT = 760, 360
LEFT, RIGHT, TOP, BOTTOM = 80, 20, 36, 48


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values covering ``lo..hi``."""
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    return [start + k * step for k in range(int(math.ceil((hi - start) / step)) + 1)]


def line_chart(
    *,
    title: str,
    x_label: str,
    y_label: str,
    xs: list[int],
    mean: list[float | None],
    low: list[float | None],
    high: list[float | None],
    bound: list[float | None],
    knee: int | None,
    target: float | None,
) -> str:
    """Mean line with a low-high band, an optional bound line, knee marker and target line."""
    ys = [v for v in (*mean, *low, *high) if v is not None] + ([target] if target else [])
    bounds = [v for v in bound if v is not None]
    # a bound far above the results would flatten them: leave it out of the scale and say so
    bound_off_chart = bool(bounds) and bool(ys) and max(bounds) > 1.5 * max(ys)
    if not bound_off_chart:
        ys += bounds
    # fleet sizes are whole robots: tick at each one when there are few, else at round numbers
    x_ticks = [float(x) for x in xs] if 0 < len(xs) <= 12 else _ticks(min(xs or [0]), max(xs or [1]))
    x_ticks = [t for t in x_ticks if t == int(t)]
    y_ticks = _ticks(0.0, max(ys) * 1.05 if ys else 1.0)
    span = max(x_ticks) - min(x_ticks)
    pad = 0.04 * span if span else 1.0  # keep end points off the frame
    x0, x1, y1 = min(x_ticks) - pad, max(x_ticks) + pad, y_ticks[-1]
    pw, ph = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (x - x0) / (x1 - x0) * pw

    def py(y: float) -> float:
        return TOP + ph - y / y1 * ph

    def path(values: list[float | None]) -> str:
        pts = [(px(x), py(v)) for x, v in zip(xs, values) if v is not None]
        return " ".join(f"{'M' if k == 0 else 'L'}{a:.1f},{b:.1f}" for k, (a, b) in enumerate(pts))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
             f'<text x="{LEFT}" y="20" font-size="15" font-weight="bold">{html.escape(title)}</text>']
    for t in y_ticks:
        y = f"{py(t):.1f}"
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}" stroke="#eee"/>'
                     f'<text x="{LEFT - 6}" y="{py(t) + 4:.1f}" text-anchor="end">{t:,.0f}</text>')
    for t in x_ticks:
        parts.append(f'<line x1="{px(t):.1f}" x2="{px(t):.1f}" y1="{TOP + ph}" y2="{TOP + ph + 4}" '
                     f'stroke="#999"/><text x="{px(t):.1f}" y="{TOP + ph + 18}" text-anchor="middle">'
                     f'{t:g}</text>')
    parts.append(f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>')
    parts.append(f'<text x="{LEFT + pw / 2}" y="{HEIGHT - 8}" text-anchor="middle">'
                 f'{html.escape(x_label)}</text>')
    parts.append(f'<text transform="translate(16,{TOP + ph / 2}) rotate(-90)" text-anchor="middle">'
                 f'{html.escape(y_label)}</text>')
    band = [(x, lo, hi) for x, lo, hi in zip(xs, low, high) if lo is not None and hi is not None]
    if band:
        up = " ".join(f"{px(x):.1f},{py(hi):.1f}" for x, _, hi in band)
        down = " ".join(f"{px(x):.1f},{py(lo):.1f}" for x, lo, _ in reversed(band))
        parts.append(f'<polygon points="{up} {down}" fill="#4a78c2" fill-opacity="0.2" stroke="none"/>')
    if bound_off_chart:
        span = f"{min(bounds):,.0f}" + (f" to {max(bounds):,.0f}" if max(bounds) - min(bounds) >= 1 else "")
        parts.append(f'<text x="{WIDTH - RIGHT}" y="20" text-anchor="end" fill="#666">offered load '
                     f'{span}: above the chart</text>')
    elif bounds:
        parts.append(f'<path d="{path(bound)}" fill="none" stroke="#888" stroke-width="1.5" '
                     'stroke-dasharray="6 4"/>')
    parts.append(f'<path d="{path(mean)}" fill="none" stroke="#1f4e9c" stroke-width="2"/>')
    for x, v in zip(xs, mean):
        if v is not None:
            parts.append(f'<circle cx="{px(x):.1f}" cy="{py(v):.1f}" r="3" fill="#1f4e9c"/>')
    if target:
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{py(target):.1f}" y2="{py(target):.1f}" '
                     'stroke="#c0392b" stroke-dasharray="2 3" stroke-width="1.5"/>'
                     f'<text x="{WIDTH - RIGHT - 4}" y="{py(target) - 5:.1f}" text-anchor="end" '
                     f'fill="#c0392b">target {target:,.0f}</text>')
    if knee is not None:
        kx = px(knee)
        right = kx > LEFT + 0.7 * pw  # label on the side with room
        parts.append(f'<line x1="{kx:.1f}" x2="{kx:.1f}" y1="{TOP}" y2="{TOP + ph}" stroke="#e67e22" '
                     f'stroke-width="1.5"/><text x="{kx - 4 if right else kx + 4:.1f}" y="{TOP + 14}" '
                     f'fill="#e67e22" text-anchor="{"end" if right else "start"}">knee: {knee} robots</text>')
    parts.append("</svg>")
    return "\n".join(parts)
