"""Where robots bound for a busy stop cell wait: beside it, or in line on its queue's cells.

Why: planning knows no durations, so while a robot stands on a stop for its action (an induct's
load, seconds) the cell is a wall for the window, and a robot bound for it whose goal is a wall
waits wherever it happens to be. At an induct the robot next in line then often stood several
cells away, frozen, and the induct stood empty while it came (the gaps between two loads ran to
15 s and more). A stop cell with a queue (``queues``: its waiting cells, the one next to it first,
as :mod:`controller.tasks.induct_flow` lays them out behind a one-way induct's entry) lines the
robots bound for it up there, nearest first: the nearest goes onto the stop cell when it is free,
or the first waiting cell when it is not, the next one to the following cell, and so on (the last
cell takes any beyond the queue's length). A busy stop cell without a queue keeps the rule it had:
the nearest robot bound for it goes beside it, on a cell it may enter it from, the others wait.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from warehouse_maps.grid import Cell, Grid


def waiting_goals(
    grid: Grid,
    positions: Sequence[Cell],
    goals: Sequence[Cell],
    busy: set[Cell],
    queues: Mapping[Cell, Sequence[Cell]],
) -> list[Cell]:
    """``goals`` with the robots bound for a busy stop cell or a queued one sent where they wait.

    Args:
        grid: the planning grid (one-way edges honoured).
        positions: per robot of the window, where its plan ends.
        goals: per robot of the window, its stop cell (or home).
        busy: cells robots stand on for their stops (walls for the window).
        queues: per queued stop cell, its waiting cells in line order.
    """
    out = list(goals)
    bound: dict[Cell, list[int]] = {}
    for k, g in enumerate(goals):
        if g in busy or g in queues:
            bound.setdefault(g, []).append(k)
    for g, ks in bound.items():
        queue = queues.get(g)
        if not queue:
            if g in busy:
                _beside(grid, positions, out, g, ks, busy)
            continue
        slots = [c for c in ([] if g in busy else [g]) + list(queue) if c not in busy]
        if not slots:
            continue
        for rank, k in enumerate(sorted(ks, key=lambda k: (_steps(grid, positions[k], g), k))):
            out[k] = slots[min(rank, len(slots) - 1)]
    return out


def _steps(grid: Grid, cell: Cell, goal: Cell) -> int:
    """Moves from ``cell`` to ``goal`` on the grid (unreachable: more than any route)."""
    d = int(grid.distance_table(goal)[cell[1], cell[0]])
    return d if d >= 0 else grid.width * grid.height


def _beside(grid: Grid, positions: Sequence[Cell], out: list[Cell], g: Cell, ks: list[int],
            busy: set[Cell]) -> None:
    """The nearest robot of ``ks`` (the first on a tie) goes to the nearest cell it may enter ``g``
    from (the nearest only: more crowd the stop's way out); the others keep their goal (a wall for
    the window: they wait where they are)."""
    def manhattan(a: Cell, b: Cell) -> int:
        return abs(a[0] - b[0]) + abs(a[1] - b[1])

    k = min(ks, key=lambda k: (manhattan(positions[k], g), k))
    beside = [n for n in grid.entries(g) if n not in busy]
    if beside:
        out[k] = min(beside, key=lambda n: manhattan(n, positions[k]))
