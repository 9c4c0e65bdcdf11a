"""One-shot MAPF: LaCAM search over configurations with PIBT (and its swap step) as successor generator.

LaCAM (Okumura, AAAI 2023) searches the graph whose nodes are whole configurations (one cell
per agent). Each high-level node lazily owns a tree of low-level constraints ("agent i goes to
cell v next"); every visit takes the next constraint set and asks PIBT for one successor that
honours it. Because the constraint tree eventually enumerates every successor, the search is
complete, yet in practice PIBT's first successor is nearly always good and the search runs in
about one node per timestep. Configurations are hashed (their int32 bytes) so revisits are
cheap and the search never loops.

Anytime: after the first solution, large neighbourhood search (:mod:`controller.planning.lns`)
replans a few agents at a time with space-time A* and keeps every change that lowers the sum of
costs, while ``should_stop`` and ``max_nodes`` allow; see :func:`solve`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from controller.planning.graph import FlatGrid, check_instance
from controller.planning.lns import LnsImprover
from controller.planning.options import PlanOptions
from controller.planning.pibt import pibt_configuration
from controller.planning.result import MapfResult, result_from_configs
from warehouse_maps.grid import Cell, Grid


@dataclass(eq=False)
class _LowNode:
    """A set of constraints: agents ``who[k]`` must move to ``where[k]``."""

    who: tuple[int, ...]
    where: tuple[int, ...]


@dataclass(eq=False)
class _HighNode:
    """A configuration reached by the search."""

    config: np.ndarray
    parent: _HighNode | None
    priorities: np.ndarray
    order: np.ndarray
    tree: deque[_LowNode] = field(default_factory=deque)


class LaCAM:
    """A reusable LaCAM searcher for one grid and one set of goals.

    Args:
        flat: the grid as flat arrays.
        goals: goal cell per agent.
        use_swap: enable PIBT's swap step (needed for one-cell aisles).
    """

    def __init__(self, flat: FlatGrid, goals: Sequence[Cell], *, use_swap: bool = True) -> None:
        self.flat = flat
        self.n_agents = len(goals)
        self.goals = np.array([flat.index(g) for g in goals], dtype=np.int32)
        self.dist = flat.dist_rows(goals)
        self.use_swap = use_swap
        self._occ_now = np.full(flat.n, -1, dtype=np.int32)
        self._occ_next = np.full(flat.n, -1, dtype=np.int32)
        self._cand = np.zeros((self.n_agents, 5), dtype=np.int32)
        self._goal_bytes = self.goals.tobytes()
        self._rows = np.arange(self.n_agents, dtype=np.int32)
        self._no_blocked = np.zeros(0, dtype=np.int32)

    def _node(self, config: np.ndarray, parent: _HighNode | None) -> _HighNode:
        d = self.dist[np.arange(self.n_agents), config]
        if parent is None:
            prio = d.astype(np.float64) / max(self.n_agents, 1)
        else:
            prio = np.where(d != 0, parent.priorities + 1.0, parent.priorities - np.floor(parent.priorities))
        order = np.argsort(-prio, kind="stable").astype(np.int32)
        node = _HighNode(config, parent, prio, order)
        node.tree.append(_LowNode((), ()))
        return node

    def successor(self, node: _HighNode, low: _LowNode, rng: np.random.Generator) -> np.ndarray | None:
        """One PIBT successor of ``node.config`` honouring ``low``'s constraints, or None."""
        v_next = np.full(self.n_agents, -1, dtype=np.int32)
        if low.who:
            v_next[list(low.who)] = low.where
        tie = rng.random((self.n_agents, 5))
        ok = pibt_configuration(
            node.config,
            v_next,
            node.order,
            self.flat.nbr,
            self.flat.deg,
            self.dist,
            self._rows,
            self.goals,
            tie,
            self._occ_now,
            self._occ_next,
            self._cand,
            self.use_swap,
            self._no_blocked,
        )
        return v_next if ok else None

    def search(
        self, starts_idx: np.ndarray, options: PlanOptions, rng: np.random.Generator, nodes_before: int = 0
    ) -> tuple[np.ndarray | None, int]:
        """Run LaCAM from ``starts_idx`` until a solution or a stop; returns (configs or None, nodes)."""
        root = self._node(starts_idx.astype(np.int32), None)
        explored: dict[bytes, _HighNode] = {root.config.tobytes(): root}
        stack: list[_HighNode] = [root]
        nodes = 0
        nbr = self.flat.nbr
        while stack:
            if options.stop_now(nodes_before + nodes):
                return None, nodes
            node = stack[-1]
            if node.config.tobytes() == self._goal_bytes:
                return _backtrack(node), nodes
            if not node.tree:
                stack.pop()
                continue
            nodes += 1
            low = node.tree.popleft()
            depth = len(low.who)
            if depth < self.n_agents:
                i = int(node.order[depth])
                v = int(node.config[i])
                moves = [v] + [int(u) for u in nbr[v] if u >= 0]
                rng.shuffle(moves)
                for u in moves:
                    node.tree.append(_LowNode(low.who + (i,), low.where + (u,)))
            nxt = self.successor(node, low, rng)
            if nxt is None:
                continue
            key = nxt.tobytes()
            known = explored.get(key)
            if known is not None:
                stack.append(known)
                continue
            child = self._node(nxt, node)
            explored[key] = child
            stack.append(child)
        return None, nodes


def warm_up() -> None:
    """Compile (or load from numba's cache) the PIBT and LNS kernels on a tiny instance.

    Callers that time planning (CLI, bench) run this first so compilation is not counted.
    """
    grid = Grid.from_rows(["...", ".@.", "..."])
    goals = [(2, 2), (0, 0)]
    flat = FlatGrid.of(grid)
    lacam = LaCAM(flat, goals)
    rng = np.random.default_rng(0)
    configs, _ = lacam.search(np.array([0, 8], dtype=np.int32), PlanOptions(max_nodes=60), rng)
    if configs is not None:  # the LNS kernels compile on their first round
        LnsImprover(flat, lacam.goals, lacam.dist, configs).round(rng)


def _backtrack(node: _HighNode) -> np.ndarray:
    configs = []
    cur: _HighNode | None = node
    while cur is not None:
        configs.append(cur.config)
        cur = cur.parent
    return np.stack(configs[::-1])


def solve(
    grid: Grid,
    starts: Sequence[Cell],
    goals: Sequence[Cell],
    options: PlanOptions | None = None,
    *,
    flat: FlatGrid | None = None,
) -> MapfResult:
    """Plan paths for all agents from ``starts`` to ``goals`` (anytime LaCAM with PIBT + swap).

    Returns the cheapest solution found before ``options`` says stop (``solved=False`` with
    empty paths when none was found). With ``options.improve`` the first solution is improved by
    LNS until stopped (a node limit or ``should_stop`` is then required to end it; without
    either only the first solution is returned). ``nodes_expanded`` counts LaCAM nodes plus
    LNS rounds.
    """
    options = options or PlanOptions()
    check_instance(grid, starts, goals)
    flat = flat or FlatGrid.of(grid)
    lacam = LaCAM(flat, goals)
    seeds = np.random.SeedSequence(options.seed)
    starts_idx = np.array([flat.index(s) for s in starts], dtype=np.int32)
    rng = np.random.default_rng(seeds.spawn(1)[0])
    configs, nodes = lacam.search(starts_idx, options, rng)
    if configs is None:
        return MapfResult([], False, 0, 0, nodes)
    can_improve = options.improve and (options.max_nodes is not None or options.should_stop is not None)
    if can_improve and not options.stop_now(nodes):
        improver = LnsImprover(flat, lacam.goals, lacam.dist, configs)
        nodes += improver.run(options, rng, nodes)
        configs = improver.configs()
    return result_from_configs(configs, lacam.goals, grid.width, nodes)
