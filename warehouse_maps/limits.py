"""Upper bounds on what one input may ask for, checked before any memory is allocated (issue 25).

Why: a one-line map header saying ``width 1000000000000``, a YAML file of nested aliases or a
``--robots 100000000`` each ask for more memory or time than the machine has, and used to end
in a traceback, a hang or a killed process instead of one error line. Every bound here is far
above anything a warehouse needs (``docs/limits.md`` gives the reasoning per bound) and can be
raised for a legitimate larger run with the environment variable ``BULLETYARD_MAX_<NAME>``
(``BULLETYARD_MAX_GRID_CELLS=16000000``), read when the bound is checked.

Seconds are bounded too: times become integer nanoseconds (:mod:`bus.clock`), and 10^9 s
(about 31 years) keeps every instant inside a signed 64-bit integer.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

#: Name -> default bound. Units: bytes, cells, counts, nesting levels, seconds, pixels.
DEFAULTS: dict[str, int] = {
    "file_bytes": 256 * 1024 * 1024,  # one input file (LoRR task files are a few MB)
    "grid_cells": 4_000_000,  # width x height of one map (2000 x 2000; LoRR's largest is ~0.3 M)
    "robots": 5_000,  # vehicles in one run or fleet process
    "orders": 2_000_000,  # orders in one file, stream or sweep cell
    "parcels": 2_000_000,  # parcels in one parcel file (robotic sortation)
    "order_lines": 1_000,  # lines in one order
    "chutes": 10_000,  # chutes of one sorter
    "agents": 100_000,  # MAPF agents in one scenario
    "skus": 10_000_000,  # SKUs of one inventory
    "pixels": 16_777_216,  # one rendered image (4096 x 4096)
    "nesting": 64,  # JSON / YAML nesting levels
    "yaml_aliases": 100,  # YAML alias uses in one file (anchors themselves are free)
    "yaml_nodes": 1_000_000,  # values in one YAML file once its aliases are expanded
    "yaml_number": 1_000_000_000,  # largest magnitude of a number in a YAML file (configs, specs)
    "seconds": 1_000_000_000,  # any time or duration (keeps nanoseconds in 64 bits)
    "quantity": 1_000_000,  # units in one order line or one stock slot
    "sweep_cells": 100_000,  # runs in one sweep spec (layouts x profiles x fleet sizes x seeds)
}

#: Smallest trace period in seconds: below it a short run writes millions of frames.
MIN_TRACE_DT_S = 0.01


class LimitSettingError(ValueError):
    """A ``BULLETYARD_MAX_*`` variable that is not a positive whole number."""


def env_name(name: str) -> str:
    """The variable that raises bound ``name``: ``grid_cells`` -> ``BULLETYARD_MAX_GRID_CELLS``."""
    return f"BULLETYARD_MAX_{name.upper()}"


def limit(name: str, environ: Mapping[str, str] | None = None) -> int:
    """The bound ``name`` in force: ``BULLETYARD_MAX_<NAME>`` when set, else :data:`DEFAULTS`.

    Raises:
        KeyError: an unknown bound (a bug, not user input).
        LimitSettingError: the variable is set to something other than a positive whole number.
    """
    default = DEFAULTS[name]
    env = os.environ if environ is None else environ
    raw = env.get(env_name(name))
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip().replace("_", ""))
    except ValueError:
        raise LimitSettingError(f"{env_name(name)}={raw!r}: expected a positive whole number") from None
    if value < 1:
        raise LimitSettingError(f"{env_name(name)}={raw!r}: expected a positive whole number")
    return value


def over_limit(name: str, value: float, what: str) -> str:
    """An error text when ``value`` exceeds bound ``name`` ("" when it does not); ``what`` names
    the value with its unit, e.g. ``"map size 10 x 10 (100 cells)"``."""
    bound = limit(name)
    if value <= bound:
        return ""
    return f"{what} exceeds the limit of {bound:,} (raise it with {env_name(name)}; docs/limits.md)"
