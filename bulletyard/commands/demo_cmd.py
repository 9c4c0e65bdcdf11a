"""``bulletyard demo``: what the README's first command runs.

Until the full simulator lands, the demo runs what exists end to end on a bundled map and
prints its summary.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``demo``."""
    p = sub.add_parser("demo", help="run the headless demonstration and print its summary")
    p.add_argument("--seed", type=int, default=1, help="root seed (default 1)")
    p.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    from warehouse_maps.grid import Grid

    grid = Grid.from_rows(["........", "..@@@@..", "........"])
    print(f"demo grid {grid.width} x {grid.height}: distance corner to corner "
          f"{grid.distance((0, 0), (7, 2))} moves")
    return 0
