"""A lifelong run: robots take tasks round-robin, the planner steps them, the validator checks every step.

This is what ``bulletyard lifelong`` and the bench execute on a League of Robot Runners instance.
Rolling horizon with re-planning every timestep: each step asks
:meth:`LifelongPlanner.step` for the next configuration, executes it, then hands a new task to
every agent standing on its goal (LoRR: "done when the agent stands on it"). The clock is
injected (``clock() -> seconds``) so the planner stays pure; it is read only around planning
calls to measure their cost.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from controller.planning.lifelong import LifelongPlanner, State, warm_up
from controller.planning.validator import OrientedState, validate_oriented_paths, validate_paths
from controller.stats import percentile
from warehouse_maps.grid import Cell, Grid


@dataclass(frozen=True)
class LifelongRun:
    """Outcome of a lifelong run.

    Attributes:
        tasks_completed: goals reached in the run.
        steps: timesteps simulated.
        plan_ms: planning time of each step in milliseconds.
        paths: per agent one state per timestep from t = 0 (steps + 1 entries).
        rotations: whether states carry a heading.
        compile_ms: time to compile or load the numba kernels before the run (not in plan_ms).
    """

    tasks_completed: int
    steps: int
    plan_ms: tuple[float, ...]
    paths: list[list[State]]
    rotations: bool
    compile_ms: float = 0.0

    @property
    def throughput_per_step(self) -> float:
        """Tasks completed per timestep."""
        return self.tasks_completed / self.steps if self.steps else 0.0

    def summary(self) -> dict[str, float | int | bool]:
        """The figures the CLI and bench print (ms: milliseconds of planning per step)."""
        ms = np.asarray(self.plan_ms) if self.plan_ms else np.zeros(1)
        return {
            "tasks_completed": self.tasks_completed,
            "throughput_per_step": self.throughput_per_step,
            "plan_ms_mean": float(ms.mean()),
            "plan_ms_p99": percentile(ms.tolist(), 99),
            "plan_ms_max": float(ms.max()),
            "rotations": self.rotations,
            "compile_ms": self.compile_ms,
        }


def _check_step(grid: Grid, before: Sequence[State], after: Sequence[State], rotations: bool) -> None:
    """Validate one executed step as two-state paths: ``(x, y, heading)`` or ``(x, y)`` states."""
    if rotations:
        oriented: list[list[OrientedState]] = [[(a[0], a[1], a[2]), (b[0], b[1], b[2])]
                                               for a, b in zip(before, after)]
        validate_oriented_paths(grid, oriented, stay_at_goal=True)
    else:
        cells: list[list[Cell]] = [[(a[0], a[1]), (b[0], b[1])] for a, b in zip(before, after)]
        validate_paths(grid, cells, stay_at_goal=True)


def run_lifelong(
    grid: Grid,
    starts: Sequence[Cell],
    task_for: Callable[[int, int], Cell],
    steps: int,
    *,
    clock: Callable[[], float],
    rotations: bool = False,
    step_budget_s: float | None = None,
    step_nodes: int | None = None,
    lane_cost: int | None = None,
    seed: int = 0,
    validate: bool = True,
    near_first: float | None = 0.3,
    lns_nodes: int = 20_000,
    lns_chain: int = 2,
    depth: int | None = None,
    keep_bonus: float = 5.0,
) -> LifelongRun:
    """Simulate ``steps`` timesteps; every executed step is checked by the validator.

    Args:
        grid: the map.
        starts: one start cell per agent (with ``rotations``, every agent starts at heading 0).
        task_for: ``task_for(agent, j)`` is agent's j-th goal (0-based).
        steps: timesteps to simulate.
        clock: seconds from any monotonic origin (e.g. ``time.perf_counter``).
        rotations: states carry a heading; a turn of 90 degrees takes one step.
        step_budget_s: planning budget per step; past it the planner makes everyone wait (or,
            in the rotation model, everyone not planned yet).
        step_nodes: rotation model: operations checked per step at most, a budget that does not
            depend on machine load (figures reproduce); None: no node limit.
        lane_cost: guidance strength (:class:`LifelongPlanner`); None: the model's default.
        seed: the planner's tie-breaking seed (same seed, same run).
        validate: check every executed step (off only to time the planner alone).
        near_first: rotation model's agent order (:class:`LifelongPlanner`); None: steps on the
            task alone.
        lns_nodes: rotation model: node budget per step of the ejection chains that improve the
            priority pass (:class:`LifelongPlanner`); 0 turns them off.
        lns_chain: rotation model: agents per ejection chain at most (:class:`LifelongPlanner`).
        depth: rotation model: actions per operation; None: adaptive, 4 or 3 step by step
            (:class:`LifelongPlanner`).
        keep_bonus: rotation model: cost taken off an operation continuing last step's, in
            actions (:class:`LifelongPlanner`).
    """
    t_compile = clock()
    warm_up()
    compile_ms = (clock() - t_compile) * 1000.0
    planner = LifelongPlanner(grid, rotations=rotations, seed=seed, max_nodes=step_nodes,
                              lane_cost=lane_cost, near_first=near_first, lns_nodes=lns_nodes,
                              lns_chain=lns_chain, depth=depth, keep_bonus=keep_bonus)
    n = len(starts)
    pos: list[State] = [(s[0], s[1], 0) if rotations else (s[0], s[1]) for s in starts]
    served = [0] * n
    goals = [task_for(k, 0) for k in range(n)]
    done = 0
    history: list[list[State]] = [[p] for p in pos]
    plan_ms: list[float] = []

    def arrive() -> int:
        count = 0
        for k in range(n):
            if (pos[k][0], pos[k][1]) == goals[k]:  # one task per agent per step
                count += 1
                served[k] += 1
                goals[k] = task_for(k, served[k])
        return count

    done += arrive()
    for _ in range(steps):
        t0 = clock()
        should_stop = None
        if step_budget_s is not None:
            should_stop = _deadline(clock, t0 + step_budget_s)
        nxt = planner.step(pos, goals, should_stop=should_stop)
        plan_ms.append((clock() - t0) * 1000.0)
        if validate:
            _check_step(grid, pos, nxt, rotations)
        pos = nxt
        for k in range(n):
            history[k].append(pos[k])
        done += arrive()
    return LifelongRun(done, steps, tuple(plan_ms), history, rotations, compile_ms)


def _deadline(clock: Callable[[], float], deadline_s: float) -> Callable[[], bool]:
    """A ``should_stop`` callback: True once ``clock()`` reaches ``deadline_s``."""
    return lambda: clock() >= deadline_s
