"""argparse ``type=`` functions: each refuses a bad option value with one line naming the rule.

Why not ``type=float``: ``float("nan")``, ``float("inf")`` and ``float("1e400")`` all parse, and
then end as a traceback deep inside the clock (``seconds(nan)``) or a loop that never ends
(``--trace-dt 1e-9``). Every time here is finite, at least its minimum and at most the
``seconds`` limit; every count is a whole number within its documented bound
(:mod:`warehouse_maps.limits`). argparse prints the message as
``bulletyard CMD: error: argument --OPT: MESSAGE`` and exits with status 2.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from bus.topics import TopicFormatError, check_level
from warehouse_maps.limits import env_name, limit


def finite_number(text: str) -> float:
    """Any finite number (``nan``, ``inf`` and overflowing literals are refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def seconds_option(minimum: float = 0.0, *, above: bool = False) -> Callable[[str], float]:
    """A time in seconds: finite, ``>= minimum`` (``> minimum`` when ``above``), at most the limit."""

    def parse(text: str) -> float:
        value = finite_number(text)
        low_ok = value > minimum if above else value >= minimum
        if not low_ok:
            sign = ">" if above else ">="
            raise argparse.ArgumentTypeError(f"{text} s: must be {sign} {minimum:g} seconds")
        if value > limit("seconds"):
            raise argparse.ArgumentTypeError(
                f"{text} s: more than {limit('seconds'):g} seconds (raise it with {env_name('seconds')})")
        return value

    parse.__name__ = "seconds"
    return parse


def positive_number(text: str) -> float:
    """A finite number above zero (rates, factors)."""
    value = finite_number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text}: must be above 0")
    return value


def fraction(text: str) -> float:
    """A finite number in [0, 1] (probabilities)."""
    value = finite_number(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text}: must be within [0, 1]")
    return value


def count_option(minimum: int = 0, bound: str | None = None) -> Callable[[str], int]:
    """A whole number ``>= minimum`` and at most the limit ``bound`` (see :mod:`warehouse_maps.limits`)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value}: must be at least {minimum}")
        if bound is not None and value > limit(bound):
            raise argparse.ArgumentTypeError(
                f"{value} exceeds the limit {limit(bound):,} "
                f"(raise it with {env_name(bound)}, see docs/limits.md)")
        return value

    parse.__name__ = "count"
    return parse


def seed_option(text: str) -> int:
    """A root seed: a whole number in [0, 2^64) (numpy's ``SeedSequence`` refuses negative ones)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value < 2**64:
        raise argparse.ArgumentTypeError(f"{value}: a seed is a whole number from 0 to 2^64 - 1")
    return value


def topic_level(text: str) -> str:
    """One MQTT topic level (``--site``): non-empty, without ``/ + # $`` or NUL."""
    try:
        return check_level(text, "site")
    except TopicFormatError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
