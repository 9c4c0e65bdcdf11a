"""The checks of ``bulletyard sim`` options, shared by the CLI, ``demo``, ``check`` and the API.

Why here and not as argparse types: :func:`bulletyard.api.simulate` and the scenario runner build
the same options without argparse, and ``--until -5``, ``--rate nan`` or ``--trace-dt 1e-9``
must be refused on every path, before the world is built (``docs/limits.md``).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from bulletyard.errors import UsageError
from bulletyard.inputs.paths import check_output_folder, input_problem
from warehouse_maps.limits import MIN_TRACE_DT_S, env_name, limit


def _bounded(option: str, value: float | None, *, low: float, high: float, low_open: bool = True,
             unit: str = "") -> None:
    """Refuse a non-finite ``value`` or one outside ``(low, high]`` (``[low, high]`` when closed)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise UsageError(f"{option} {value!r}: must be a finite number{unit}")
    if value < low or (low_open and value == low) or value > high:
        sign = ">" if low_open else ">="
        raise UsageError(f"{option} {value:g}: must be {sign} {low:g} and at most {high:g}{unit}")


def _count(option: str, value: int, minimum: int, bound: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{option} {value!r}: must be a whole number")
    if value < minimum:
        raise UsageError(f"{option} must be at least {minimum} (got {value})")
    if value > limit(bound):
        raise UsageError(f"{option} {value} exceeds the limit {limit(bound):,} "
                         f"(raise it with {env_name(bound)}, see docs/limits.md)")


def check_sim_args(args: argparse.Namespace) -> None:
    """Raise :class:`UsageError` for the first ``sim`` option out of range, naming it."""
    max_s = float(limit("seconds"))
    _count("--robots", args.robots, 1, "robots")
    if getattr(args, "order_file", None) is None:
        _count("--orders", args.orders, 0, "orders")
    if getattr(args, "chute_capacity", None) is not None:
        _count("--chute-capacity", args.chute_capacity, 1, "quantity")
    _bounded("--rate", args.rate, low=0.0, high=1e9, unit=" (orders per hour)")
    _bounded("--until", args.until, low=0.0, high=max_s, unit=" (seconds)")
    _bounded("--trace-dt", args.trace_dt, low=MIN_TRACE_DT_S, high=max_s, low_open=False, unit=" (seconds)")
    _bounded("--real-time-factor", getattr(args, "real_time_factor", None), low=0.0, high=1e6)
    for name in ("peak_factor", "peak_duration"):
        value = getattr(args, name, None)
        option = f"--{name.replace('_', '-')}"
        if value is not None and (getattr(args, "profile", "steady") != "peak"):
            raise UsageError(f"{option} {value}: needs --profile peak and a positive value")
        _bounded(option, value, low=0.0, high=1e6 if name == "peak_factor" else max_s)
    for option, attr in (("--order-file", "order_file"), ("--inventory", "inventory")):
        path = getattr(args, attr, None)
        if path is not None and input_problem(Path(path)):
            raise UsageError(f"{option} {input_problem(Path(path))}")
    check_output_folder(args.out, "--out")
