"""Rotation-model step planner: priority inheritance over multi-step operations (EPIBT-style).

A differential-drive AGV turns in place, so an agent's state is ``(cell, heading)`` and
``state = cell * 4 + heading`` (heading 0 = east, 1 = south, 2 = west, 3 = north). The actions
are forward (F), turn clockwise (R), turn counter-clockwise (L) and wait (W), one timestep each.

Why operations: one-step PIBT cannot see that a turn now pays off only with the move after it,
so it reserved cells it then only turned towards, and a pushed agent could escape only forward
(LoRR warehouse_small: 2.8 tasks/step at 200 agents against the grid model's 5.7). Following
the 2024 League of Robot Runners winner (Yukhnevich and Andreychuk, "Enhancing PIBT via
Multi-Action Operations"), each agent chooses a whole *operation*, a sequence of
``DEPTH`` actions such as ``RFF`` or ``WFF``, and reserves the cells it occupies at each of
those timesteps; only the first action is executed and every step is planned again.

One step (:func:`operation_step`):

1. every agent's operations are walked from its state and costed: the actions' costs until
   the goal is reached (a forward move costs its guidance weight, a wait 1, a turn 1.01) plus the
   heading-aware distance left (:func:`controller.planning.guidance.rotation_distances`),
   with small penalties for early waits and for entering occupied cells, and a bonus for
   continuing last step's operation (smooth motion, fewer oscillations);
2. agents in priority order take their cheapest operation that collides with no reservation
   (vertex or swap at any of its timesteps); an agent standing on a cell the operation uses
   and not yet planned must plan next with the reservation in place (priority inheritance);
3. if it cannot, every agent planned since the attempt began is rolled back and the next
   operation is tried (backtracking); an agent left without a plan waits, which is always
   safe because no reservation crosses the cell of an unplanned agent.

Every checked operation counts one node against a budget, so a step's result depends on the
node budget and the seed only, never on machine load.
"""

from __future__ import annotations

from itertools import product

import numpy as np
from numba import njit

DEPTH = 3
"""Actions per operation: three covers "turn, turn, go" and "turn, go, go"."""

FORWARD, CLOCKWISE, COUNTER, WAIT = 0, 1, 2, 3


def operations(depth: int = DEPTH) -> np.ndarray:
    """int8 ``(ops, depth)``: action sequences worth considering, waits-only last.

    Dropped: a turn undone by the next action (``RL``, ``LR``) or after waits (``RWL``: waiting
    in place, only worse), and three turns one way (one turn the other way does it); a 180
    degree turn is ``RR`` or ``LL``. The all-wait operation is last, the fallback among equals.
    """
    keep = []
    for seq in product((FORWARD, CLOCKWISE, COUNTER, WAIT), repeat=depth):
        turns = [a for a in seq if a != WAIT]  # a turn undone before any forward move
        pairs = list(zip(turns, turns[1:]))
        if (CLOCKWISE, COUNTER) in pairs or (COUNTER, CLOCKWISE) in pairs:
            continue
        if any(seq[k : k + 3] in ((CLOCKWISE,) * 3, (COUNTER,) * 3) for k in range(depth - 2)):
            continue
        if all(a == WAIT for a in seq):
            continue
        keep.append(seq)
    keep.append((WAIT,) * depth)
    return np.asarray(keep, dtype=np.int8)


@njit(cache=True)
def _walk(s0: int, op: np.ndarray, nbr: np.ndarray, out: np.ndarray) -> bool:
    """States after each action of ``op`` from ``s0`` into ``out``; False if it drives into a wall."""
    s = s0
    out[0] = s
    for t in range(op.shape[0]):
        v = s // 4
        h = s % 4
        a = op[t]
        if a == 0:
            u = nbr[v, h]
            if u < 0:
                return False
            s = u * 4 + h
        elif a == 1:
            s = v * 4 + (h + 1) % 4
        elif a == 2:
            s = v * 4 + (h + 3) % 4
        out[t + 1] = s
    return True


@njit(cache=True)
def _cost(
    path: np.ndarray, op: np.ndarray, row: int, dist: np.ndarray, weights: np.ndarray, tie: float
) -> float:
    """Cost of one walked operation (see the module docstring, step 1)."""
    depth = op.shape[0]
    if dist[row, path[0]] == 0:  # parked on its goal: any time away from it costs
        c = 0.0
        for t in range(1, depth + 1):
            c += dist[row, path[t]]
        return c + tie
    c = 0.0
    for t in range(1, depth + 1):
        a = op[t - 1]
        if a == 0:
            c += weights[path[t - 1] // 4, path[t - 1] % 4]
        elif a == 3:
            c += 1.0 + 0.001 * (depth - t + 1)  # rather wait later than now
        else:
            c += 1.01  # a turn costs a hair more than a wait: a blocked agent waits, not spins
        if dist[row, path[t]] == 0:
            return c + tie
    return float(c + dist[row, path[depth]] + tie)


@njit(cache=True)
def prepare_candidates(
    s_now: np.ndarray, ops: np.ndarray, nbr: np.ndarray, dist: np.ndarray, rows: np.ndarray,
    weights: np.ndarray, occ: np.ndarray, prev_op: np.ndarray, keep_bonus: float, push_cost: float,
    tie: np.ndarray, paths: np.ndarray, cand: np.ndarray, n_cand: np.ndarray, keyv: np.ndarray,
) -> None:
    """Walk and cost every operation of every agent, cheapest first (fills ``paths``/``cand``/``n_cand``).

    ``paths[i, o]`` are the ``DEPTH + 1`` states of operation ``o``; ``cand[i, :n_cand[i]]`` the
    operations that stay on the map, sorted by cost, and ``keyv[i, o]`` their costs (what a
    later improvement pass compares). ``prev_op[i]`` (or -1) is last step's
    operation: one that continues it (its tail as a prefix) gets ``keep_bonus`` off; one that
    enters a cell somebody stands on now costs ``push_cost`` more.
    """
    n_agents = s_now.shape[0]
    n_ops, depth = ops.shape
    keys = np.empty(n_ops, dtype=np.float64)
    for i in range(n_agents):
        m = 0
        for o in range(n_ops):
            if not _walk(s_now[i], ops[o], nbr, paths[i, o]):
                continue
            key = _cost(paths[i, o], ops[o], rows[i], dist, weights, tie[i, o])
            for t in range(1, depth + 1):
                j = occ[paths[i, o, t] // 4]
                if j >= 0 and j != i:
                    key += push_cost  # somebody stands there now: prefer free cells
                    break
            p = prev_op[i]
            if p >= 0:
                same = True
                for t in range(depth - 1):
                    if ops[o, t] != ops[p, t + 1]:
                        same = False
                        break
                if same:
                    key -= keep_bonus
            keyv[i, o] = key
            q = m - 1
            while q >= 0 and keys[q] > key:  # insertion sort: at most a few dozen operations
                keys[q + 1] = keys[q]
                cand[i, q + 1] = cand[i, q]
                q -= 1
            keys[q + 1] = key
            cand[i, q + 1] = o
            m += 1
        n_cand[i] = m


@njit(cache=True)
def reserve(a: int, path: np.ndarray, res: np.ndarray) -> None:
    """Write agent ``a``'s reservations of ``path`` (its states at timesteps 1..) into ``res``."""
    for t in range(1, path.shape[0]):
        res[t, path[t] // 4] = a


@njit(cache=True)
def release(a: int, path: np.ndarray, res: np.ndarray) -> None:
    """Clear agent ``a``'s reservations of ``path`` (cells another agent holds stay)."""
    for t in range(1, path.shape[0]):
        c = path[t] // 4
        if res[t, c] == a:
            res[t, c] = -1


@njit(cache=True)
def _fits(i: int, path: np.ndarray, res: np.ndarray) -> bool:
    """True if ``path`` meets no reservation: no vertex and no swap conflict at any timestep."""
    for t in range(1, path.shape[0]):
        c = path[t] // 4
        r = res[t, c]
        if r >= 0 and r != i:
            return False
        p = path[t - 1] // 4
        if c != p:
            j = res[t, p]
            if j >= 0 and j != i and res[t - 1, c] == j:
                return False
    return True


@njit(cache=True)
def _meets_failed(i: int, path: np.ndarray, res: np.ndarray, planned: np.ndarray, failed: np.ndarray) -> bool:
    """True if an agent that failed stands on a cell ``path`` holds (it would block the push)."""
    for t in range(1, path.shape[0]):
        j = res[0, path[t] // 4]
        if j >= 0 and j != i and not planned[j] and failed[j]:
            return True
    return False


@njit(cache=True)
def _doomed(
    i: int, path: np.ndarray, paths: np.ndarray, cand: np.ndarray, n_cand: np.ndarray, res: np.ndarray,
    planned: np.ndarray,
) -> bool:
    """True if an unplanned agent on a cell of ``path`` has no operation that fits ``res`` now.

    Its own pushes would only add reservations, so it would fail: one pass over its operations
    here saves searching and rolling back the pushes of the occupants before it.
    """
    for t in range(1, path.shape[0]):
        j = res[0, path[t] // 4]
        if j < 0 or j == i or planned[j]:
            continue
        ok = False
        for k in range(n_cand[j]):
            if _fits(j, paths[j, cand[j, k]], res):
                ok = True
                break
        if not ok:
            return True
    return False


@njit(cache=True)
def _rollback(
    mark: int, paths: np.ndarray, res: np.ndarray, planned: np.ndarray, chosen: np.ndarray, stack: np.ndarray
) -> None:
    """Undo every agent planned since the stack height was ``mark``."""
    while stack[0] > mark:
        a = stack[stack[0]]
        stack[0] -= 1
        release(a, paths[a, chosen[a]], res)
        planned[a] = False
        chosen[a] = -1


@njit(cache=True)
def _plan(
    i0: int, paths: np.ndarray, cand: np.ndarray, n_cand: np.ndarray, res: np.ndarray, planned: np.ndarray,
    chosen: np.ndarray, failed: np.ndarray, flist: np.ndarray, stack: np.ndarray, frames: np.ndarray,
    budget: np.ndarray, fp: np.ndarray, dead: np.ndarray,
) -> bool:
    """Give agent ``i0`` an operation that fits the reservations; False (state unchanged) if none.

    Depth-first over pushes, written as a loop over ``frames`` (one row per agent being
    planned: agent, next candidate, next timestep to clear, stack mark) rather than recursion,
    whose numba cache went stale after an edit and crashed. A pushed agent takes its cheapest
    operation that fits; the occupants of the cells it will use are planned next (inheritance);
    if one cannot be, everything planned since the attempt began is undone and the next
    operation is tried (backtracking).

    An agent that failed once is not pushed again while ``i0`` tries the same operation
    (``failed``, listed in ``flist`` to be cleared when ``i0`` moves on to its next one): as
    in PIBT, where a failed agent stays put, this keeps the search from growing exponentially
    in a jam (without it, LoRR warehouse_small with 400 agents locked up after about 550 steps,
    every agent spending its node budget on pushes), while each operation of ``i0`` still gets
    a fresh search: facing an agent head-on in a corridor, ``FFF`` fails but ``WWF`` works once
    the other has turned round, and a step-wide memo gave up after the first.

    ``res[t, cell]`` is the agent at ``cell`` at timestep ``t``: row 0 holds every agent's
    current cell, rows 1.. the planned agents (and blocked cells as ``n_agents``).
    ``stack[0]`` is the stack height, ``stack[1:]`` the agents in planning order (for rollback);
    ``budget[0]`` the nodes left.

    ``fp[o]`` is operation ``o``'s footprint class (:mod:`.rotation_footprints`) and ``dead[sp]``
    the classes that failed for the agent of frame ``sp``: whether an operation fits and whom it
    pushes depends on its cells alone, and a rollback restores the table exactly (``failed``
    only grows), so an operation of a class that failed fails again and is skipped unchecked.
    Failures come first: an operation over a cell where an agent that failed stands, or where an
    agent stands none of whose operations fits the table as it is (:func:`_doomed`; pushes only
    add reservations), is given up before anyone is pushed, rather than after the pushes before
    it had been searched and rolled back. These checks change only which agents end up marked
    failed and how many nodes a search takes; in a dense jam the nodes fall 4 to 9 fold
    (warehouse_small_800, first step: 13,600 to 3,300 at 3 actions, 99,000 to 10,700 at 4), so
    fewer agents run out and wait unplanned.
    """
    depth = paths.shape[2] - 1
    sp = 0
    frames[0, 0] = i0
    frames[0, 1] = 0
    frames[0, 2] = 0
    dead[0, :] = False
    returning = False
    result = False
    while True:
        i = frames[sp, 0]
        if returning:
            returning = False
            if result:
                frames[sp, 2] += 1  # that occupant is out of the way: clear the next timestep
            else:
                _rollback(frames[sp, 3], paths, res, planned, chosen, stack)
                frames[sp, 2] = 0
                dead[sp, fp[cand[i, frames[sp, 1] - 1]]] = True
        if frames[sp, 2] == 0:  # choose the next operation that fits
            if sp == 0:
                for k in range(1, flist[0] + 1):
                    failed[flist[k]] = False
                flist[0] = 0
            found = False
            o = -1
            while frames[sp, 1] < n_cand[i] and budget[0] > 0:
                o = cand[i, frames[sp, 1]]
                frames[sp, 1] += 1
                if dead[sp, fp[o]]:
                    continue
                budget[0] -= 1
                if _fits(i, paths[i, o], res) and not _meets_failed(i, paths[i, o], res, planned, failed):
                    found = True
                    break
                dead[sp, fp[o]] = True
            if not found:
                if sp == 0:
                    return False
                failed[i] = True
                flist[0] += 1
                flist[flist[0]] = i
                sp -= 1
                returning = True
                result = False
                continue
            frames[sp, 3] = stack[0]
            path = paths[i, o]
            reserve(i, path, res)
            planned[i] = True
            chosen[i] = o
            stack[0] += 1
            stack[stack[0]] = i
            frames[sp, 2] = 1
            if _doomed(i, path, paths, cand, n_cand, res, planned):
                _rollback(frames[sp, 3], paths, res, planned, chosen, stack)
                frames[sp, 2] = 0
                dead[sp, fp[o]] = True
                continue
        path = paths[i, chosen[i]]
        pushed = False
        blocked = False
        while frames[sp, 2] <= depth:  # inheritance: occupants of these cells move first
            j = res[0, path[frames[sp, 2]] // 4]
            if j >= 0 and j != i and not planned[j]:
                if failed[j]:
                    blocked = True
                else:
                    sp += 1
                    frames[sp, 0] = j
                    frames[sp, 1] = 0
                    frames[sp, 2] = 0
                    dead[sp, :] = False
                    pushed = True
                break
            frames[sp, 2] += 1
        if pushed:
            continue
        if blocked:
            _rollback(frames[sp, 3], paths, res, planned, chosen, stack)
            frames[sp, 2] = 0
            dead[sp, fp[cand[i, frames[sp, 1] - 1]]] = True
            continue
        if sp == 0:
            return True
        sp -= 1
        returning = True
        result = True


@njit(cache=True)
def operation_step(
    order: np.ndarray, start: int, paths: np.ndarray, cand: np.ndarray, n_cand: np.ndarray, res: np.ndarray,
    planned: np.ndarray, chosen: np.ndarray, failed: np.ndarray, flist: np.ndarray, stack: np.ndarray,
    frames: np.ndarray, budget: np.ndarray, chunk: int, agent_nodes: int, fp: np.ndarray, dead: np.ndarray,
) -> int:
    """Plan agents ``order[start:]`` until ``chunk`` nodes are spent; return the next index.

    Each agent planned from the top (with everyone it pushes) may check ``agent_nodes``
    operations: backtracking through a dense jam can otherwise grow exponentially, and an
    agent that runs out simply waits this step. The caller polls its stop callback between
    chunks (numba code cannot call back into Python cheaply) and ends when the returned index
    reaches ``len(order)``.
    """
    target = budget[0] - chunk
    local = np.zeros(1, dtype=np.int64)
    q = start
    while q < order.shape[0]:
        i = order[q]
        if not planned[i]:
            local[0] = min(agent_nodes, budget[0])
            given = local[0]
            _plan(i, paths, cand, n_cand, res, planned, chosen, failed, flist, stack, frames, local, fp, dead)
            budget[0] -= given - local[0]
        q += 1
        if budget[0] <= target or budget[0] <= 0:
            break
    return q
