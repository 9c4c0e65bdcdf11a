"""The grid as flat int32 arrays for the numba kernels: cell indices, neighbour table, distances.

A cell ``(x, y)`` is the index ``y * width + x`` (as :meth:`Grid.index`). ``nbr[v, d]`` is the
cell reached from ``v`` by heading ``d`` (E, S, W, N) or -1; one-way edges are honoured.
Distance rows come from :meth:`Grid.distance_table` (cached per goal) with unreachable cells
set to a large finite value so the kernels can compare without special cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from controller.planning.errors import PlanningInputError
from warehouse_maps.grid import MOVES, Cell, Grid


@dataclass(frozen=True, eq=False)
class FlatGrid:
    """Flat view of a :class:`Grid` for array code.

    Attributes:
        grid: the source grid.
        nbr: int32 ``(cells, 4)``: neighbour by heading E, S, W, N, or -1.
        deg: int32 ``(cells,)``: number of neighbours (0 for walls).
        far: the "unreachable" distance, larger than any real distance.
    """

    grid: Grid
    nbr: np.ndarray
    deg: np.ndarray
    far: int

    @classmethod
    def of(cls, grid: Grid) -> FlatGrid:
        """Build the neighbour table once per grid."""
        w, h = grid.width, grid.height
        nbr = np.full((w * h, 4), -1, dtype=np.int32)
        ys, xs = np.nonzero(grid.passable)
        for x, y in zip(xs.tolist(), ys.tolist()):
            for d, (dx, dy) in enumerate(MOVES):
                if grid.can_move((x, y), (x + dx, y + dy)):
                    nbr[y * w + x, d] = (y + dy) * w + x + dx
        deg = (nbr >= 0).sum(axis=1).astype(np.int32)
        far = int(w * h * 4 + 16)
        return cls(grid, nbr, deg, far)

    @property
    def n(self) -> int:
        """Number of cells (including walls)."""
        return self.grid.width * self.grid.height

    def index(self, cell: Cell) -> int:
        """Flat index of ``cell``."""
        return cell[1] * self.grid.width + cell[0]

    def cell(self, index: int) -> Cell:
        """Cell of a flat index."""
        w = self.grid.width
        return (int(index) % w, int(index) // w)

    def dist_row(self, goal: Cell) -> np.ndarray:
        """int32 distances to ``goal`` for every cell, ``far`` where unreachable."""
        table = self.grid.distance_table(goal).ravel()
        row = table.astype(np.int32, copy=True)
        row[row < 0] = self.far
        return row

    def dist_rows(self, goals: Sequence[Cell]) -> np.ndarray:
        """int32 ``(agents, cells)``: one distance row per goal (shared goals computed once)."""
        out = np.empty((len(goals), self.n), dtype=np.int32)
        cache: dict[Cell, np.ndarray] = {}
        for i, g in enumerate(goals):
            row = cache.get(g)
            if row is None:
                row = cache[g] = self.dist_row(g)
            out[i] = row
        return out


def check_instance(grid: Grid, starts: Sequence[Cell], goals: Sequence[Cell]) -> None:
    """Raise :class:`PlanningInputError` for unusable starts or goals (names the agent)."""
    if len(starts) != len(goals):
        raise PlanningInputError(f"{len(starts)} starts but {len(goals)} goals")
    for what, cells in (("start", starts), ("goal", goals)):
        seen: dict[Cell, int] = {}
        for i, c in enumerate(cells):
            if not grid.is_passable(c):
                raise PlanningInputError(f"agent {i}: {what} {c} is not a floor cell")
            if c in seen:
                raise PlanningInputError(f"agents {seen[c]} and {i} share the {what} {c}")
            seen[c] = i
    for i, (s, g) in enumerate(zip(starts, goals)):
        if grid.distance(s, g) < 0:
            raise PlanningInputError(f"agent {i}: goal {g} cannot be reached from {s}")
