"""Planning windows for execution: the port the controller plans through, and a PIBT stepper.

Why: the controller needs, every replanning, collision-free paths of equal length from the
configuration where the committed plan ends (see ``adg.py``). The mapf helper's
``LifelongPlanner.plan_window`` has that signature; :class:`PibtWindowPlanner` is a small
stand-in built on the same numba PIBT kernel (``controller/planning/pibt.py``) so the controller
runs before and independently of it. Both satisfy :class:`WindowPlanner`.

Two execution-specific rules on top of PIBT:

* blocked cells (lost robots) are removed from the grid for that call, so distances lead
  around them and nobody enters them;
* rotation cycles (robots following each other round a loop in one step) are refused by the
  action dependency graph, so robots in a cycle are fixed to wait and the step is recomputed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from controller.planning.graph import FlatGrid
from controller.planning.pibt import pibt_configuration
from warehouse_maps.grid import Cell, Grid


class WindowPlanner(Protocol):
    """Plans one window of ``horizon`` steps for every robot."""

    def plan_window(
        self,
        positions: Sequence[Cell],
        goals: Sequence[Cell],
        horizon: int,
        *,
        blocked: frozenset[Cell] = ...,
    ) -> list[list[Cell]]:
        """Paths of ``horizon + 1`` cells from ``positions``, free of vertex, swap and rotation
        conflicts, never entering ``blocked``; worst case everyone waits."""
        ...


def rotation_cycles(now: np.ndarray, nxt: np.ndarray) -> list[list[int]]:
    """Groups of agents that move round a closed loop (length >= 2) from ``now`` to ``nxt``."""
    at = {int(v): i for i, v in enumerate(now)}
    cycles: list[list[int]] = []
    seen: set[int] = set()
    for start in range(len(now)):
        if start in seen or nxt[start] == now[start]:
            continue
        chain = [start]
        i = start
        while True:
            j = at.get(int(nxt[i]))
            if j is None or nxt[j] == now[j] or j in seen:
                break
            if j == start:
                cycles.append(chain)
                break
            if j in chain:
                break
            chain.append(j)
            i = j
        seen.update(chain)
    return cycles


class PibtWindowPlanner:
    """Windowed PIBT: one PIBT configuration per step, priorities rising while away from goal.

    Args:
        grid: the floor.
        seed: seed of the tie-breaking generator (same seed, same plans).
    """

    def __init__(self, grid: Grid, *, seed: int = 0) -> None:
        self.grid = grid
        self.flat = FlatGrid.of(grid)
        self.rng = np.random.default_rng(seed)
        self._occ_now = np.full(self.flat.n, -1, dtype=np.int32)
        self._occ_next = np.full(self.flat.n, -1, dtype=np.int32)
        self._flats: dict[frozenset[Cell], FlatGrid] = {}

    def plan_window(
        self,
        positions: Sequence[Cell],
        goals: Sequence[Cell],
        horizon: int,
        *,
        blocked: frozenset[Cell] = frozenset(),
    ) -> list[list[Cell]]:
        """See :class:`WindowPlanner`. Blocked cells holding a robot are ignored for that robot."""
        walls = frozenset(c for c in blocked if c not in set(positions))
        flat = self._flat_without(walls)
        cells = list(positions)
        # a goal inside a blocked cell cannot be reached this window: wait where you are
        targets = [p if g in walls else g for p, g in zip(positions, goals)]
        n = n_robots = len(positions)
        config = np.array([flat.index(c) for c in cells], dtype=np.int32)
        goal_idx = np.array([flat.index(g) for g in targets], dtype=np.int32)
        dist = flat.dist_rows(targets)
        cand = np.zeros((n, 5), dtype=np.int32)
        d0 = dist[np.arange(n), config]
        prio = d0.astype(np.float64) / max(n, 1)
        out = [[c] for c in positions]
        for _ in range(horizon):
            order = np.argsort(-prio, kind="stable").astype(np.int32)
            fixed = np.full(n, -1, dtype=np.int32)
            nxt = self._step(flat, config, fixed, order, dist, goal_idx, cand)
            for _attempt in range(n):
                cycles = rotation_cycles(config, nxt)
                if not cycles:
                    break
                for cycle in cycles:
                    fixed[cycle] = config[cycle]
                nxt = self._step(flat, config, fixed, order, dist, goal_idx, cand)
            config = nxt
            at_goal = config == goal_idx
            prio = np.where(at_goal, prio - np.floor(prio), prio + 1.0)
            for i in range(n_robots):
                out[i].append(flat.cell(int(config[i])))
        return out

    def _flat_without(self, walls: frozenset[Cell]) -> FlatGrid:
        """The flat grid with ``walls`` impassable (cached for the last few blocked sets), so that
        distances lead around lost robots instead of into them."""
        if not walls:
            return self.flat
        flat = self._flats.get(walls)
        if flat is None:
            passable = self.grid.passable.copy()
            for x, y in walls:
                passable[y, x] = False
            flat = FlatGrid.of(Grid(passable, self.grid.one_way, self.grid.edge_weights))
            if len(self._flats) >= 4:
                self._flats.pop(next(iter(self._flats)))
            self._flats[walls] = flat
        return flat

    def _step(self, flat, config, fixed, order, dist, goal_idx, cand) -> np.ndarray:
        """One PIBT step honouring ``fixed`` (>= 0 entries); everyone waits if PIBT fails."""
        nxt = fixed.copy()
        tie = self.rng.random((len(config), 5))
        ok = pibt_configuration(
            config,
            nxt,
            order,
            flat.nbr,
            flat.deg,
            dist,
            goal_idx,
            tie,
            self._occ_now,
            self._occ_next,
            cand,
            True,
        )
        return nxt if ok else config.copy()
