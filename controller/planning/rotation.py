"""PIBT for the rotation model (League of Robot Runners): forward, turn 90 degrees, or wait.

A differential-drive AGV turns in place, so an agent's state is ``(cell, heading)`` and
``state = cell * 4 + heading`` (heading 0 = east, 1 = south, 2 = west, 3 = north). Distances to
a goal cell (any heading) are counted in actions over states, by a reverse breadth-first search
(:func:`rotation_distances`). PIBT then runs on states: the candidates are the forward state
(which occupies the next cell) and the two turns and the wait (which keep the cell); cells are
what agents reserve, so vertex and swap conflicts are the usual cell conflicts. A pushed agent
can only vacate its cell by driving forward; if it cannot, the pusher tries its next choice.
The swap step is not used here (a pair cannot rotate through each other without turning).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def rotation_distances(goal, nbr, far):
    """int32 ``(cells * 4,)``: fewest actions from each (cell, heading) to ``goal`` (any heading)."""
    n = nbr.shape[0]
    rev = np.full((n, 4), -1, dtype=np.int32)
    for v in range(n):
        for h in range(4):
            u = nbr[v, h]
            if u >= 0:
                rev[u, h] = v
    dist = np.full(n * 4, far, dtype=np.int32)
    queue = np.empty(n * 4, dtype=np.int32)
    head = 0
    tail = 0
    for h in range(4):
        dist[goal * 4 + h] = 0
        queue[tail] = goal * 4 + h
        tail += 1
    while head < tail:
        s = queue[head]
        head += 1
        u = s // 4
        h = s % 4
        d = dist[s] + 1
        v = rev[u, h]  # (v, h) drives forward into (u, h)
        if v >= 0 and dist[v * 4 + h] > d:
            dist[v * 4 + h] = d
            queue[tail] = v * 4 + h
            tail += 1
        for hh in ((h + 1) % 4, (h + 3) % 4):  # (u, hh) turns into (u, h)
            if dist[u * 4 + hh] > d:
                dist[u * 4 + hh] = d
                queue[tail] = u * 4 + hh
                tail += 1
    return dist


@njit(cache=True)
def _rot_pibt(i, s_now, s_next, occ_now, occ_next, nbr, dist, rows, tie, cand):
    """Decide agent i's next state, pushing lower-priority agents; False if it had to wait stuck."""
    s = s_now[i]
    v = s // 4
    h = s % 4
    k_max = 0
    fwd = nbr[v, h]
    if fwd >= 0:
        cand[i, k_max] = fwd * 4 + h
        k_max += 1
    cand[i, k_max] = v * 4 + (h + 1) % 4
    cand[i, k_max + 1] = v * 4 + (h + 3) % 4
    cand[i, k_max + 2] = s
    k_max += 3
    keys = np.empty(4, dtype=np.float64)
    for k in range(k_max):
        keys[k] = dist[rows[i], cand[i, k]] + tie[i, k]
    for k in range(1, k_max):
        key = keys[k]
        c = cand[i, k]
        r = k - 1
        while r >= 0 and keys[r] > key:
            keys[r + 1] = keys[r]
            cand[i, r + 1] = cand[i, r]
            r -= 1
        keys[r + 1] = key
        cand[i, r + 1] = c
    for k in range(k_max):
        t = cand[i, k]
        u = t // 4
        if occ_next[u] >= 0:
            continue
        ak = occ_now[u]
        if ak >= 0 and ak != i and s_next[ak] >= 0 and s_next[ak] // 4 == v:
            continue  # swap conflict
        occ_next[u] = i
        s_next[i] = t
        if ak >= 0 and ak != i and s_next[ak] < 0:
            if not _rot_pibt(ak, s_now, s_next, occ_now, occ_next, nbr, dist, rows, tie, cand):
                continue
        return True
    occ_next[v] = i
    s_next[i] = s
    return False


@njit(cache=True)
def rotation_step(s_now, order, nbr, dist, rows, tie, occ_now, occ_next, cand, blocked):
    """Next state per agent (int32 array). Always collision-free: agents that fail wait.

    Scratch arrays ``occ_now``/``occ_next`` (length cells, all -1) are returned cleared.
    """
    n_agents = s_now.shape[0]
    s_next = np.full(n_agents, -1, dtype=np.int32)
    for i in range(n_agents):
        occ_now[s_now[i] // 4] = i
    for b in blocked:
        if occ_now[b] < 0:
            occ_next[b] = n_agents
    for r in range(order.shape[0]):
        i = order[r]
        if s_next[i] < 0:
            _rot_pibt(i, s_now, s_next, occ_now, occ_next, nbr, dist, rows, tie, cand)
    for i in range(n_agents):
        v = s_now[i] // 4
        occ_now[v] = -1
        occ_next[v] = -1
        for d in range(4):
            u = nbr[v, d]
            if u >= 0:
                occ_next[u] = -1
    for b in blocked:
        occ_next[b] = -1
    return s_next
