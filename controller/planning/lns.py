"""Anytime improvement by large neighbourhood search (MAPF-LNS, Li et al. 2021) over a valid plan.

Each round removes the paths of a few agents (a "neighbourhood"), replans them one by one with
space-time A* around everybody else's fixed paths, and keeps the new paths only when the sum of
costs drops. The plan stays valid at every step, so it can stop whenever the caller says so.

The first round replans every agent by prioritized planning (shortest routes first), which on
sparse warehouse maps lands within a few percent of the lower bound at once. Then
neighbourhoods: (a) a delayed agent plus agents whose paths touch its shortest route (they are
what delays it), (b) agents around a random cell, (c) a uniform random subset; chosen in turn.
The reservation table is an int32 array ``occ[t, cell] = agent or -1`` of a fixed time capacity;
agents wait on their last cell after their path ends. The A* is a numba kernel.
"""

from __future__ import annotations

import heapq

import numpy as np
from numba import njit

from controller.planning.graph import FlatGrid
from controller.planning.options import PlanOptions


@njit(cache=True)
def _write(occ: np.ndarray, path: np.ndarray, length: int, agent: int, value: int) -> None:
    """Mark (value=agent) or clear (value=-1) an agent's padded path in the table."""
    t_cap = occ.shape[0]
    for t in range(t_cap):
        v = path[t] if t < length else path[length - 1]
        if value >= 0 or occ[t, v] == agent:
            occ[t, v] = value


@njit(cache=True)
def _st_astar(
    start: int, goal: int, h: np.ndarray, nbr: np.ndarray, occ: np.ndarray, stamp: int, seen: np.ndarray,
    parent: np.ndarray, out: np.ndarray, max_expansions: int,
) -> int:
    """Earliest-arrival path start->goal avoiding ``occ``; returns its length or -1.

    ``seen``/``parent`` are flat ``(T, cells)`` scratch arrays; ``seen == stamp`` marks visited
    states so the arrays need no clearing between calls. Every route to ``(v, t)`` costs ``t``,
    so marking states on push is exact. Gives up (-1) after ``max_expansions`` pops: a repair
    that needs more is not worth its time, and failing searches would otherwise sweep the whole
    space-time table.
    """
    t_cap, n = occ.shape
    free_from = 0
    for t_last in range(t_cap - 1, -1, -1):
        if occ[t_last, goal] >= 0:
            free_from = t_last + 1
            break
    if free_from >= t_cap:
        return -1
    # f = max(t + h, free_from): nobody can finish before the goal is free for good, and the
    # tie-break on larger t then dives straight to a waiting plan instead of sweeping the table.
    heap = [(np.int64(max(h[start], free_from)), np.int64(0), np.int64(start))]
    seen[start] = stamp
    parent[start] = -1
    expansions = 0
    while heap:
        f, negt, v = heapq.heappop(heap)
        t = -negt
        expansions += 1
        if expansions > max_expansions:
            return -1
        if v == goal and t >= free_from:
            length = t + 1
            s = t * n + v
            for k in range(t, -1, -1):
                out[k] = s % n
                s = parent[s]
            return int(length)
        if t + 1 >= t_cap:
            continue
        for d in range(5):
            u = v if d == 4 else nbr[v, d]
            if u < 0:
                continue
            if occ[t + 1, u] >= 0:
                continue
            other = occ[t, u]
            if u != v and other >= 0 and occ[t + 1, v] == other:
                continue
            s = (t + 1) * n + u
            if seen[s] == stamp:
                continue
            seen[s] = stamp
            parent[s] = t * n + v
            heapq.heappush(heap, (np.int64(max(t + 1 + h[u], free_from)), np.int64(-(t + 1)), np.int64(u)))
    return -1


def _arrival(path: np.ndarray, length: int, goal: int) -> int:
    t = length
    while t > 0 and path[t - 1] == goal:
        t -= 1
    return t


class LnsImprover:
    """Improve a solved plan's sum of costs while ``options`` allows.

    Args:
        flat: the grid as flat arrays.
        goals_idx: goal cell index per agent.
        dist: int32 ``(agents, cells)`` distance rows to each goal (the A* heuristic).
        configs: ``(T+1, agents)`` a valid plan ending with everybody on their goal.
        slack: extra timesteps allowed beyond the initial makespan.
    """

    expansion_factor = 50
    expansion_base = 20000

    def __init__(self, flat: FlatGrid, goals_idx: np.ndarray, dist: np.ndarray, configs: np.ndarray,
                 slack: int = 32) -> None:
        self.flat = flat
        self.goals = goals_idx
        self.dist = dist
        n_agents = configs.shape[1]
        self.t_cap = configs.shape[0] + slack
        self.paths = np.empty((n_agents, self.t_cap), dtype=np.int32)
        self.lengths = np.empty(n_agents, dtype=np.int64)
        self.costs = np.empty(n_agents, dtype=np.int64)
        self.occ = np.full((self.t_cap, flat.n), -1, dtype=np.int32)
        for a in range(n_agents):
            self.paths[a, : configs.shape[0]] = configs[:, a]
            self.paths[a, configs.shape[0] :] = configs[-1, a]
            self.lengths[a] = configs.shape[0]
            self.costs[a] = _arrival(self.paths[a], configs.shape[0], int(goals_idx[a]))
            _write(self.occ, self.paths[a], self.lengths[a], a, a)
        self._seen = np.zeros(self.t_cap * flat.n, dtype=np.int32)
        self._parent = np.zeros(self.t_cap * flat.n, dtype=np.int32)
        self._stamp = 0
        self._buf = np.empty(self.t_cap, dtype=np.int32)
        self.rounds = 0
        self.accepted = 0

    @property
    def sum_of_costs(self) -> int:
        """Current sum of costs."""
        return int(self.costs.sum())

    def _neighbourhood(self, rng: np.random.Generator, size: int) -> np.ndarray:
        n_agents = self.paths.shape[0]
        kind = self.rounds % 3
        if kind == 0:
            delay = self.costs - self.dist[np.arange(n_agents), self.paths[:, 0]]
            if delay.sum() > 0:
                a = int(rng.choice(n_agents, p=delay / delay.sum()))
                route = self._shortest_route(a)
                touched = np.unique(self.occ[:, route])
                touched = touched[(touched >= 0) & (touched != a)]
                extra = rng.permutation(touched)[: size - 1]
                return np.concatenate(([a], extra)).astype(np.int64)
        if kind == 1:
            w = self.flat.grid.width
            cell = int(self.paths[rng.integers(n_agents), rng.integers(self.t_cap // 2 + 1)])
            x, y = cell % w, cell // w
            px, py = self.paths[:, : self.t_cap] % w, self.paths[:, : self.t_cap] // w
            near = (np.abs(px - x) + np.abs(py - y) <= 4).any(axis=1)
            cand = np.flatnonzero(near)
            if cand.size >= 2:
                return rng.permutation(cand)[:size].astype(np.int64)
        picked: np.ndarray = rng.choice(n_agents, size=min(size, n_agents), replace=False)
        return picked.astype(np.int64)

    def _shortest_route(self, a: int) -> np.ndarray:
        """Cells of one shortest single-agent route of agent ``a`` (greedy descent on its table)."""
        v = int(self.paths[a, 0])
        row = self.dist[a]
        route = [v]
        while row[v] > 0:
            nb = self.flat.nbr[v]
            nb = nb[nb >= 0]
            v = int(nb[np.argmin(row[nb])])
            route.append(v)
        return np.array(route, dtype=np.int64)

    def round(self, rng: np.random.Generator, size: int = 8) -> bool:
        """One destroy-and-repair round; True when it lowered the sum of costs."""
        self.rounds += 1
        group = self._neighbourhood(rng, size)
        return self._repair(group, rng.permutation(group))

    def replan_all(self, rng: np.random.Generator) -> bool:
        """Prioritized planning of every agent from scratch (shortest routes first, ties random).

        On sparse maps this alone lands within a few percent of the lower bound; it is kept
        only if it beats the current plan, so it can never make things worse.
        """
        self.rounds += 1
        n_agents = self.paths.shape[0]
        lengths = self.dist[np.arange(n_agents), self.paths[:, 0]]
        order = np.lexsort((rng.random(n_agents), lengths))
        return self._repair(np.arange(n_agents), order)

    def _repair(self, group: np.ndarray, order: np.ndarray) -> bool:
        """Replan ``group`` in ``order``; keep the result only when the group's cost drops."""
        old_paths = self.paths[group].copy()
        old_len = self.lengths[group].copy()
        old_cost = int(self.costs[group].sum())
        for a in group:
            _write(self.occ, self.paths[a], self.lengths[a], a, -1)
        new_cost = 0
        ok = True
        for a in order:
            self._stamp += 1
            start = int(self.paths[a, 0])
            limit = self.expansion_factor * int(self.dist[a, start]) + self.expansion_base
            length = _st_astar(start, int(self.goals[a]), self.dist[a], self.flat.nbr, self.occ, self._stamp,
                               self._seen, self._parent, self._buf, limit)
            if length < 0:
                ok = False
                break
            self.paths[a, :length] = self._buf[:length]
            self.paths[a, length:] = self._buf[length - 1]
            self.lengths[a] = length
            self.costs[a] = _arrival(self.paths[a], length, int(self.goals[a]))
            new_cost += int(self.costs[a])
            _write(self.occ, self.paths[a], length, a, a)
            if new_cost >= old_cost:
                ok = False
                break
        if ok and new_cost < old_cost:
            self.accepted += 1
            return True
        for a in group:  # roll back
            _write(self.occ, self.paths[a], self.lengths[a], a, -1)
        self.paths[group] = old_paths
        self.lengths[group] = old_len
        for k, a in enumerate(group):
            self.costs[a] = _arrival(self.paths[a], int(old_len[k]), int(self.goals[a]))
            _write(self.occ, self.paths[a], self.lengths[a], a, a)
        return False

    def run(self, options: PlanOptions, rng: np.random.Generator, nodes_before: int = 0) -> int:
        """Rounds until ``options`` says stop; returns the number of rounds run."""
        start_rounds = self.rounds
        if not options.stop_now(nodes_before):
            self.replan_all(rng)
        while not options.stop_now(nodes_before + self.rounds - start_rounds):
            if self.costs.sum() == self.dist[np.arange(len(self.goals)), self.paths[:, 0]].sum():
                break  # every agent already on a shortest route
            self.round(rng)
        return self.rounds - start_rounds

    def configs(self) -> np.ndarray:
        """The current plan as ``(T+1, agents)`` configurations (padded, then trimmed)."""
        t_end = int(max(self.lengths.max(), 1))
        out = np.empty((t_end, self.paths.shape[0]), dtype=np.int32)
        for a in range(self.paths.shape[0]):
            ln = int(self.lengths[a])
            out[:ln, a] = self.paths[a, :ln]
            out[ln:, a] = self.paths[a, ln - 1]
        return out
