"""The report's plots, drawn with matplotlib from one or more runs (one run: a report; several: overlaid).

Why matplotlib: the page must be static and open offline from one file (a run folder is copied to
a ticket or a CI artefact), so plots are rendered to SVG here and embedded; an interactive library
would need its JavaScript inlined (megabytes) or fetched (not offline). matplotlib also chooses
ticks in data units, which the hand-built SVG of earlier versions did not.

Every function takes a sequence of :class:`sim.report_data.RunData` and returns a ``Figure`` (never
``pyplot``: no global figure state, safe in a sweep's worker threads). Axis labels carry units.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from controller.stats import percentile
from sim.report_data import RunData, place_order

RUN_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f")
STATE_COLOURS = {
    "driving": "#1f77b4",
    "busy": "#2ca02c",
    "waiting": "#ff7f0e",
    "idle": "#c7c7c7",
    "charging": "#bcbd22",
    "offline": "#7f7f7f",
}
LAYOUT_COLOURS = {"@": "#444444", "O": "#444444", "P": "#aebfd1", "S": "#2ca02c", "I": "#17becf",
                  "H": "#9467bd", "C": "#bcbd22", "K": "#e8e8e8"}
MAX_LINES = 8  # chutes drawn as lines up to this many; more become a chute x time image


def _colour(k: int) -> str:
    return RUN_COLOURS[k % len(RUN_COLOURS)]


def _name(run: RunData, runs: Sequence[RunData], what: str) -> str:
    return what if len(runs) == 1 else f"{run.label}: {what}"


def _minutes(run: RunData, n: int) -> np.ndarray:
    """Bin centres in simulated minutes."""
    return (np.arange(n) + 0.5) * run.bin_s / 60.0


def throughput(runs: Sequence[RunData]) -> Figure:
    """Order lines completed per hour over time, against arrivals and the run's bound."""
    fig = Figure(figsize=(8, 3.6))
    ax = fig.add_subplot()
    for k, run in enumerate(runs):
        c = _colour(k)
        x = _minutes(run, len(run.completed_per_h))
        ax.plot(x, run.completed_per_h, color=c, lw=1.8, label=_name(run, runs, "completed"))
        ax.plot(x, run.arrivals_per_h, color=c, lw=1.0, ls=":", label=_name(run, runs, "arriving"))
        if run.bound_per_h is not None:
            ax.axhline(run.bound_per_h, color=c, lw=1.2, ls="--",
                       label=_name(run, runs, f"bound {run.bound_per_h:,.0f}/h"))
    ax.set(title="Throughput against arrivals and the site's bound", xlabel="simulated time (min)",
           ylabel="order lines per hour")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return fig


def cycle_times(runs: Sequence[RunData]) -> Figure:
    """Histogram of order cycle times with p50, p95 and p99 marked (nearest-rank percentiles)."""
    fig = Figure(figsize=(8, 3.6))
    ax = fig.add_subplot()
    every = [v for run in runs for v in run.cycle_times_s]
    edges = np.histogram_bin_edges(every or [0.0, 1.0], bins=30)
    for k, run in enumerate(runs):
        c = _colour(k)
        if not run.cycle_times_s:
            continue
        kind = "bar" if len(runs) == 1 else "step"
        ax.hist(run.cycle_times_s, bins=edges, color=c, alpha=0.8 if kind == "bar" else 1.0,
                histtype=kind, lw=1.5, label=_name(run, runs, f"{len(run.cycle_times_s)} orders"))
        for q, ls in ((50, "-"), (95, "--"), (99, ":")):
            p = percentile(run.cycle_times_s, q)
            ax.axvline(p, color="black" if len(runs) == 1 else c, ls=ls, lw=1.2,
                       label=_name(run, runs, f"p{q} {p:,.0f} s"))
    ax.set(title="Order cycle time (arrival to completion)", xlabel="cycle time (s)",
           ylabel="orders")
    ax.grid(alpha=0.3)
    if every:
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no order completed", transform=ax.transAxes, ha="center")
    fig.tight_layout()
    return fig


def robot_states(runs: Sequence[RunData]) -> Figure:
    """Where the fleet's time goes: robots per state over time, stacked (one panel per run)."""
    fig = Figure(figsize=(8, 2.8 * len(runs) + 0.6))
    axes = fig.subplots(len(runs), 1, sharex=True, squeeze=False)[:, 0]
    order = [s for s in STATE_COLOURS if any(s in r.robots_by_state for r in runs)]
    order += sorted({s for r in runs for s in r.robots_by_state} - set(order))
    for ax, run in zip(axes, runs, strict=True):
        n = max((len(v) for v in run.robots_by_state.values()), default=0)
        x = _minutes(run, n)
        names = [s for s in order if s in run.robots_by_state]
        if n:
            ax.stackplot(x, [run.robots_by_state[s] for s in names], labels=names,
                         colors=[STATE_COLOURS.get(s, "#17becf") for s in names], alpha=0.9)
        ax.set(ylabel="robots", title=_name(run, runs, "robots by state"))
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8, loc="upper right", ncols=len(names) or 1)
    axes[-1].set_xlabel("simulated time (min)")
    fig.tight_layout()
    return fig


def _induct_loads_per_h(run: RunData) -> dict[str, float]:
    """Parcels loaded per hour at each induct of a robotic sortation run (empty for other runs)."""
    sortation = run.summary.get("sortation") or {}
    loads = sortation.get("loads_by_induct") or {}
    hours = float(run.summary.get("sim_time_s") or 0.0) / 3600.0
    return {str(k): float(v) / hours for k, v in loads.items()} if hours > 0 else {}


def utilisation(runs: Sequence[RunData]) -> Figure:
    """Per pick station the share of time busy (or, on a robotic sortation floor with no stations,
    parcels loaded per hour at each induct), and per robot the share not idle, busiest first."""
    fig = Figure(figsize=(10, 3.6))
    ax_s, ax_r = fig.subplots(1, 2, width_ratios=(1, 1.4))
    stations = sorted({s for r in runs for s in r.station_utilisation}, key=place_order)
    loads = [_induct_loads_per_h(r) for r in runs]
    by_induct = not stations and any(loads)
    places = sorted({i for per in loads for i in per}, key=place_order) if by_induct else stations
    width = 0.8 / len(runs)
    for k, run in enumerate(runs):
        c = _colour(k)
        xs = np.arange(len(places)) + (k - (len(runs) - 1) / 2) * width
        heights = ([loads[k].get(p, 0.0) for p in places] if by_induct
                   else [100 * run.station_utilisation.get(s, 0.0) for s in places])
        ax_s.bar(xs, heights, width=width, color=c, label=run.label)
        util = sorted(run.robot_utilisation.values(), reverse=True)
        ax_r.step(np.arange(1, len(util) + 1), [100 * u for u in util], where="mid", color=c,
                  label=_name(run, runs, f"{len(util)} robots, mean {100 * np.mean(util or [0]):.0f} %"))
    ax_s.set_xticks(np.arange(len(places)), places, rotation=90 if len(places) > 12 else 0, fontsize=8)
    if by_induct:
        ax_s.set(title="Inducts", xlabel="induct", ylabel="parcels loaded per hour")
    elif stations:
        ax_s.set(title="Pick stations", xlabel="station", ylabel="time a robot was served (%)", ylim=(0, 100))
    else:
        ax_s.set_axis_off()
        ax_s.text(0.5, 0.5, "no pick stations or inducts", ha="center", va="center", transform=ax_s.transAxes)
    ax_r.set(title="Robots, busiest first", xlabel="robot rank (1 = busiest)",
             ylabel="time not idle (%)", ylim=(0, 102))
    ax_r.set_xlim(left=0.5)
    ax_r.xaxis.get_major_locator().set_params(integer=True)
    for ax in (ax_s, ax_r):
        ax.grid(alpha=0.3, axis="y")
    ax_r.legend(fontsize=8, loc="lower left")
    if len(runs) > 1 and places:
        ax_s.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _layout_image(rows: Sequence[str]) -> np.ndarray:
    """RGBA image of the layout: walls and chute holes dark, racks (storage) blue-grey, places coloured."""
    from matplotlib.colors import to_rgba

    img = np.ones((len(rows), len(rows[0]) if rows else 0, 4))
    for y, row in enumerate(rows):
        for x, ch in enumerate(row):
            if ch in LAYOUT_COLOURS:
                img[y, x] = to_rgba(LAYOUT_COLOURS[ch])
    return img


def congestion(runs: Sequence[RunData]) -> Figure:
    """Seconds working robots stood still, per cell, over the layout (racks blue-grey, stations green)."""
    rows0 = runs[0].layout["rows"]
    aspect = len(rows0[0]) / max(len(rows0), 1)  # width over height of the floor
    cols = 1 if len(runs) == 1 else 2
    n_rows = (len(runs) + cols - 1) // cols
    width = 9.0 if cols == 1 else 11.0
    panel_h = min(7.0, max(2.0, (width - 1.5) / cols / aspect))
    fig = Figure(figsize=(width, panel_h * n_rows + 0.8), layout="constrained")
    axes = fig.subplots(n_rows, cols, squeeze=False).ravel()
    v_max = max((c[2] for r in runs for c in r.congestion), default=1.0)
    reds = ListedColormap(np.linspace([1.0, 0.9, 0.2, 0.85], [0.55, 0.0, 0.0, 1.0], 64))
    image = None
    for ax, run in zip(axes, runs, strict=False):
        rows, cs = run.layout["rows"], float(run.layout["cell_size_m"])
        h, w = len(rows), len(rows[0])
        extent = (0.0, w * cs, -h * cs, 0.0)  # map frame: x east, y north, rows go south
        ax.imshow(_layout_image(rows), extent=extent, interpolation="nearest")
        heat = np.full((h, w), np.nan)
        for x, y, s in run.congestion:
            heat[int(y), int(x)] = s
        image = ax.imshow(heat, extent=extent, interpolation="nearest", cmap=reds, vmin=0, vmax=v_max)
        ax.set(title=_name(run, runs, f"layout {run.layout['name']}"), xlabel="x (m)", ylabel="y (m)")
    for ax in axes[len(runs):]:
        ax.set_visible(False)
    if image is not None:
        fig.colorbar(image, ax=list(axes[: len(runs)]), label="time standing still with work (s)",
                     shrink=0.8)
    fig.suptitle("Congestion: where working robots stood still (racks blue-grey, pick stations green)")
    return fig


def _run_end_s(run: RunData) -> float:
    """The run's simulated length in seconds (its last chute sample when the summary lacks it)."""
    end = run.summary.get("sim_time_s")
    if isinstance(end, int | float) and end > 0:
        return float(end)
    return max((p[0] for samples in run.chute_fill.values() for p in samples), default=0.0) or 1.0


def chute_fill(runs: Sequence[RunData]) -> Figure | None:
    """Chute fill over time (lines for a few chutes, a chute x time image for many). A chute's
    fill holds from one sample to the next: the robotic sortation floor reports a chute only when
    it changes. None when no run has chutes."""
    with_sorter = [r for r in runs if r.chute_fill]
    if not with_sorter:
        return None
    fig = Figure(figsize=(8, 3.2 * len(with_sorter) + 0.4))
    axes = fig.subplots(len(with_sorter), 1, squeeze=False)[:, 0]
    for ax, run in zip(axes, with_sorter, strict=True):
        chutes = sorted(run.chute_fill)
        ax.set(title=_name(run, runs, f"{len(chutes)} chutes"), xlabel="simulated time (min)")
        if len(chutes) <= MAX_LINES:
            for cid in chutes:
                pts = np.asarray(run.chute_fill[cid], dtype=float).reshape(-1, 2)
                pts = np.vstack([pts, [max(_run_end_s(run), pts[-1, 0]), pts[-1, 1]]])
                ax.plot(pts[:, 0] / 60, 100 * pts[:, 1], lw=1.2, label=cid, drawstyle="steps-post")
            ax.set(ylabel="fill (%)", ylim=(0, 105))
            ax.legend(fontsize=8, ncols=4)
            continue
        t_end = _run_end_s(run)
        bins = int(t_end // run.bin_s) + (t_end % run.bin_s > 0) or 1
        img = np.full((len(chutes), bins), np.nan)
        for i, cid in enumerate(chutes):
            for t, f in run.chute_fill[cid]:
                img[i, min(int(t // run.bin_s), bins - 1):] = 100 * f  # held until the next report
        im = ax.imshow(img, aspect="auto", interpolation="nearest", cmap="viridis", vmin=0, vmax=100,
                       extent=(0, bins * run.bin_s / 60, len(chutes) - 0.5, -0.5))
        ticks = np.linspace(0, len(chutes) - 1, min(len(chutes), 8)).round().astype(int)
        ax.set_yticks(ticks, [chutes[i] for i in ticks], fontsize=8)
        ax.set_ylabel("chute")
        fig.colorbar(im, ax=ax, label="fill (%)")
    fig.suptitle("Chute fill")
    fig.tight_layout()
    return fig


def all_figures(runs: Sequence[RunData]) -> list[tuple[str, Figure]]:
    """Every plot of the report, titled, in page order (the chute plot only with chutes)."""
    figures = [
        ("Throughput", throughput(runs)),
        ("Order cycle time", cycle_times(runs)),
        ("Robot states", robot_states(runs)),
        ("Utilisation", utilisation(runs)),
        ("Congestion", congestion(runs)),
    ]
    chutes = chute_fill(runs)
    if chutes is not None:
        figures.append(("Chute fill", chutes))
    return figures
