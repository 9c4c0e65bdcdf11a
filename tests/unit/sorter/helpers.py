"""Small sorter lines for tests, drawn to scale.

    origin  in-1  scanner  c001 c002 c003 c004            reject
    0 m     1 m   3 m      5    7    9    11              18 m   (loop 20 m, 1 m/s: a lap is 20 s)

40 carriers at 0.5 m; chutes hold ``capacity`` items and a packer needs ``clear_s`` to empty one.
"""

from __future__ import annotations

import numpy as np

from bus.clock import SIM_EPOCH, Instant, seconds
from sorter.config import ChuteLayout, InductConfig, LoopConfig, ScannerConfig
from sorter.events import Item
from sorter.loop import LoopSorter


def small_config(capacity: int = 5, clear_s: float = 30.0, no_read: float = 0.0, max_recirculations: int = 2,
                 reply_timeout_s: float = 2.0, inducts: int = 1, automatic: bool = False) -> LoopConfig:
    """The line drawn in this module's docstring."""
    return LoopConfig(
        sorter_id="s1",
        loop_length_m=20.0,
        carrier_pitch_m=0.5,
        speed_mps=1.0,
        inducts=tuple(InductConfig(induct_id=f"in-{k + 1}", position_m=1.0 + 0.5 * k, automatic=automatic)
                      for k in range(inducts)),
        scanner=ScannerConfig(position_m=3.0, no_read_probability=no_read),
        chutes=ChuteLayout(count=4, first_m=5.0, spacing_m=2.0, sides=1, capacity_items=capacity,
                           clear_time_s=clear_s),
        reject_position_m=18.0,
        max_recirculations=max_recirculations,
        reply_timeout_s=reply_timeout_s,
    )


def at(s: float) -> Instant:
    """The instant ``s`` seconds after the simulation epoch."""
    return Instant(SIM_EPOCH + seconds(s))


def make(config: LoopConfig | None = None, seed: int = 1, **kw: object) -> LoopSorter:
    """A loop sorter on ``config`` (default: :func:`small_config`)."""
    return LoopSorter(config or small_config(), np.random.default_rng(seed), SIM_EPOCH, **kw)


def item(n: int, dest: str = "D001", oversized: bool = False) -> Item:
    """Item ``i{n}`` with a barcode for ``dest``."""
    return Item(f"i{n}", f"{dest}:{n:04d}", oversized)
