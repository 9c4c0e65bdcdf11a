"""A tiny random MAPF path generator for execution tests (no planner needed).

Robots decide their moves one after another each step; a robot may enter only a free cell or
one a robot that already decided has just left, so the paths have no vertex, swap or rotation
conflicts but do contain following moves (the case the action dependency graph must order).
"""

from __future__ import annotations

import numpy as np

from warehouse_maps.grid import Cell, Grid


def random_window(
    grid: Grid,
    starts: dict[str, Cell],
    length: int,
    rng: np.random.Generator,
    wait_p: float = 0.2,
    walls: frozenset[Cell] = frozenset(),
) -> dict[str, list[Cell]]:
    """Paths of ``length`` configurations from ``starts`` (robot -> cell), one move or wait per step,
    never entering ``walls`` (where robots that sit the window out stand)."""
    paths = {r: [c] for r, c in sorted(starts.items())}
    for _ in range(length - 1):
        current = {paths[r][-1]: r for r in paths}
        vacated: set[Cell] = set()
        taken: set[Cell] = set()
        order = sorted(paths)
        rng.shuffle(order)
        for r in order:
            here = paths[r][-1]
            options = [
                n
                for n in grid.neighbors(here)
                if n not in taken and n not in walls and (n not in current or n in vacated)
            ]
            if options and rng.random() >= wait_p:
                nxt = options[int(rng.integers(len(options)))]
                vacated.add(here)
            else:
                nxt = here
            taken.add(nxt)
            paths[r].append(nxt)
    return paths
