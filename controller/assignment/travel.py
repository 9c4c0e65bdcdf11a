"""Travel times from the grid's distance tables, shaped for assignment.

The assigner needs robot-to-pod, pod-to-station and station-to-pod travel for thousands of pairs
per planning cycle. :class:`TravelTimes` keeps one flat distance table per goal cell (pods, stations,
chargers) and answers "from these cells to that goal" with one numpy gather. Tables come from
:meth:`warehouse_maps.grid.Grid.distance_table` (exact shortest routes, one-way lanes honoured);
``warm`` computes them ahead in batches (a deployment warms every storage and station cell once
per layout).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from warehouse_maps.grid import Cell, Grid

#: Travel cost used for unreachable pairs (cells), large enough that no plan uses them.
UNREACHABLE_CELLS = 10**7


class TravelTimes:
    """Shortest-route travel in cells and seconds on one grid.

    Args:
        grid: the floor.
        speed_cells_per_s: robot cruise speed (cells per second) for converting to seconds.
    """

    def __init__(self, grid: Grid, speed_cells_per_s: float = 1.0) -> None:
        if speed_cells_per_s <= 0:
            raise ValueError("speed must be positive")
        self.grid = grid
        self.speed_cells_per_s = speed_cells_per_s
        self._flat: dict[Cell, np.ndarray] = {}

    def table(self, goal: Cell) -> np.ndarray:
        """Flat (row-major) distance table to ``goal`` in cells, unreachable = :data:`UNREACHABLE_CELLS`."""
        flat = self._flat.get(goal)
        if flat is None:
            flat = self._store(goal, self.grid.distance_table(goal))
            self.grid.forget_tables()  # keep one copy, ours
        return flat

    def _store(self, goal: Cell, raw: np.ndarray) -> np.ndarray:
        flat = raw.ravel().astype(np.int32)
        flat[flat < 0] = UNREACHABLE_CELLS
        flat.setflags(write=False)
        self._flat[goal] = flat
        return flat

    def warm(self, goals: Iterable[Cell]) -> int:
        """Compute the tables of ``goals`` now; returns how many were new."""
        missing = list(dict.fromkeys(g for g in goals if g not in self._flat))
        for first in range(0, len(missing), 256):  # the grid computes a batch at once
            chunk = missing[first : first + 256]
            for goal, raw in zip(chunk, self.grid.distance_tables(chunk), strict=True):
                self._store(goal, raw)
            self.grid.forget_tables()  # keep one copy, ours
        return len(missing)

    def index(self, cells: Sequence[Cell]) -> np.ndarray:
        """Row-major indices of ``cells`` (for :meth:`cells_to`)."""
        if not len(cells):
            return np.empty(0, dtype=np.int64)
        xy = np.asarray(cells, dtype=np.int64).reshape(-1, 2)
        return xy[:, 1] * self.grid.width + xy[:, 0]

    def cells_to(self, starts_idx: np.ndarray, goal: Cell) -> np.ndarray:
        """Distances in cells from each start (row-major indices) to ``goal``."""
        cells: np.ndarray = self.table(goal)[starts_idx]
        return cells

    def cells(self, start: Cell, goal: Cell) -> int:
        """Distance in cells from ``start`` to ``goal``."""
        return int(self.table(goal)[start[1] * self.grid.width + start[0]])

    def seconds(self, start: Cell, goal: Cell) -> float:
        """Travel time in seconds at cruise speed (no acceleration or turning model)."""
        return self.cells(start, goal) / self.speed_cells_per_s
