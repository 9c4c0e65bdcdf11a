"""Errors of the path planner: an invalid plan (:class:`PlanConflict`) and unusable input.

A :class:`PlanConflict` names what is wrong (``kind``), which agents are involved and at which
timestep, so a test failure or a simulator log points straight at the offending move.
"""

from __future__ import annotations

CONFLICT_KINDS = frozenset({"start", "goal", "jump", "wall", "vertex", "swap", "turn"})


class PlanConflict(ValueError):
    """A plan that breaks a MAPF rule.

    Attributes:
        kind: one of ``start``, ``goal``, ``jump``, ``wall``, ``vertex``, ``swap``, ``turn``.
        agents: indices of the agents involved (one for start/goal/jump/wall/turn, two otherwise).
        t: the timestep (0-based) where the problem shows: the arrival step for moves.
    """

    def __init__(self, kind: str, agents: tuple[int, ...], t: int, detail: str) -> None:
        if kind not in CONFLICT_KINDS:
            raise ValueError(f"unknown conflict kind {kind!r}")
        self.kind = kind
        self.agents = tuple(int(a) for a in agents)
        self.t = int(t)
        who = ", ".join(str(a) for a in self.agents)
        super().__init__(f"{kind} conflict at t={self.t} (agents {who}): {detail}")


class PlanningInputError(ValueError):
    """Starts, goals or positions the planner cannot use (blocked cell, duplicate start, ...)."""
