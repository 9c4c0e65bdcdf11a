"""Exact sum-of-costs MAPF with OR-Tools CP-SAT on the time-expanded graph (small instances only).

The reference the heuristic planner is tested against. Variables ``x[a, t, v]`` say agent ``a``
is on cell ``v`` at time ``t`` and ``y[a, t, v, u]`` that it moves ``v -> u`` (``u == v`` waits)
between ``t`` and ``t + 1``. Only cells reachable from the start by ``t`` and able to reach the
goal by ``max_makespan`` get variables, which keeps small instances small. Constraints: flow
conservation, one cell per agent per step, at most one agent per cell (vertex) and per edge
per step in either direction (swap), and everybody on their goal at ``max_makespan``.
``done[a, t]`` (monotone, implies being on the goal) makes the objective the sum of arrival
times, the same measure as :func:`controller.planning.result.sum_of_costs`.

Deterministic profile: one worker, fixed seed, a deterministic-time limit.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from ortools.sat.python import cp_model

from controller.planning.graph import check_instance
from controller.planning.options import PlanOptions
from controller.planning.result import MapfResult
from warehouse_maps.grid import Cell, Grid


def _bfs_from(grid: Grid, start: Cell) -> dict[Cell, int]:
    """Moves from ``start`` to every reachable cell (forward search, honours one-way edges)."""
    seen = {start: 0}
    queue = deque([start])
    while queue:
        c = queue.popleft()
        for nb in grid.neighbors(c):
            if nb not in seen:
                seen[nb] = seen[c] + 1
                queue.append(nb)
    return seen


class _StopCallback(cp_model.CpSolverSolutionCallback):
    """Ends the search at the next solution once the caller's ``should_stop`` says so."""

    def __init__(self, options: PlanOptions) -> None:
        super().__init__()
        self._options = options
        self.solutions = 0

    def on_solution_callback(self) -> None:
        self.solutions += 1
        if self._options.should_stop is not None and self._options.should_stop():
            self.stop_search()


def solve_exact(
    grid: Grid,
    starts: Sequence[Cell],
    goals: Sequence[Cell],
    *,
    max_makespan: int,
    options: PlanOptions | None = None,
    deterministic_time_s: float = 30.0,
) -> MapfResult:
    """Minimum sum-of-costs plan with makespan at most ``max_makespan``.

    Returns ``solved=False`` when no plan fits in ``max_makespan`` steps (or none was found in
    the limits); ``optimal`` tells whether CP-SAT proved the optimum. ``nodes_expanded`` is
    CP-SAT's branch count. ``deterministic_time_s`` is CP-SAT's machine-independent work limit.
    """
    options = options or PlanOptions()
    check_instance(grid, starts, goals)
    horizon = int(max_makespan)
    n_agents = len(starts)
    model = cp_model.CpModel()
    x: list[list[dict[Cell, cp_model.IntVar]]] = []
    for a in range(n_agents):
        from_start = _bfs_from(grid, starts[a])
        to_goal = grid.distance_table(goals[a])
        layers = []
        for t in range(horizon + 1):
            layer = {}
            for v, d in from_start.items():
                dg = int(to_goal[v[1], v[0]])
                if d <= t and 0 <= dg <= horizon - t:
                    layer[v] = model.new_bool_var(f"x{a}_{t}_{v[0]}_{v[1]}")
            if not layer:
                return MapfResult([], False, 0, 0, 0, optimal=True)  # goal too far for the horizon
            model.add_exactly_one(layer.values())
            layers.append(layer)
        x.append(layers)
    edge_use: dict[tuple[int, Cell, Cell], list[cp_model.IntVar]] = {}
    for a in range(n_agents):
        for t in range(horizon):
            outs: dict[Cell, list[cp_model.IntVar]] = {v: [] for v in x[a][t]}
            ins: dict[Cell, list[cp_model.IntVar]] = {u: [] for u in x[a][t + 1]}
            for v in x[a][t]:
                for u in [v, *grid.neighbors(v)]:
                    if u in x[a][t + 1]:
                        y = model.new_bool_var(f"y{a}_{t}")
                        outs[v].append(y)
                        ins[u].append(y)
                        if u != v:
                            key = (t, min(u, v), max(u, v))
                            edge_use.setdefault(key, []).append(y)
            for v, ys in outs.items():
                model.add(sum(ys) == x[a][t][v])
            for u, ys in ins.items():
                model.add(sum(ys) == x[a][t + 1][u])
    for t in range(horizon + 1):
        per_cell: dict[Cell, list[cp_model.IntVar]] = {}
        for a in range(n_agents):
            for v, var in x[a][t].items():
                per_cell.setdefault(v, []).append(var)
        for vars_ in per_cell.values():
            if len(vars_) > 1:
                model.add_at_most_one(vars_)
    for vars_ in edge_use.values():
        if len(vars_) > 1:
            model.add_at_most_one(vars_)
    cost_terms = []
    for a in range(n_agents):
        done = [model.new_bool_var(f"done{a}_{t}") for t in range(horizon + 1)]
        model.add(done[horizon] == 1)
        for t in range(horizon + 1):
            on_goal = x[a][t].get(goals[a])
            if on_goal is None:
                model.add(done[t] == 0)
            else:
                model.add_implication(done[t], on_goal)
            if t < horizon:
                model.add_implication(done[t], done[t + 1])
                cost_terms.append(1 - done[t])
    model.minimize(sum(cost_terms))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = int(options.seed)
    solver.parameters.max_deterministic_time = float(deterministic_time_s)
    callback = _StopCallback(options)
    status = solver.solve(model, callback)
    nodes = int(solver.num_branches)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return MapfResult([], False, 0, 0, nodes, optimal=status == cp_model.INFEASIBLE)
    paths = [
        [next(v for v, var in x[a][t].items() if solver.value(var)) for t in range(horizon + 1)]
        for a in range(n_agents)
    ]
    cost = int(round(solver.objective_value))
    makespan = horizon
    while makespan > 0 and all(p[makespan - 1] == g for p, g in zip(paths, goals)):
        makespan -= 1
    paths = [p[: makespan + 1] for p in paths]
    return MapfResult(paths, True, cost, makespan, nodes, optimal=status == cp_model.OPTIMAL)
