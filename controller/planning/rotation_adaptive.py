"""Adaptive depth for the rotation model: operations of 4 actions while the fleet flows, of 3 where
it is crowded, chosen step by step from what the deeper pass did.

Operations of 4 actions (with ejection chains of 3 agents and a continuation bonus of 2) plan a
flowing fleet better than operations of 3, and a crowded one worse: their push search runs out
and their weaker bonus lets agents stall (docs/planning.md, "Longer operations"). A step's deep
pass shows which case it is in: when it leaves an agent unplanned, or more than
:data:`WAIT_SHARE` of the fleet standing still, the step is planned again with the base stepper
and that plan is executed (unless the caller's wall-clock deadline has passed: then the deep
plan, in which every unplanned agent waits, stands).

LoRR warehouse_small, 1,000 steps, 100,000 nodes a step, seeds 0/1/2, tasks/step (base stepper
alone: 3 actions, chains of 2, bonus 5):

=========  ======================  ======================
agents     base stepper            adaptive
=========  ======================  ======================
100        2.595 (seed 0)          2.626
200        4.969 / 4.967 / 4.970   5.104 / 5.094 / 5.079
400        7.579 / 7.68 / 7.71     7.700 / 7.637 / 7.697
800        5.466 (seed 0)          5.494
=========  ======================  ======================

warehouse_large_400 and sortation_large_400 (seed 0): 1.554 -> 1.555 and 1.541 -> 1.543. The
share was chosen on warehouse_small 200 and 400 (seed 0): 1 % and 2 % gave the same, 0 % (any
agent waiting) 5.080 / 7.643, 5 % 5.113 / 7.212.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

import numpy as np

from controller.planning.rotation_stepper import RotationStepper

DEEP_DEPTH = 4
"""Actions per operation of the deep pass."""
DEEP_CHAIN = 3
"""Agents per ejection chain of the deep pass."""
DEEP_KEEP_BONUS = 2.0
"""Continuation bonus of the deep pass, in actions (at 5 its 4-action operations gave 5.00 tasks/step
on warehouse_small 200 against 5.10)."""
WAIT_SHARE = 0.02
"""Share of the fleet that the deep pass may leave standing still before the step falls back."""


class AdaptiveStepper:
    """Plans a step with operations of :data:`DEEP_DEPTH` actions, or with ``base`` where the deep
    pass shows a crowd. Same interface as :class:`RotationStepper` for the lifelong planner.

    Args:
        base: the stepper of the crowded case (its settings are the planner's own).
        deep: the stepper of the flowing case, sharing ``base``'s grid, weights, generator and
            node budgets.
    """

    def __init__(self, base: RotationStepper, deep: RotationStepper) -> None:
        if deep.ops.shape[1] <= base.ops.shape[1]:
            raise ValueError("the deep stepper must plan longer operations than the base one")
        self.base = base
        self.deep = deep
        index = {tuple(op): k for k, op in enumerate(base.ops.tolist())}
        depth = base.ops.shape[1]
        #: base operation with the same first actions as each deep operation (what the agent
        #: continues when the next step falls back)
        self._to_base = np.array([index[tuple(op[:depth])] for op in deep.ops.tolist()], dtype=np.int32)
        self.fell_back = False  # whether the last step was planned by ``base``

    @classmethod
    def around(cls, base: RotationStepper) -> AdaptiveStepper:
        """Adaptive depth over ``base``: a deep stepper of :data:`DEEP_DEPTH` actions, chains of
        :data:`DEEP_CHAIN` and bonus :data:`DEEP_KEEP_BONUS`, with ``base``'s grid, weights,
        generator and budgets."""
        deep = RotationStepper(base.nbr, base.weights, base.rng, max_nodes=base.max_nodes,
                               push_cost=base.push_cost, chunk_nodes=base.chunk_nodes,
                               agent_nodes=base.agent_nodes, lns_nodes=base.lns_nodes,
                               lns_chain=DEEP_CHAIN, depth=DEEP_DEPTH, keep_bonus=DEEP_KEEP_BONUS)
        return cls(base, deep)

    @property
    def nodes_used(self) -> int:
        """Operations checked by the last step's passes."""
        return self.deep.nodes_used + (self.base.nodes_used if self.fell_back else 0)

    def forget(self, agents: Collection[int]) -> None:
        """These agents do not continue last step's operation (see :meth:`RotationStepper.forget`)."""
        self.deep.forget(agents)
        self.base.forget(agents)

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
        """Next state per agent (int32), collision-free (:meth:`RotationStepper.advance`)."""
        nxt = self.deep.advance(now, order, table, rows, goals, blocked, remember=remember,
                                should_stop=should_stop)
        still = int((self.deep.last_ops == self.deep.wait_op).sum())
        unplanned = bool((~self.deep.planned).any())
        out_of_time = should_stop is not None and should_stop()
        # past the deadline the deep plan stands (safe: its unplanned agents wait); a second pass
        # would plan nobody
        self.fell_back = not out_of_time and (unplanned or still > WAIT_SHARE * len(now))
        if self.fell_back:
            nxt = self.base.advance(now, order, table, rows, goals, blocked, remember=remember,
                                    should_stop=should_stop)
            if remember:  # the deep stepper continues nothing the base one chose
                self.deep.continue_from(np.full(len(now), -1, dtype=np.int32), goals)
        elif remember:
            prev = self.deep.prev_op
            self.base.continue_from(np.where(prev >= 0, self._to_base[np.maximum(prev, 0)], -1), goals)
        return nxt
