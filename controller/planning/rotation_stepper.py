"""The rotation model's step with its scratch arrays and budgets (around :mod:`.rotation`).

:class:`RotationStepper` owns what one planning step of the rotation model needs besides the
distance tables: the operation list, the reservation table, per-agent candidate arrays (kept
between steps, so a fleet of constant size allocates nothing per step) and last step's
operations (for the continuation bonus). Two budgets stop a step early, and an agent left
unplanned waits (always safe):

* ``max_nodes``: operations checked per step, so benchmark figures do not depend on load;
* ``should_stop``: the caller's wall-clock deadline, polled every ``chunk_nodes`` nodes.

After the priority pass, ejection chains (:mod:`.rotation_lns`) improve the plan within their own
node budget ``lns_nodes`` (0: off), so those figures do not depend on load either.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

import numpy as np

from controller.planning.rotation import DEPTH, operation_step, operations, prepare_candidates
from controller.planning.rotation_footprints import footprints
from controller.planning.rotation_lns import lns_pass

UNLIMITED = 2**62
"""A node budget that never runs out."""

LNS_PASSES = 4
"""Passes of ejection chains per step at most (a pass that keeps none ends them): 1 and 16 passes
gave the same throughput within 0.01 tasks/step on LoRR warehouse_small."""


class RotationStepper:
    """Plans one timestep of the rotation model for a fleet.

    Args:
        nbr: int32 ``(cells, 4)`` neighbour table (moves the agents may make).
        weights: int32 ``(cells, 4)``: cost of a forward move by heading (guidance lanes).
        rng: tie-break generator (seeded by the owner).
        max_nodes: operations checked per step at most (None: no limit).
        keep_bonus: cost taken off an operation that continues last step's (in actions). Large
            (5) on purpose: an agent that re-decides every step turns back and forth; LoRR
            warehouse_small, 200 agents, 400 steps: 4.17 tasks/step at 0, 4.36 at 5, 4.17 at 10.
        push_cost: cost added to an operation entering a cell somebody stands on (in actions).
        chunk_nodes: nodes between two polls of ``should_stop``.
        agent_nodes: nodes one agent's planning (with the agents it pushes) may use.
        depth: actions per operation.
        lns_nodes: operations the ejection chains after the priority pass may check per step
            (:mod:`.rotation_lns`); 0 turns them off.
        lns_chain: agents per ejection chain at most (the one improving and those it displaces).
            2 on purpose: longer chains trade more agents' progress for one and locked the fleet
            up on LoRR warehouse_small 200 (8 agents: 3.2 tasks/step against 4.97 at 2).
    """

    def __init__(
        self,
        nbr: np.ndarray,
        weights: np.ndarray,
        rng: np.random.Generator,
        *,
        max_nodes: int | None = None,
        keep_bonus: float = 5.0,
        push_cost: float = 0.3,
        chunk_nodes: int = 20_000,
        agent_nodes: int = 2_000,
        depth: int = DEPTH,
        lns_nodes: int = 0,
        lns_chain: int = 2,
    ) -> None:
        self.nbr = nbr
        self.weights = weights
        self.rng = rng
        self.max_nodes = max_nodes
        self.keep_bonus = keep_bonus
        self.push_cost = push_cost
        self.chunk_nodes = chunk_nodes
        self.agent_nodes = agent_nodes
        self.lns_nodes = lns_nodes
        self.lns_chain = lns_chain
        self.lns_kept = 0
        self.lns_nodes_used = 0
        self.lns_cost = (0.0, 0.0)  # summed LNS cost of last step's operations before and after
        self.last_ops = np.zeros(0, dtype=np.int32)  # last step's operation per agent (all-wait if unplanned)
        self.ops = operations(depth)
        ops = self.ops  # _continues[p, o]: operation o continues p (p's tail is o's prefix)
        self._continues = (ops[None, :, :-1] == ops[:, None, 1:]).all(axis=2)
        self.wait_op = len(self.ops) - 1
        self._fp = footprints(self.ops)  # operations holding the same cells: one search each
        n_cells = nbr.shape[0]
        self._res = np.full((depth + 1, n_cells), -1, dtype=np.int32)
        self._n = -1
        self.prev_op = np.full(0, -1, dtype=np.int32)
        self.nodes_used = 0

    def _size(self, n_agents: int) -> None:
        if n_agents == self._n:
            return
        self._n = n_agents
        n_ops = len(self.ops)
        self._paths = np.zeros((n_agents, n_ops, self.ops.shape[1] + 1), dtype=np.int32)
        self._cand = np.zeros((n_agents, n_ops), dtype=np.int32)
        self._n_cand = np.zeros(n_agents, dtype=np.int32)
        self._keyv = np.zeros((n_agents, n_ops), dtype=np.float64)
        self._planned = np.zeros(n_agents, dtype=np.bool_)
        self._failed = np.zeros(n_agents, dtype=np.bool_)
        self._flist = np.zeros(n_agents + 1, dtype=np.int32)
        self._chosen = np.full(n_agents, -1, dtype=np.int32)
        self._stack = np.zeros(n_agents + 1, dtype=np.int32)
        self._frames = np.zeros((n_agents + 1, 4), dtype=np.int64)
        self._dead = np.zeros((n_agents + 1, int(self._fp.max()) + 1), dtype=np.bool_)
        self.prev_op = np.full(n_agents, -1, dtype=np.int32)
        self._prev_goal = np.full(n_agents, -1, dtype=np.int32)

    @property
    def planned(self) -> np.ndarray:
        """Per agent: planned by last step's pass (False: a budget ran out first, it waited)."""
        return self._planned

    def forget(self, agents: Collection[int]) -> None:
        """These agents do not continue last step's operation next step (they were kept from
        doing what it chose, and its remaining actions no longer fit where they are)."""
        if len(self.prev_op) and agents:
            self.prev_op[np.asarray(sorted(agents), dtype=np.int64)] = -1

    def continue_from(self, prev_op: np.ndarray, goals: np.ndarray) -> None:
        """Set what each agent continues next step: ``prev_op`` (-1: nothing) towards ``goals``,
        for a step another stepper planned."""
        self._size(len(goals))
        self.prev_op[:] = prev_op
        self._prev_goal[:] = goals

    def advance(
        self,
        now: np.ndarray,
        order: np.ndarray,
        table: np.ndarray,
        rows: np.ndarray,
        goals: np.ndarray,
        blocked: np.ndarray,
        *,
        remember: bool = True,
        should_stop: Callable[[], bool] | None = None,
    ) -> np.ndarray:
        """Next state per agent (int32), collision-free; ``order`` is highest priority first.

        ``table[rows[i]]`` is agent i's heading-aware distance row, ``goals`` its goal cells.

        ``remember`` keeps this step's operations for the next step's continuation bonus (a
        lookahead window passes False so that it does not change the live planner's memory).
        """
        n_agents = len(now)
        self._size(n_agents)
        res = self._res
        res.fill(-1)
        cells = now // 4
        res[0, cells] = np.arange(n_agents, dtype=np.int32)
        if blocked.size:
            free = blocked[res[0, blocked] < 0]
            res[1:, free] = n_agents  # a sentinel no agent matches
        tie = self.rng.random((n_agents, len(self.ops))) * 0.005
        prev_op = np.where(goals == self._prev_goal, self.prev_op, -1).astype(np.int32)  # new goal, new plan
        self._prev_eff = prev_op  # operations still followed (the LNS cost leaves their bonus out)
        prepare_candidates(now, self.ops, self.nbr, table, rows, self.weights, res[0], prev_op,
                           self.keep_bonus, self.push_cost, tie, self._paths, self._cand, self._n_cand,
                           self._keyv)
        self._planned.fill(False)
        self._failed.fill(False)
        self._chosen.fill(-1)
        self._stack[0] = 0
        budget = np.array([UNLIMITED if self.max_nodes is None else self.max_nodes], dtype=np.int64)
        start = budget[0]
        q = 0
        while q < n_agents:
            if should_stop is not None and should_stop():
                break
            q = operation_step(order, q, self._paths, self._cand, self._n_cand, res, self._planned,
                               self._chosen, self._failed, self._flist, self._stack, self._frames, budget,
                               self.chunk_nodes, self.agent_nodes, self._fp, self._dead)
            if budget[0] <= 0:
                break
        self.nodes_used = int(start - budget[0])
        chosen = np.where(self._planned, self._chosen, self.wait_op).astype(np.int32)
        if self.lns_nodes > 0 and not (should_stop is not None and should_stop()):
            chosen = self._improve(chosen, res, should_stop)
        self.last_ops = chosen
        nxt: np.ndarray = self._paths[np.arange(n_agents), chosen, 1].copy()
        if remember:
            moved = self._planned | (chosen != self.wait_op)
            self.prev_op = np.where(moved, chosen, -1).astype(np.int32)
            self._prev_goal = goals.astype(np.int32)
        return nxt.astype(np.int32)

    def _improve(
        self, chosen: np.ndarray, res: np.ndarray, should_stop: Callable[[], bool] | None
    ) -> np.ndarray:
        """Ejection chains over the chosen operations (:mod:`.rotation_lns`) within ``lns_nodes``.

        The cost they lower is the pass's cost without the continuation bonus (actions until the
        goal plus the distance left): with the bonus in, a chain could trade one agent's progress
        for another's habit (LoRR warehouse_small 200 agents, seed 0: 4.93 against 4.97 tasks/step).
        """
        n_agents = len(chosen)
        unplanned = np.flatnonzero(~self._planned)
        for t in range(1, res.shape[0]):  # an unplanned agent holds its cell: nobody crosses it
            res[t, self._paths[unplanned, self.wait_op, t] // 4] = unplanned
        cost = self._keyv.copy()
        had = self._prev_eff >= 0
        cost[had] += self.keep_bonus * self._continues[self._prev_eff[had]]
        budget = np.array([self.lns_nodes], dtype=np.int64)
        rows = np.arange(n_agents)
        before = float(cost[rows, chosen].sum())
        self.lns_kept = 0
        for _ in range(LNS_PASSES):
            perm = self.rng.permutation(n_agents).astype(np.int64)
            kept = lns_pass(perm, self._paths, self._cand, self._n_cand, cost, chosen, res, budget,
                            self.lns_chain)
            self.lns_kept += kept
            if kept == 0 or budget[0] <= 0 or (should_stop is not None and should_stop()):
                break
        self.lns_cost = (before, float(cost[rows, chosen].sum()))
        self.lns_nodes_used = int(self.lns_nodes - budget[0])
        return chosen
