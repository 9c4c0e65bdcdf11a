"""Lifelong MAPF: robots get a new goal when they reach one; plan one safe step (or a window) at a time.

Rolling horizon: the controller asks for the next configuration (:meth:`LifelongPlanner.step`)
or a short window of them (:meth:`LifelongPlanner.plan_window`) from the robots' current cells and
goals, executes, and asks again with updated goals. Each step is one PIBT call, so it costs well
under a millisecond and always returns a collision-free configuration (an agent that cannot
move waits; worst case everyone waits), which is what keeps a lifelong system safe.

Priorities rise by one every step an agent is away from its goal and drop back when it arrives
(PIBT's rule), so every agent eventually gets its turn; ties are broken by a seeded generator.
Two agent models: plain grid moves (with PIBT's swap step) and the League of Robot Runners
rotation model (``rotations=True``: states ``(x, y, heading)``, see
:mod:`controller.planning.rotation`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

import numpy as np

from controller.planning.errors import PlanningInputError
from controller.planning.graph import FlatGrid
from controller.planning.guidance import (
    bucket_distances,
    lane_weights,
    reverse_neighbours,
    rotation_distances,
)
from controller.planning.pibt import pibt_configuration
from controller.planning.rotation import DEPTH
from controller.planning.rotation_adaptive import AdaptiveStepper
from controller.planning.rotation_stepper import RotationStepper
from warehouse_maps.grid import Cell, Grid

State = tuple[int, ...]
"""A cell ``(x, y)`` or, in the rotation model, ``(x, y, heading)``."""


def warm_up() -> None:
    """Compile (or load from numba's cache) the step kernels on a tiny grid, outside any timing."""
    tiny = LifelongPlanner(Grid.from_rows(["...", "..."]), seed=0)
    tiny.step([(0, 0), (2, 1)], [(2, 1), (0, 0)])
    turn = LifelongPlanner(Grid.from_rows(["...", "..."]), rotations=True, seed=0, lns_nodes=100)
    turn.step([(0, 0, 0), (2, 1, 2)], [(2, 1), (0, 0)])


class LifelongPlanner:
    """Step-by-step collision-free planner for robots with changing goals.

    The swap step is off by default in lifelong use: measured on LoRR warehouse_small it lowered
    throughput (2.63 vs 2.71 tasks/step at 200 agents), as agents keep receiving new goals.

    Args:
        grid: the map.
        rotations: use the rotation model (states carry a heading 0..3).
        seed: seed of the tie-break generator (same inputs and seed, same steps).
        lane_cost: cost of a move against a corridor's preferred direction
            (:mod:`controller.planning.guidance`); 1 turns guidance off (plain distances). None:
            3 for the grid model; for the rotation model 10 in aisles and ``open_lane_cost`` in
            open floor (:func:`controller.planning.guidance.lane_weights`).
        open_lane_cost: cost against the lane in open floor (not an aisle along the move);
            None: ``lane_cost`` in the grid model, 2 in the rotation model.
        max_table_bytes: cap on cached distance tables (least recently used are dropped; the goals
            of one step always fit). 32 MiB holds about 870 tables of the 9,600-cell fc floor; a
            table costs about 0.13 ms to rebuild there, so a small cache is cheap, and a large one
            kept growing with every pod a long run visited. The cache is allocated whole at
            construction (never more rows than cells), so a long run's memory does not creep.
        max_nodes: rotation model only: operations checked per step at most (a reproducible
            budget for benchmarks; None: no limit, the wall-clock ``should_stop`` still applies).
        near_first: rotation model only: order agents by ``near_first x steps on the task -
            distance left`` (the nearest to its goal first, an agent stuck long enough rising over
            everyone) instead of steps on the task alone; None keeps the plain order. LoRR
            warehouse_small, 1,000 steps, seeds 0/1/2, tasks/step: 200 agents 4.68/4.66/4.66 plain,
            4.80/4.73/4.76 at 0.3; 400 agents 6.37/6.44/6.43 plain, 6.69/6.74 (seeds 1, 2) at 0.3.
            An agent that finishes soon frees its cells soon; the lifelong runner uses 0.3.
        lns_nodes: rotation model only: operations that the ejection chains after the priority
            pass may check per step (:mod:`controller.planning.rotation_lns`; 0: none). They
            give an agent the move an earlier agent's choice took from it, displacing at most one
            other agent, when the summed cost falls. LoRR warehouse_small, 1,000 steps, seeds
            0/1/2, tasks/step at 20,000: 200 agents 4.80/4.73/4.76 -> 4.97/4.96/4.98, 400 agents
            6.62/6.69/6.74 -> 7.60/7.60/7.52; the lifelong runner uses 20,000 (a step checks far
            fewer at 200 agents and about 0.1 ms more per step, 0.3 ms at 400 where it binds).
            The controller's heading planner keeps 0 (fewer lines/h on fc with them).
        lns_chain: rotation model only: agents per ejection chain at most (2; see
            :class:`controller.planning.rotation_stepper.RotationStepper`).
        depth: rotation model only: actions per operation (3). 4 with ``lns_chain=3`` and
            ``keep_bonus=2`` reaches 5.09 tasks/step on warehouse_small 200 but 7.16 at 400 and
            its push search runs out at 800 (docs/planning.md, "Longer operations"). None:
            adaptive, 4 actions where the fleet flows and 3 (with ``lns_chain`` and
            ``keep_bonus``) for a step where the 4-action pass shows a crowd
            (:mod:`controller.planning.rotation_adaptive`; the lifelong runner's default).
        keep_bonus: rotation model only: cost taken off an operation continuing last step's, in
            actions (5; at 2 the fleet locked up on warehouse_small 200 at depth 3, 2.30
            tasks/step with the chains; 4 to 8 gave 4.96 to 4.98).
    """

    use_swap: bool = False

    def __init__(
        self,
        grid: Grid,
        *,
        rotations: bool = False,
        seed: int = 0,
        lane_cost: int | None = None,
        open_lane_cost: int | None = None,
        max_table_bytes: int = 32 * 2**20,
        max_nodes: int | None = None,
        near_first: float | None = None,
        lns_nodes: int = 0,
        lns_chain: int = 2,
        depth: int | None = DEPTH,
        keep_bonus: float = 5.0,
    ) -> None:
        if lane_cost is None:
            lane_cost = 10 if rotations else 3
            open_lane_cost = 2 if rotations and open_lane_cost is None else open_lane_cost
        if lane_cost < 1 or (open_lane_cost is not None and open_lane_cost < 1):
            raise PlanningInputError(f"lane costs must be >= 1, got {lane_cost} and {open_lane_cost}")
        self.grid = grid
        self.flat = FlatGrid.of(grid)
        self.rotations = rotations
        self.rng = np.random.default_rng(seed)
        self._weights = lane_weights(self.flat, lane_cost, open_lane_cost)
        self._dist_nbr = self.flat.nbr  # neighbour table the distance tables are built on
        self._dist_src = reverse_neighbours(self._dist_nbr)
        self._max_weight = int(self._weights.max()) if self._weights.size else 1
        self._blocked_key: frozenset[int] = frozenset()
        width = self.flat.n * (4 if rotations else 1)
        self._cap_rows = min(max(64, max_table_bytes // (4 * width)), self.flat.n)
        # claimed (and written) now: the cache fills up over hours, and memory that grows for hours
        # cannot be told from a leak
        self._table = np.full((self._cap_rows, width), 0, dtype=np.int32)
        # the cache's bookkeeping, in arrays so a step of 500 agents looks up its rows at once
        self._row_at = np.full(self.flat.n, -1, dtype=np.int32)  # goal cell -> row, -1 if none
        self._goal_at = np.full(self._cap_rows, -1, dtype=np.int64)  # row -> goal cell, -1 if free
        self._used = np.full(self._cap_rows, -1, dtype=np.int64)  # row -> stamp of last use, -1 if free
        self._stamp = 0
        self._priorities = np.zeros(0, dtype=np.float64)
        self._near_first = near_first if rotations else None
        self._last_goal = np.zeros(0, dtype=np.int32)
        self._occ_now = np.full(self.flat.n, -1, dtype=np.int32)
        self._occ_next = np.full(self.flat.n, -1, dtype=np.int32)
        if lns_nodes < 0 or not 1 <= lns_chain <= 16:
            raise PlanningInputError(
                f"lns_nodes must be >= 0 and lns_chain 1..16, got {lns_nodes}, {lns_chain}")
        if (depth is not None and not 1 <= depth <= 5) or not keep_bonus >= 0:
            raise PlanningInputError(f"depth must be 1..5 (or None) and keep_bonus >= 0, got {depth}, "
                                     f"{keep_bonus}")
        base = RotationStepper(self.flat.nbr, self._weights, self.rng, max_nodes=max_nodes,
                               lns_nodes=lns_nodes, lns_chain=lns_chain, depth=depth or DEPTH,
                               keep_bonus=keep_bonus)
        self._turns: RotationStepper | AdaptiveStepper = (
            base if depth is not None else AdaptiveStepper.around(base))

    # -- distance tables -------------------------------------------------------------------

    def _rows_for(self, goal_idx: np.ndarray) -> np.ndarray:
        """Row of the distance table per agent, computing missing goals (least recently used rows
        are reused; the goals of this step always keep theirs)."""
        self._stamp += 1
        rows: np.ndarray = self._row_at[goal_idx]
        if (rows < 0).any():
            needed = len(np.unique(goal_idx))
            if needed > self._cap_rows:
                self._grow(needed)
            self._used[rows[rows >= 0]] = self._stamp  # not victims for this step's new goals
            for goal in np.unique(goal_idx[rows < 0]).tolist():
                self._new_row(goal)
            rows = self._row_at[goal_idx]
        self._used[rows] = self._stamp
        return rows

    def _grow(self, rows: int) -> None:
        """Room for ``rows`` tables (one step needs more goals than the cap)."""
        extra = rows - self._cap_rows
        self._table = np.vstack([self._table, np.zeros((extra, self._table.shape[1]), np.int32)])
        self._goal_at = np.concatenate([self._goal_at, np.full(extra, -1, np.int64)])
        self._used = np.concatenate([self._used, np.full(extra, -1, np.int64)])
        self._cap_rows = rows

    def _new_row(self, goal: int) -> None:
        r = int(np.argmin(self._used))  # a free row (-1) first, else the least recently used
        old = int(self._goal_at[r])
        if old >= 0:
            self._row_at[old] = -1
        if self.rotations:
            self._table[r] = rotation_distances(
                goal, self._dist_src, self._weights, self.flat.far, self._max_weight
            )
        else:
            self._table[r] = bucket_distances(
                goal, self._dist_src, self._weights, self.flat.far, self._max_weight
            )
        self._goal_at[r] = goal
        self._row_at[goal] = r
        self._used[r] = self._stamp

    # -- planning --------------------------------------------------------------------------

    def _encode(self, positions: Sequence[State], goals: Sequence[Cell]) -> tuple[np.ndarray, np.ndarray]:
        """Flat state and goal indices, checked (vectorised: a window at 500 robots encodes
        hundreds of times; the per-agent loop runs only to name the first bad agent)."""
        if len(positions) != len(goals):
            raise PlanningInputError(f"{len(positions)} positions but {len(goals)} goals")
        width = 3 if self.rotations else 2
        try:
            pos = np.asarray(positions, dtype=np.int64).reshape(len(positions), width)
            goal = np.asarray(goals, dtype=np.int64).reshape(len(goals), 2)
        except (ValueError, TypeError):
            self._explain_bad(positions, goals)
            raise  # _explain_bad raises; this is for type checkers
        cells = self._flat_cells(pos[:, :2])
        goal_idx = self._flat_cells(goal)
        heading_ok = (pos[:, 2] >= 0) & (pos[:, 2] <= 3) if self.rotations else True
        if (cells < 0).any() or (goal_idx < 0).any() or not np.all(heading_ok) or (
            len(np.unique(cells)) != len(cells)
        ):
            self._explain_bad(positions, goals)
        now = (cells * 4 + pos[:, 2] if self.rotations else cells).astype(np.int32)
        return now, goal_idx.astype(np.int32)

    def _flat_cells(self, xy: np.ndarray) -> np.ndarray:
        """``y * width + x`` per row of ``xy``; -1 where the cell is off the grid or a wall."""
        x, y = xy[:, 0], xy[:, 1]
        inside = (x >= 0) & (x < self.grid.width) & (y >= 0) & (y < self.grid.height)
        flat = np.where(inside, y * self.grid.width + x, 0)
        ok = inside & self.grid.passable.ravel()[flat]
        return np.where(ok, flat, -1)

    def _explain_bad(self, positions: Sequence[State], goals: Sequence[Cell]) -> None:
        """Raise :class:`PlanningInputError` naming the first bad agent."""
        w = self.grid.width
        seen: dict[int, int] = {}
        for i, p in enumerate(positions):
            if len(p) != (3 if self.rotations else 2):
                shape = "(x, y, h)" if self.rotations else "(x, y)"
                raise PlanningInputError(f"agent {i}: position {p} must be {shape}")
            if not self.grid.is_passable((p[0], p[1])):
                raise PlanningInputError(f"agent {i}: position {tuple(p)} is not a floor cell")
            cell = p[1] * w + p[0]
            if cell in seen:
                raise PlanningInputError(f"agents {seen[cell]} and {i} both stand on {(p[0], p[1])}")
            seen[cell] = i
            if self.rotations and not 0 <= p[2] <= 3:
                raise PlanningInputError(f"agent {i}: heading {p[2]} is not 0..3")
        for i, g in enumerate(goals):
            if len(g) != 2 or not self.grid.is_passable(g):
                raise PlanningInputError(f"agent {i}: goal {g} is not a floor cell")
        raise PlanningInputError("bad positions or goals")

    def _order(self, now: np.ndarray, rows: np.ndarray, prio: np.ndarray, goal_idx: np.ndarray) -> np.ndarray:
        """Agents by priority, highest first (updates ``prio``).

        Rotation model: an agent with a new goal starts again from 0, so the oldest task goes
        first and keeps going first until done (PIBT's progress argument). Without it a lifelong
        run, where goals change at once on arrival, orders agents by jitter alone, and on LoRR
        warehouse_small with 400 agents the fleet locked up within a few hundred steps.
        """
        if self.rotations and len(self._last_goal) == len(goal_idx):
            prio[goal_idx != self._last_goal] = 0.0
        d = self._table[rows, now]
        prio[:] = np.where(d != 0, prio + 1.0, prio - np.floor(prio))
        jitter = self.rng.random(len(now)) * 1e-3
        key = prio if self._near_first is None else self._near_first * prio - d
        return np.argsort(-(key + jitter), kind="stable").astype(np.int32)

    def _advance(
        self,
        now: np.ndarray,
        goal_idx: np.ndarray,
        rows: np.ndarray,
        prio: np.ndarray,
        blocked: np.ndarray,
        *,
        remember: bool = True,
        should_stop: Callable[[], bool] | None = None,
    ) -> np.ndarray:
        order = self._order(now, rows, prio, goal_idx)
        n_agents = len(now)
        if self.rotations:
            return self._turns.advance(now, order, self._table, rows, goal_idx, blocked,
                                       remember=remember, should_stop=should_stop)
        cand = np.zeros((n_agents, 5), dtype=np.int32)
        tie = self.rng.random((n_agents, 5))
        v_next = np.full(n_agents, -1, dtype=np.int32)
        ok = pibt_configuration(
            now,
            v_next,
            order,
            self.flat.nbr,
            self.flat.deg,
            self._table,
            rows,
            goal_idx,
            tie,
            self._occ_now,
            self._occ_next,
            cand,
            self.use_swap,
            blocked,
        )
        return v_next if ok else now.copy()  # PIBT without constraints does not fail; waiting is safe

    def _decode(self, states: np.ndarray) -> list[State]:
        w = self.grid.width
        if self.rotations:
            cells = states // 4
            return list(zip((cells % w).tolist(), (cells // w).tolist(), (states % 4).tolist(), strict=True))
        return list(zip((states % w).tolist(), (states // w).tolist(), strict=True))

    def _prepare(
        self,
        positions: Sequence[State],
        goals: Sequence[Cell],
        blocked: Collection[Cell],
        avoid: Collection[Cell] = (),
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        now, goal_idx = self._encode(positions, goals)
        if len(self._priorities) != len(now):
            self._priorities = np.zeros(len(now), dtype=np.float64)
        blocked_idx = self._cell_indices(blocked)
        self._route_around(blocked_idx)
        rows = self._rows_for(goal_idx)
        if avoid:
            blocked_idx = np.union1d(blocked_idx, self._cell_indices(avoid)).astype(np.int32)
        return now, goal_idx, rows, blocked_idx

    def _cell_indices(self, cells: Collection[Cell]) -> np.ndarray:
        """Sorted flat indices of the passable ``cells`` (int32)."""
        if not cells:
            return np.empty(0, dtype=np.int32)
        flat = self._flat_cells(np.asarray(list(cells), dtype=np.int64).reshape(-1, 2))
        return np.unique(flat[flat >= 0]).astype(np.int32)

    def _route_around(self, blocked_idx: np.ndarray) -> None:
        """Rebuild distances without edges into blocked cells when the blocked set changes.

        So robots drive around a broken-down robot instead of queueing behind it. Tables are
        recomputed lazily per goal; a stable blocked set costs nothing per step.
        """
        key = frozenset(blocked_idx.tolist())
        if key == self._blocked_key:
            return
        self._blocked_key = key
        nbr = self.flat.nbr.copy()
        if key:
            nbr[np.isin(nbr, blocked_idx)] = -1
        self._dist_nbr = nbr
        self._dist_src = reverse_neighbours(nbr)
        self._row_at.fill(-1)
        self._goal_at.fill(-1)
        self._used.fill(-1)

    def step(
        self,
        positions: Sequence[State],
        goals: Sequence[Cell],
        *,
        blocked: Collection[Cell] = frozenset(),
        avoid: Collection[Cell] = frozenset(),
        should_stop: Callable[[], bool] | None = None,
    ) -> list[State]:
        """The next configuration: one move (or wait/turn) per agent, collision-free.

        Agents never enter ``blocked`` cells (broken-down robots) and distances route around
        them; a change of ``blocked`` recomputes every distance table, so it is meant for
        long-lived obstacles. Agents do not enter ``avoid`` cells either, but distances ignore
        them: for obstacles of one step or a few (a robot sitting a window out, a rotation cycle
        being broken), which would otherwise cost a table rebuild each time they change.
        If ``should_stop`` already says stop, everybody waits (always safe). Positions are
        ``(x, y)`` or ``(x, y, h)``.
        """
        now, goal_idx, rows, blocked_idx = self._prepare(positions, goals, blocked, avoid)
        if should_stop is not None and should_stop():
            return self._decode(now)
        nxt = self._advance(now, goal_idx, rows, self._priorities, blocked_idx, should_stop=should_stop)
        self._last_goal = goal_idx
        return self._decode(nxt)

    def overridden(self, agents: Collection[int]) -> None:
        """The caller kept these agents from doing what the last :meth:`step` chose (a turn still
        running made them wait): the next step does not continue their operation, whose remaining
        actions no longer fit where they are."""
        if self.rotations and agents:
            self._turns.forget(agents)

    def plan_window(
        self,
        positions: Sequence[State],
        goals: Sequence[Cell],
        horizon: int,
        *,
        blocked: Collection[Cell] = frozenset(),
    ) -> list[list[State]]:
        """Paths of ``horizon + 1`` states per agent (t = 0 is ``positions``), collision-free.

        Goals are held fixed over the window (an agent that arrives waits or yields there).
        The planner's persistent priorities are not changed by a window.
        """
        if horizon < 0:
            raise PlanningInputError(f"horizon {horizon} must be >= 0")
        now, goal_idx, rows, blocked_idx = self._prepare(positions, goals, blocked)
        prio = self._priorities.copy()
        states = [now]
        for _ in range(horizon):
            states.append(self._advance(states[-1], goal_idx, rows, prio, blocked_idx, remember=False))
        stacked = np.stack(states, axis=1)  # (agents, horizon+1)
        return [self._decode(row) for row in stacked]
