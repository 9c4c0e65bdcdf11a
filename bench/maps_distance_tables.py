"""Benchmark: BFS distance tables (``Grid.distance_tables``) against two peers in the same process.

Peers: scipy's C Dijkstra over the grid's move graph (the grid's fallback for one-way and
weighted edges), the numpy frontier-wave BFS the grid first used (one vectorised shift per BFS
wave) and a plain Python queue BFS filling a full table. Each case runs on a fresh ``Grid`` (cold: the move
graph is built inside the timing) and reports the median of several runs, in milliseconds.

Run: ``python bench/maps_distance_tables.py`` (shared maps are used when ``../shared`` or
``$BULLETYARD_SHARED`` holds them).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.sparse.csgraph import dijkstra

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.figures import FigureTable, add_figures_option  # noqa: E402
from warehouse_maps.catalog import load_layout  # noqa: E402
from warehouse_maps.grid import MOVES, UNREACHABLE, Cell, Grid  # noqa: E402
from warehouse_maps.lorr import load_lorr_map  # noqa: E402
from warehouse_maps.movingai import load_map  # noqa: E402

REPEATS = 7


def numpy_waves(passable: np.ndarray, goal: Cell) -> np.ndarray:
    """Peer 1: frontier-at-a-time BFS with numpy shifts (the grid's earlier implementation)."""
    h, w = passable.shape
    table = np.full((h, w), UNREACHABLE, dtype=np.int32)
    frontier = np.zeros((h, w), dtype=bool)
    frontier[goal[1], goal[0]] = True
    unvisited = passable.copy()
    unvisited[goal[1], goal[0]] = False
    table[goal[1], goal[0]] = 0
    dist = 0
    while frontier.any():
        dist += 1
        nxt = np.zeros_like(frontier)
        nxt[1:, :] |= frontier[:-1, :]
        nxt[:-1, :] |= frontier[1:, :]
        nxt[:, 1:] |= frontier[:, :-1]
        nxt[:, :-1] |= frontier[:, 1:]
        nxt &= unvisited
        table[nxt] = dist
        unvisited &= ~nxt
        frontier = nxt
    return table


def python_queue(passable: np.ndarray, goal: Cell) -> np.ndarray:
    """Peer 2: a plain deque BFS writing a full table."""
    h, w = passable.shape
    table = np.full((h, w), UNREACHABLE, dtype=np.int32)
    table[goal[1], goal[0]] = 0
    queue = deque([goal])
    free = passable.tolist()
    while queue:
        x, y = queue.popleft()
        d = table[y, x] + 1
        for dx, dy in MOVES:
            nx, ny = x + dx, y + dy
            if 0 <= nx < w and 0 <= ny < h and free[ny][nx] and table[ny, nx] < 0:
                table[ny, nx] = d
                queue.append((nx, ny))
    return table


def median_ms(run: Callable[[], object]) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(times)


def cases() -> list[tuple[str, np.ndarray, list[Cell]]]:
    fc = load_layout("fc")
    out = [("fc: 10 pick stations", fc.grid.passable, list(fc.cells_of("pick_station"))),
           ("sort-center: 8 inducts", load_layout("sort-center").grid.passable,
            list(load_layout("sort-center").cells_of("induct")))]
    shared = Path(os.environ.get("BULLETYARD_SHARED", Path(__file__).resolve().parents[2] / "shared"))
    bench = shared / "benchmarks"
    if bench.is_dir():
        rng = np.random.default_rng(1)
        wh = load_map(bench / "movingai" / "warehouse-10-20-10-2-1.map")
        sl = load_lorr_map(bench / "lorr" / "maps" / "sortation_large.map")
        for label, grid, n in (("movingai warehouse 161x63: 100 goals", wh, 100),
                               ("lorr sortation 500x140: 10 goals", sl, 10)):
            picks = rng.choice(len(grid.free_cells), size=n, replace=False)
            out.append((label, grid.passable, [grid.free_cells[int(i)] for i in picks]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_figures_option(ap)
    args = ap.parse_args()
    table = FigureTable(
        "distance-tables",
        "Distance tables: milliseconds for all goals of a case (median, fresh Grid each run)",
        ["case", "distance_tables ms", "scipy ms", "numpy waves ms", "py queue ms", "scipy / ours"],
        {"repeats": REPEATS},
        notes="py queue: 5 goals timed, scaled to the case's goal count; "
        "scipy: graph built outside the timing.",
    )
    Grid.from_rows(["..", ".."]).distance_table((0, 0))  # compile / load the kernel outside the timing
    for label, passable, goals in cases():
        ours = median_ms(lambda p=passable, g=goals: Grid(p).distance_tables(g))
        graph = Grid(passable)._reverse_graph
        index = [y * passable.shape[1] + x for x, y in goals]
        scipy_ms = median_ms(lambda m=graph, i=index: dijkstra(m, directed=True, indices=i, unweighted=True))
        waves = median_ms(lambda p=passable, g=goals: [numpy_waves(p, x) for x in g])
        queue = median_ms(lambda p=passable, g=goals: [python_queue(p, x) for x in g[:5]]) * len(goals) / 5
        check = Grid(passable)
        for goal in goals[:3]:
            assert np.array_equal(check.distance_table(goal), numpy_waves(passable, goal))
        table.add(label, f"{ours:.2f}", f"{scipy_ms:.2f}", f"{waves:.2f}", f"{queue:.1f}",
                  f"{scipy_ms / ours:.1f} x")
    table.emit(args.figures)


if __name__ == "__main__":
    main()
