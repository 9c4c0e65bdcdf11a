"""Large neighbourhood search over the rotation model's chosen operations (after the priority pass).

The priority pass (:func:`controller.planning.rotation.operation_step`) is greedy: an agent takes
its cheapest operation that fits what the agents before it reserved, and an agent it meets is
pushed only if it has not been planned yet. So an agent may lose its best move to one that had
another move almost as good. Following the 2024 League of Robot Runners winner (Yukhnevich and
Andreychuk, "Enhancing PIBT via Multi-Action Operations", EPIBT+LNS), the plan is then improved
by short *ejection chains*:

1. every agent holds an operation (an agent the pass left unplanned holds the all-wait one,
   which no reservation crosses), all reserved in one table;
2. an agent not on its cheapest operation releases its own and walks its operations cheapest
   first; an operation that meets no reservation ends the chain; one that meets the
   reservations of exactly one other agent (vertex or swap, at any timestep) takes it, and
   that agent releases its own and re-chooses the same way (the next link), up to ``max_chain``
   agents; an operation meeting two agents or a blocked cell is skipped;
3. a finished chain is kept if the summed cost of its agents' operations fell (the first free
   operation of the last link decides); otherwise every link is put back. A link with no
   operation left backs out to the one before, which tries its next.

A kept chain only ever lowers the summed cost, and every operation it places meets no
reservation, so the plan stays collision-free. Every checked operation counts one node against
the step's budget, so a step's result depends on the budget and the seed only, never on load.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from controller.planning.rotation import release, reserve


@njit(cache=True)
def _blocker(i: int, path: np.ndarray, res: np.ndarray, n_agents: int) -> int:
    """-1 if ``path`` meets no reservation; the one agent it meets; -2 if two, or a blocked cell."""
    found = -1
    for t in range(1, path.shape[0]):
        c = path[t] // 4
        r = res[t, c]
        if r >= 0 and r != i:
            if r >= n_agents or (found >= 0 and found != r):
                return -2
            found = r
        p = path[t - 1] // 4
        if c != p:
            j = res[t, p]
            if j >= 0 and j != i and j < n_agents and res[t - 1, c] == j:
                if found >= 0 and found != j:
                    return -2
                found = j
    return found


@njit(cache=True)
def _undo_chain(
    top: int, chain: np.ndarray, old: np.ndarray, paths: np.ndarray, chosen: np.ndarray,
    res: np.ndarray, in_chain: np.ndarray,
) -> None:
    """Put every link ``0..top`` back on its old operation (links ``< top`` hold a new one)."""
    for k in range(top):
        a = chain[k]
        release(a, paths[a, chosen[a]], res)
    for k in range(top + 1):
        a = chain[k]
        chosen[a] = old[k]
        reserve(a, paths[a, old[k]], res)
        in_chain[a] = False


@njit(cache=True)
def _chain(
    r: int, paths: np.ndarray, cand: np.ndarray, n_cand: np.ndarray, cost: np.ndarray,
    chosen: np.ndarray, res: np.ndarray, in_chain: np.ndarray, chain: np.ndarray, old: np.ndarray,
    next_k: np.ndarray, budget: np.ndarray, max_chain: int,
) -> bool:
    """One ejection chain from agent ``r`` (module docstring, steps 2 and 3); True if kept."""
    n_agents = paths.shape[0]
    sp = 0
    chain[0] = r
    old[0] = chosen[r]
    next_k[0] = 0
    in_chain[r] = True
    release(r, paths[r, chosen[r]], res)
    while True:
        i = chain[sp]
        pushed = False
        while next_k[sp] < n_cand[i] and budget[0] > 0:
            budget[0] -= 1
            o = cand[i, next_k[sp]]
            next_k[sp] += 1
            q = _blocker(i, paths[i, o], res, n_agents)
            if q == -1:  # the chain ends here: keep it only if the summed cost fell
                delta = cost[i, o] - cost[i, old[sp]]
                for k in range(sp):
                    a = chain[k]
                    delta += cost[a, chosen[a]] - cost[a, old[k]]
                if delta < -1e-9:
                    chosen[i] = o
                    reserve(i, paths[i, o], res)
                    for k in range(sp + 1):
                        in_chain[chain[k]] = False
                    return True
                _undo_chain(sp, chain, old, paths, chosen, res, in_chain)
                return False
            if q >= 0 and not in_chain[q] and sp + 1 < max_chain:
                chosen[i] = o
                reserve(i, paths[i, o], res)
                release(q, paths[q, chosen[q]], res)
                sp += 1
                chain[sp] = q
                old[sp] = chosen[q]
                next_k[sp] = 0
                in_chain[q] = True
                pushed = True
                break
        if pushed:
            continue
        if sp == 0 or budget[0] <= 0:  # no choice left: everything back as it was
            _undo_chain(sp, chain, old, paths, chosen, res, in_chain)
            return False
        a = chain[sp - 1]  # this link cannot move: back out to the one before
        release(a, paths[a, chosen[a]], res)
        chosen[i] = old[sp]
        reserve(i, paths[i, old[sp]], res)
        in_chain[i] = False
        sp -= 1


@njit(cache=True)
def lns_pass(
    order: np.ndarray, paths: np.ndarray, cand: np.ndarray, n_cand: np.ndarray, cost: np.ndarray,
    chosen: np.ndarray, res: np.ndarray, budget: np.ndarray, max_chain: int,
) -> int:
    """One chain from every agent of ``order`` not on its cheapest operation; the chains kept.

    ``chosen[i]`` is every agent's operation, all reserved in ``res`` (rows 1.. by timestep; row
    0 the current cells); both are updated in place. ``budget[0]`` is the nodes left.
    """
    n_agents = paths.shape[0]
    in_chain = np.zeros(n_agents, dtype=np.bool_)
    chain = np.empty(max_chain, dtype=np.int64)
    old = np.empty(max_chain, dtype=np.int64)
    next_k = np.empty(max_chain, dtype=np.int64)
    kept = 0
    for q in range(order.shape[0]):
        if budget[0] <= 0:
            break
        r = order[q]
        if cand[r, 0] == chosen[r]:
            continue  # already on its cheapest: nothing to gain from its own chain
        if _chain(r, paths, cand, n_cand, cost, chosen, res, in_chain, chain, old, next_k, budget,
                  max_chain):
            kept += 1
    return kept

