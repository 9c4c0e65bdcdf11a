"""PIBT (priority inheritance with backtracking) with the swap step, as numba kernels on flat arrays.

One call of :func:`pibt_configuration` turns the current configuration into the next one: agents
in priority order pick the neighbouring cell closest to their goal; an agent that wants a cell
held by a lower-priority agent makes that agent move first (priority inheritance) and tries its
next choice if the pushed agent cannot move (backtracking). Some agents may already have their
next cell fixed (LaCAM's low-level constraints); those are honoured or the call fails.

The swap step (Okumura, "Engineering LaCAM*", 2024) handles two agents that must pass each other
in a one-cell corridor: plain PIBT would push them back and forth forever. When the simulation
below says a swap is both required and possible, the agent takes its *worst* candidate instead
and pulls the other agent into its old cell, so the pair rotates through the next branching cell.

Learnt from the papers and Okumura's public C++ (lacam3); written from scratch for flat int32
arrays. All arrays are indexed by agent ``i`` or cell ``v``; -1 means "none".
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _candidates(
    i: int, v: int, nbr: np.ndarray, dist: np.ndarray, rows: np.ndarray, tie: np.ndarray, cand: np.ndarray,
    occ_now: np.ndarray,
) -> int:
    """Fill ``cand[i]`` with v's neighbours and v itself, nearest to the goal first; return count.

    Ties in distance go to cells nobody stands on now (fewer pushes), then to ``tie`` (in [0, 1)).
    """
    k = 0
    for d in range(4):
        u = nbr[v, d]
        if u >= 0:
            cand[i, k] = u
            k += 1
    cand[i, k] = v
    k += 1
    keys = np.empty(5, dtype=np.float64)
    for s in range(k):
        c = cand[i, s]
        keys[s] = dist[rows[i], c] + 0.49 * tie[i, s] + (0.5 if (occ_now[c] >= 0 and c != v) else 0.0)
    for s in range(1, k):  # insertion sort, at most 5 entries
        key = keys[s]
        c = cand[i, s]
        r = s - 1
        while r >= 0 and keys[r] > key:
            keys[r + 1] = keys[r]
            cand[i, r + 1] = cand[i, r]
            r -= 1
        keys[r + 1] = key
        cand[i, r + 1] = c
    return k


@njit(cache=True)
def _escapes(
    vq: int, vp: int, nbr: np.ndarray, deg: np.ndarray, occ_now: np.ndarray, goals: np.ndarray
) -> tuple[int, int]:
    """Cells the puller at ``vq`` could step to other than ``vp`` (skipping parked dead-end agents).

    Returns (count, one such cell or -1).
    """
    n = deg[vq]
    other = -1
    for d in range(4):
        u = nbr[vq, d]
        if u < 0:
            continue
        a = occ_now[u]
        if u == vp or (deg[u] == 1 and a >= 0 and goals[a] == u):
            n -= 1
        else:
            other = u
    return n, other


@njit(cache=True)
def _swap_required(
    pusher: int, puller: int, vp: int, vq: int, nbr: np.ndarray, deg: np.ndarray, occ_now: np.ndarray,
    goals: np.ndarray, dist: np.ndarray, rows: np.ndarray,
) -> bool:
    """Would pushing the puller back along a corridor fail to let the pusher through?"""
    pusher = rows[pusher]
    puller = rows[puller]
    while dist[pusher, vq] < dist[pusher, vp]:
        n, other = _escapes(vq, vp, nbr, deg, occ_now, goals)
        if n >= 2:
            return False  # the puller can step aside at vq
        if n <= 0:
            break
        vp = vq
        vq = other
    puller_gains = dist[puller, vp] < dist[puller, vq]
    return bool(puller_gains and (dist[pusher, vp] == 0 or dist[pusher, vq] < dist[pusher, vp]))


@njit(cache=True)
def _swap_possible(
    vp0: int, vq0: int, nbr: np.ndarray, deg: np.ndarray, occ_now: np.ndarray, goals: np.ndarray
) -> bool:
    """Is there a branching cell behind the puller where the pair can rotate?"""
    vp = vp0
    vq = vq0
    while vq != vp0:
        n, other = _escapes(vq, vp, nbr, deg, occ_now, goals)
        if n >= 2:
            return True
        if n <= 0:
            return False
        vp = vq
        vq = other
    return False


@njit(cache=True)
def _swap_partner(
    i: int, v_now: np.ndarray, v_next: np.ndarray, occ_now: np.ndarray, nbr: np.ndarray, deg: np.ndarray,
    goals: np.ndarray, dist: np.ndarray, rows: np.ndarray, cand: np.ndarray,
) -> int:
    """The agent that agent ``i`` should swap with, or -1."""
    v = v_now[i]
    c0 = cand[i, 0]
    if c0 == v:
        return -1
    aj: int = occ_now[c0]
    if (
        aj >= 0
        and v_next[aj] < 0
        and _swap_required(i, aj, v, v_now[aj], nbr, deg, occ_now, goals, dist, rows)
        and _swap_possible(v_now[aj], v, nbr, deg, occ_now, goals)
    ):
        return aj
    for d in range(4):  # clearing: i blocks a neighbour that needs to pass through i's cell
        u = nbr[v, d]
        if u < 0:
            continue
        ak: int = occ_now[u]
        if ak < 0 or c0 == v_now[ak]:
            continue
        if _swap_required(ak, i, v, c0, nbr, deg, occ_now, goals, dist, rows) and _swap_possible(
            c0, v, nbr, deg, occ_now, goals
        ):
            return ak
    return -1


@njit(cache=True)
def _pibt(
    i: int, v_now: np.ndarray, v_next: np.ndarray, occ_now: np.ndarray, occ_next: np.ndarray,
    nbr: np.ndarray, deg: np.ndarray, dist: np.ndarray, rows: np.ndarray, goals: np.ndarray,
    tie: np.ndarray, cand: np.ndarray, use_swap: bool,
) -> bool:
    """Decide agent i's next cell, pushing lower-priority agents; False if it had to stay stuck."""
    v = v_now[i]
    k_max = _candidates(i, v, nbr, dist, rows, tie, cand, occ_now)
    partner = -1
    if use_swap:
        partner = _swap_partner(i, v_now, v_next, occ_now, nbr, deg, goals, dist, rows, cand)
        if partner >= 0:
            for s in range(k_max // 2):
                tmp = cand[i, s]
                cand[i, s] = cand[i, k_max - 1 - s]
                cand[i, k_max - 1 - s] = tmp
    for k in range(k_max):
        u = cand[i, k]
        if occ_next[u] >= 0:
            continue  # vertex conflict
        ak = occ_now[u]
        if ak >= 0 and v_next[ak] == v:
            continue  # swap conflict
        occ_next[u] = i
        v_next[i] = u
        if ak >= 0 and ak != i and v_next[ak] < 0:
            if not _pibt(
                ak, v_now, v_next, occ_now, occ_next, nbr, deg, dist, rows, goals, tie, cand, use_swap
            ):
                continue
        if k == 0 and partner >= 0 and v_next[partner] < 0 and occ_next[v] < 0:
            v_next[partner] = v  # pull the partner into our old cell
            occ_next[v] = partner
        return True
    occ_next[v] = i
    v_next[i] = v
    return False


@njit(cache=True)
def pibt_configuration(
    v_now: np.ndarray, v_next: np.ndarray, order: np.ndarray, nbr: np.ndarray, deg: np.ndarray,
    dist: np.ndarray, rows: np.ndarray, goals: np.ndarray, tie: np.ndarray, occ_now: np.ndarray,
    occ_next: np.ndarray, cand: np.ndarray, use_swap: bool, blocked: np.ndarray,
) -> bool:
    """Fill ``v_next`` (entries >= 0 are fixed constraints) by PIBT in ``order``; True on success.

    Agent ``i`` reads its distances from ``dist[rows[i]]``. Cells in ``blocked`` are never
    entered (an agent already standing on one may stay). ``occ_now`` and ``occ_next`` are
    scratch arrays of length cells filled with -1; they are returned in that state. On failure
    ``v_next`` holds garbage and must be discarded.
    """
    n_agents = v_now.shape[0]
    ok = True
    for i in range(n_agents):
        occ_now[v_now[i]] = i
    for b in blocked:
        if occ_now[b] < 0:
            occ_next[b] = n_agents  # a wall for this step
    for i in range(n_agents):
        u = v_next[i]
        if u >= 0:
            if occ_next[u] >= 0:
                ok = False  # two constraints on one cell
            occ_next[u] = i
    if ok:
        for i in range(n_agents):
            u = v_next[i]
            if u >= 0:
                j = occ_now[u]
                if j >= 0 and j != i and v_next[j] == v_now[i]:
                    ok = False  # constraints ask for a swap
    if ok:
        for r in range(order.shape[0]):
            i = order[r]
            if v_next[i] < 0:
                if not _pibt(
                    i, v_now, v_next, occ_now, occ_next, nbr, deg, dist, rows, goals, tie, cand, use_swap
                ):
                    ok = False
                    break
    for i in range(n_agents):
        occ_now[v_now[i]] = -1
        if v_next[i] >= 0:
            occ_next[v_next[i]] = -1
    for b in blocked:
        occ_next[b] = -1
    # occ_next may hold entries of agents whose reservation was overwritten; clear them all.
    for i in range(n_agents):
        for d in range(4):
            u = nbr[v_now[i], d]
            if u >= 0:
                occ_next[u] = -1
        occ_next[v_now[i]] = -1
    return ok
