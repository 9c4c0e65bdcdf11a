"""The planner's answer (:class:`MapfResult`) and the cost measures every planner reports.

Sum of costs counts, per agent, the timestep of its final arrival at its goal (it never leaves
again afterwards); an agent that starts on its goal and stays costs 0. Makespan is the last
timestep of the plan (path length - 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from warehouse_maps.grid import Cell


@dataclass(frozen=True)
class MapfResult:
    """A one-shot MAPF plan.

    Attributes:
        paths: one path per agent, ``(x, y)`` per timestep from t = 0; all of length makespan+1
            (agents wait on their goal after arrival). Empty lists when unsolved.
        solved: every agent reaches its goal.
        sum_of_costs: sum of arrival times (see module docstring); 0 when unsolved.
        makespan: timesteps until the last agent's arrival; 0 when unsolved.
        nodes_expanded: high-level search nodes (configurations) expanded, a machine-independent
            measure of effort.
        optimal: set by the exact solver: True when it proved its answer (the optimum, or that
            no plan fits the makespan); None for heuristic planners.
    """

    paths: list[list[Cell]]
    solved: bool
    sum_of_costs: int
    makespan: int
    nodes_expanded: int
    optimal: bool | None = None


def arrival_times(paths: Sequence[Sequence[Cell]], goals: Sequence[Cell]) -> list[int]:
    """Per agent: the first timestep from which it stays on its goal until the path ends."""
    out = []
    for path, goal in zip(paths, goals, strict=True):
        t = len(path)
        while t > 0 and tuple(path[t - 1]) == tuple(goal):
            t -= 1
        out.append(t)
    return out


def sum_of_costs(paths: Sequence[Sequence[Cell]], goals: Sequence[Cell]) -> int:
    """Sum of arrival times (the MAPF sum-of-costs objective)."""
    return int(sum(arrival_times(paths, goals)))


def configs_to_paths(configs: np.ndarray, width: int) -> list[list[Cell]]:
    """``(T+1, agents)`` flat cell indices to per-agent ``(x, y)`` paths."""
    xs = (configs % width).T.tolist()
    ys = (configs // width).T.tolist()
    return [list(zip(x, y)) for x, y in zip(xs, ys)]


def trim_configs(configs: np.ndarray, goals: np.ndarray) -> np.ndarray:
    """Drop trailing configurations where every agent already waits on its goal."""
    t = configs.shape[0]
    while t > 1 and np.array_equal(configs[t - 1], goals) and np.array_equal(configs[t - 2], goals):
        t -= 1
    return configs[:t]


def result_from_configs(configs: np.ndarray, goals_idx: np.ndarray, width: int, nodes: int) -> MapfResult:
    """Build a solved :class:`MapfResult` from a configuration sequence ending at the goals."""
    configs = trim_configs(configs, goals_idx)
    at_goal = configs == goals_idx[None, :]
    # arrival: first t such that at_goal[t:] all true
    not_at = ~at_goal
    last_off = np.where(not_at.any(axis=0), configs.shape[0] - np.argmax(not_at[::-1], axis=0), 0)
    paths = configs_to_paths(configs, width)
    return MapfResult(paths, True, int(last_off.sum()), int(configs.shape[0] - 1), nodes)
