"""Traffic guidance for lifelong MAPF: soft one-way lanes that alternate from corridor to corridor.

PIBT follows distance tables greedily, so in one-cell warehouse aisles opposing flows meet head
on and the fleet jams (measured on LoRR warehouse_small: 2.7 tasks per step at 200 agents and
fewer at 400). Giving every corridor a preferred direction, alternating between neighbouring
corridors like one-way streets, and charging ``against_cost`` per move against it (instead of 1)
turns most head-on meetings into queues going the same way: 5.6 tasks per step at 200 agents.
The lanes are soft, so every route that exists still exists.

Which direction a corridor gets: a *corridor row* is a row holding a floor cell with walls
directly above and below; corridor rows alternate east/west in the order they appear, and the
other rows alternate by parity. Columns likewise (corridor columns alternate south/north).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from controller.planning.graph import FlatGrid
from warehouse_maps.grid import MOVES, Grid


def lane_signs(passable: np.ndarray, axis: int) -> np.ndarray:
    """+1 / -1 per row (axis=0) or column (axis=1): the preferred direction of its lane."""
    p = passable if axis == 0 else passable.T
    size = p.shape[0]
    walled = np.zeros_like(p)
    walled[1:-1] = p[1:-1] & ~p[:-2] & ~p[2:]
    corridor = walled.any(axis=1)
    signs = np.where(np.arange(size) % 2 == 0, 1, -1)
    ordinal = np.cumsum(corridor) - 1
    signs[corridor] = np.where(ordinal[corridor] % 2 == 0, 1, -1)
    return signs


def lane_weights(flat: FlatGrid, against_cost: int, open_cost: int | None = None) -> np.ndarray:
    """int32 ``(cells, 4)``: cost of each move by heading E, S, W, N (1 with the lane).

    ``open_cost`` (default ``against_cost``) is charged instead against the lane where the cell
    is not an aisle along that move (no walls on both sides): strict one-way aisles, soft
    guidance in open floor. The rotation model uses 10 and 2: a head-on meeting in an aisle costs
    turning round, but strong lanes in the open only make detours (LoRR 2023 MR23-I-03, a random
    map: 1,354 tasks at 10 everywhere, 1,865 at 10 and 2; warehouse_small 200 agents 4.59 and 4.68
    tasks/step). A move the grid gives a weight costs that weight instead.
    """
    grid = flat.grid
    weights = np.ones((flat.n, 4), dtype=np.int32)
    if against_cost <= 1 and (open_cost is None or open_cost <= 1):
        return _given_weights(grid, weights)
    row_sign = lane_signs(grid.passable, 0)  # +1: eastbound
    col_sign = lane_signs(grid.passable, 1)  # +1: southbound
    ys, xs = np.divmod(np.arange(flat.n), grid.width)
    east = row_sign[ys] > 0
    south = col_sign[xs] > 0
    cost_ew = np.full(flat.n, against_cost, dtype=np.int32)
    cost_ns = np.full(flat.n, against_cost, dtype=np.int32)
    if open_cost is not None:
        walled = np.zeros((grid.height + 2, grid.width + 2), dtype=bool)
        walled[1:-1, 1:-1] = grid.passable
        aisle_ew = (~walled[:-2, 1:-1] & ~walled[2:, 1:-1]).ravel()  # walls above and below
        aisle_ns = (~walled[1:-1, :-2] & ~walled[1:-1, 2:]).ravel()  # walls left and right
        cost_ew[~aisle_ew] = open_cost
        cost_ns[~aisle_ns] = open_cost
    weights[~east, 0] = cost_ew[~east]
    weights[east, 2] = cost_ew[east]
    weights[~south, 1] = cost_ns[~south]
    weights[south, 3] = cost_ns[south]
    return _given_weights(grid, weights)


def _given_weights(grid: Grid, weights: np.ndarray) -> np.ndarray:
    """``weights`` with every move the grid gives a weight (``Grid.edge_weights``) costing that
    instead: the layout's word beats the generated lanes, and a one-way induct's waiting line is
    with the flow whatever the lane of its row or column (:mod:`controller.tasks.induct_flow`)."""
    for (a, b), w in grid.edge_weights.items():
        weights[grid.index(a), MOVES.index((b[0] - a[0], b[1] - a[1]))] = w
    return weights


@njit(cache=True)
def reverse_neighbours(nbr: np.ndarray) -> np.ndarray:
    """int32 ``(cells, 4)``: ``src[u, d]`` is the cell whose move by heading ``d`` enters ``u`` (-1: none)."""
    n = nbr.shape[0]
    src = np.full((n, 4), -1, dtype=np.int32)
    for v in range(n):
        for d in range(4):
            u = nbr[v, d]
            if u >= 0:
                src[u, d] = v
    return src


@njit(cache=True)
def _dial(
    goal: int, src: np.ndarray, weights: np.ndarray, far: int, max_weight: int, headings: bool
) -> np.ndarray:
    """Cheapest cost to ``goal`` from every state by Dial's algorithm (a ring of buckets).

    States are cells, or with ``headings`` ``cell * 4 + heading`` (any heading at the goal; a
    turn costs 1). Costs are small integers, so a ring of ``max_weight + 1`` buckets replaces a
    binary heap with O(1) queue operations. Each state is relaxed from at most 4 others, which
    bounds the queue.
    """
    n = src.shape[0]
    width = 4 if headings else 1
    dist = np.full(n * width, far, dtype=np.int32)
    ring = max(max_weight, 1) + 1
    head = np.full(ring, -1, dtype=np.int32)
    link = np.empty(4 * n * width + 4, dtype=np.int32)
    state_of = np.empty(4 * n * width + 4, dtype=np.int32)
    used = 0
    for h in range(width):
        dist[goal * width + h] = 0
        state_of[used] = goal * width + h
        link[used] = head[0]
        head[0] = used
        used += 1
    pending = used
    preds = np.empty(4, dtype=np.int64)
    costs = np.empty(4, dtype=np.int64)
    d = 0
    while pending > 0:
        b = d % ring
        while head[b] >= 0:
            e = head[b]
            head[b] = link[e]
            pending -= 1
            s = state_of[e]
            if dist[s] != d:
                continue  # settled earlier at a lower cost
            m = 0
            if headings:  # drive forward into the cell, or turn into the heading
                u = s // 4
                h = s % 4
                v = src[u, h]
                if v >= 0:
                    preds[m] = v * 4 + h
                    costs[m] = weights[v, h]
                    m += 1
                for turn in (1, 3):
                    preds[m] = u * 4 + (h + turn) % 4
                    costs[m] = 1
                    m += 1
            else:
                for k in range(4):
                    v = src[s, k]
                    if v >= 0:
                        preds[m] = v
                        costs[m] = weights[v, k]
                        m += 1
            for k in range(m):
                p = preds[k]
                nd = d + costs[k]
                if nd < dist[p]:
                    dist[p] = nd
                    slot = nd % ring
                    state_of[used] = p
                    link[used] = head[slot]
                    head[slot] = used
                    used += 1
                    pending += 1
        d += 1
    return dist


@njit(cache=True)
def bucket_distances(
    goal: int, src: np.ndarray, weights: np.ndarray, far: int, max_weight: int
) -> np.ndarray:
    """int32 ``(cells,)``: cheapest cost from each cell to ``goal`` with per-move ``weights``
    (``far`` where unreachable).

    Dial's algorithm (:func:`_dial`) rather than a heap: at 500 robots a new goal's table was a
    visible part of each planning window. ``src`` comes from :func:`reverse_neighbours`
    (computed once per grid).
    """
    return _dial(goal, src, weights, far, max_weight, False)


@njit(cache=True)
def rotation_distances(
    goal: int, src: np.ndarray, weights: np.ndarray, far: int, max_weight: int
) -> np.ndarray:
    """int32 ``(cells * 4,)``: cheapest actions from each (cell, heading) to ``goal``, any heading there.

    A turn costs 1, a forward move ``weights[cell, heading]``; state ``cell * 4 + heading``.
    Dial's algorithm over states (:func:`_dial`): on the 70,000-cell LoRR warehouse_large a binary
    heap took 18 ms a table (this: 2 ms), and a fleet's first step builds one per robot.
    """
    return _dial(goal, src, weights, far, max_weight, True)
