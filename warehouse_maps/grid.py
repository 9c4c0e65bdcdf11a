"""The warehouse floor as a 4-connected grid with cached BFS distance tables.

Cells are ``(x, y)`` with ``x`` the column and ``y`` the row, as in MovingAI maps; ``y`` grows
downwards (south). Every robot, planner and loader in bulletyard speaks this one coordinate
system. Distances are counted in moves between neighbouring cells (one move = one cell edge);
optional one-way edges and per-edge weights serve layouts with directed travel lanes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeAlias

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

Cell: TypeAlias = tuple[int, int]
"""A grid cell ``(x, y)``: ``x`` the column, ``y`` the row (south is +y)."""

#: The four moves in heading order: 0 = east (+x), 1 = south (+y), 2 = west, 3 = north.
MOVES: tuple[Cell, ...] = ((1, 0), (0, 1), (-1, 0), (0, -1))

UNREACHABLE = -1
"""Value a distance table holds for cells that cannot be reached."""

_BATCH = 32  # goals per C-level search call in Grid.distance_tables


@dataclass(eq=False)
class Grid:
    """A rectangular grid of passable and blocked cells.

    Args:
        passable: boolean array of shape ``(height, width)``; ``passable[y, x]`` is True for
            floor a robot may stand on.
        one_way: directed edges ``(from_cell, to_cell)`` that may be travelled only in that
            direction: the reverse edge is removed.
        edge_weights: positive integer cost per directed edge; edges not named cost 1.
    """

    passable: np.ndarray
    one_way: frozenset[tuple[Cell, Cell]] = frozenset()
    edge_weights: dict[tuple[Cell, Cell], int] = field(default_factory=dict)
    _tables: dict[Cell, np.ndarray] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        arr = np.asarray(self.passable, dtype=bool)
        if arr.ndim != 2 or arr.size == 0:
            raise ValueError("passable must be a non-empty 2-D array (height, width)")
        self.passable = np.ascontiguousarray(arr)
        self.passable.setflags(write=False)
        for a, b in self.one_way:
            if not (self.is_passable(a) and self.is_passable(b)) or _manhattan(a, b) != 1:
                raise ValueError(f"one-way edge {a}->{b} does not join two neighbouring floor cells")
        for (a, b), w in self.edge_weights.items():
            if w <= 0 or int(w) != w:
                raise ValueError(f"edge {a}->{b} weight must be a positive integer, got {w}")

    # -- shape -----------------------------------------------------------------------------

    @property
    def width(self) -> int:
        """Number of columns."""
        return int(self.passable.shape[1])

    @property
    def height(self) -> int:
        """Number of rows."""
        return int(self.passable.shape[0])

    @cached_property
    def free_cells(self) -> tuple[Cell, ...]:
        """All passable cells in row-major order (stable, for seeded sampling)."""
        ys, xs = np.nonzero(self.passable)
        return tuple((int(x), int(y)) for y, x in zip(ys, xs, strict=True))

    def in_bounds(self, cell: Cell) -> bool:
        """True when ``cell`` lies on the grid."""
        x, y = cell
        return 0 <= x < self.width and 0 <= y < self.height

    def is_passable(self, cell: Cell) -> bool:
        """True when ``cell`` is on the grid and is floor."""
        return self.in_bounds(cell) and bool(self.passable[cell[1], cell[0]])

    def index(self, cell: Cell) -> int:
        """Row-major index ``y * width + x`` (the League of Robot Runners numbering)."""
        return cell[1] * self.width + cell[0]

    def cell_of(self, index: int) -> Cell:
        """Inverse of :meth:`index`."""
        return (index % self.width, index // self.width)

    # -- moves -----------------------------------------------------------------------------

    def can_move(self, a: Cell, b: Cell) -> bool:
        """True when a robot may move from ``a`` to the neighbouring cell ``b`` in one step."""
        if _manhattan(a, b) != 1 or not self.is_passable(a) or not self.is_passable(b):
            return False
        return (b, a) not in self.one_way

    def neighbors(self, cell: Cell) -> Iterator[Cell]:
        """Cells reachable from ``cell`` in one move, in heading order E, S, W, N."""
        x, y = cell
        for dx, dy in MOVES:
            nb = (x + dx, y + dy)
            if self.can_move(cell, nb):
                yield nb

    def entries(self, cell: Cell) -> Iterator[Cell]:
        """Cells from which ``cell`` is reached in one move, in heading order E, S, W, N (on a
        grid of two-way edges, its :meth:`neighbors`)."""
        x, y = cell
        for dx, dy in MOVES:
            nb = (x + dx, y + dy)
            if self.can_move(nb, cell):
                yield nb

    def weight(self, a: Cell, b: Cell) -> int:
        """Cost of the move ``a -> b`` (1 unless a weight was given)."""
        return self.edge_weights.get((a, b), 1)

    @property
    def is_uniform(self) -> bool:
        """True when every move costs 1 and every edge is two-way (plain BFS applies)."""
        return not self.one_way and not self.edge_weights

    # -- distances -------------------------------------------------------------------------

    def distance_table(self, goal: Cell) -> np.ndarray:
        """Cost of the cheapest route from every cell *to* ``goal``, shape ``(height, width)``.

        Computed once per goal and cached (read-only); unreachable and blocked cells hold
        :data:`UNREACHABLE`. With one-way edges or weights the table honours them (it is a
        search from the goal over the reversed moves).
        """
        table = self._tables.get(goal)
        if table is None:
            table = self.distance_tables([goal])[0]
        return table

    def distance_tables(self, goals: Iterable[Cell]) -> list[np.ndarray]:
        """:meth:`distance_table` for many goals, with the uncached ones computed in one batch.

        Uniform grids use a compiled queue BFS (:mod:`warehouse_maps.bfs_kernel`, about 0.1 ms
        per table on the 160 x 60 ``fc`` floor); one-way or weighted grids use scipy's Dijkstra
        over the reversed move graph.
        """
        goals = list(goals)
        missing = list(dict.fromkeys(g for g in goals if g not in self._tables))
        for goal in missing:
            if not self.is_passable(goal):
                raise ValueError(f"goal {goal} is not a passable cell")
        for first in range(0, len(missing), _BATCH):
            chunk = missing[first : first + _BATCH]  # bounds the scratch memory to _BATCH rows
            for goal, row in zip(chunk, self._search([self.index(g) for g in chunk]), strict=True):
                table = row.reshape(self.passable.shape)
                table.setflags(write=False)
                self._tables[goal] = table
        return [self._tables[g] for g in goals]

    def _search(self, goal_indices: list[int]) -> np.ndarray:
        """Flat int32 tables ``(len(goals), cells)`` to each goal: compiled BFS, or Dijkstra over
        the reversed move graph when edges are one-way or weighted."""
        if self.is_uniform:
            try:
                from warehouse_maps.bfs_kernel import bfs_tables  # numba: imported on first use
            except ImportError:  # numba missing or broken: scipy's BFS gives the same tables
                pass
            else:
                return bfs_tables(self.passable, np.asarray(goal_indices, dtype=np.int64))
        dist = np.atleast_2d(dijkstra(self._reverse_graph, directed=True, indices=goal_indices,
                                      unweighted=self.is_uniform))
        return np.where(np.isinf(dist), UNREACHABLE, dist).astype(np.int32)

    def pair_distances(self, pairs: Iterable[tuple[Cell, Cell]]) -> np.ndarray:
        """Costs of many ``(start, goal)`` pairs, without caching a table per goal.

        For checking scenario files: one search per distinct goal, batched, then forgotten, so
        1000 agents on a 161 x 63 map cost well under a second and no memory afterwards.
        Blocked starts or goals and unreachable pairs give :data:`UNREACHABLE`.
        """
        pairs = list(pairs)
        out = np.full(len(pairs), UNREACHABLE, dtype=np.int64)
        by_goal: dict[Cell, list[int]] = {}
        for k, (start, goal) in enumerate(pairs):
            if self.is_passable(start) and self.is_passable(goal):
                by_goal.setdefault(goal, []).append(k)
        goals = list(by_goal)
        for first in range(0, len(goals), _BATCH):
            chunk = goals[first : first + _BATCH]
            for goal, row in zip(chunk, self._search([self.index(g) for g in chunk]), strict=True):
                for k in by_goal[goal]:
                    out[k] = row[self.index(pairs[k][0])]
        return out

    def distance(self, start: Cell, goal: Cell) -> int:
        """Cost from ``start`` to ``goal``; :data:`UNREACHABLE` when there is no route."""
        if not self.is_passable(start):
            return UNREACHABLE
        return int(self.distance_table(goal)[start[1], start[0]])

    def fresh_distance_table(self, goal: Cell) -> np.ndarray:
        """:meth:`distance_table` computed now and not cached here (for callers that keep their
        own bounded cache, so the grid's cache does not grow with every goal a long run visits)."""
        cached = self._tables.get(goal)
        if cached is not None:
            return cached
        if not self.is_passable(goal):
            raise ValueError(f"goal {goal} is not a passable cell")
        table: np.ndarray = self._search([self.index(goal)])[0].reshape(self.passable.shape)
        table.setflags(write=False)
        return table

    def forget_tables(self) -> None:
        """Drop cached distance tables (memory: 4 bytes per cell per cached goal)."""
        self._tables.clear()

    @cached_property
    def _reverse_graph(self) -> csr_matrix:
        """Sparse matrix with entry ``[to, from] = cost`` for every allowed move ``from -> to``.

        A search from the goal over this matrix gives the cost of reaching the goal from every
        cell. Built once per grid with numpy (no per-cell Python loop for uniform grids).
        """
        p = self.passable
        h, w = p.shape
        idx = np.arange(h * w).reshape(h, w)
        east = p[:, :-1] & p[:, 1:]
        south = p[:-1, :] & p[1:, :]
        a = np.concatenate([idx[:, :-1][east], idx[:-1, :][south]])
        b = np.concatenate([idx[:, 1:][east], idx[1:, :][south]])
        to = np.concatenate([a, b])
        frm = np.concatenate([b, a])
        cost = np.ones(to.size, dtype=np.float64)
        if self.one_way:
            # (a, b) one-way forbids the move b -> a, i.e. the entry [to=a, from=b].
            n = h * w
            banned = np.array([self.index(x) * n + self.index(y) for x, y in self.one_way], dtype=np.int64)
            keep = ~np.isin(to.astype(np.int64) * n + frm, banned)
            to, frm, cost = to[keep], frm[keep], cost[keep]
        if self.edge_weights:
            position = {(int(t), int(f)): i for i, (t, f) in enumerate(zip(to, frm, strict=True))}
            for (x, y), weight in self.edge_weights.items():
                i = position.get((self.index(y), self.index(x)))
                if i is not None:
                    cost[i] = weight
        return csr_matrix((cost, (to, frm)), shape=(h * w, h * w))

    def strong_parts(self) -> int:
        """Strongly connected parts of the move graph, each wall cell counting as one (so two grids
        of the same cells compare: one-way edges that cut floor off give more parts)."""
        count, _ = connected_components(self._reverse_graph, directed=True, connection="strong")
        return int(count)

    # -- construction helpers --------------------------------------------------------------

    @classmethod
    def from_rows(cls, rows: Iterable[str], blocked: str = "@OTW") -> Grid:
        """Build a grid from text rows; characters in ``blocked`` are walls, others floor.

        Handy for tests drawn in ASCII::

            >>> Grid.from_rows(["..@", "..."]).distance((0, 0), (2, 1))
            3
        """
        rows = list(rows)
        arr = np.array([[ch not in blocked for ch in row] for row in rows], dtype=bool)
        return cls(arr)


def _manhattan(a: Cell, b: Cell) -> int:
    return abs(a[0] - b[0]) + abs(a[1] - b[1])


def plain_bfs(grid: Grid, start: Cell, goal: Cell) -> int:
    """Reference BFS (one queue, no numpy) used by tests to check the distance tables."""
    if not grid.is_passable(start) or not grid.is_passable(goal):
        return UNREACHABLE
    seen = {start: 0}
    queue = deque([start])
    while queue:
        cell = queue.popleft()
        if cell == goal:
            return seen[cell]
        for nb in grid.neighbors(cell):
            if nb not in seen:
                seen[nb] = seen[cell] + 1
                queue.append(nb)
    return UNREACHABLE
