"""Helper for the planning property tests: the largest connected region of a random grid."""

from __future__ import annotations

from warehouse_maps.grid import Cell, Grid


def largest_region(grid: Grid) -> list[Cell]:
    """The largest connected set of floor cells (agents placed there can reach each other)."""
    best: list[Cell] = []
    seen: set[Cell] = set()
    for cell in grid.free_cells:
        if cell in seen:
            continue
        table = grid.distance_table(cell)
        region = [c for c in grid.free_cells if table[c[1], c[0]] >= 0]
        seen.update(region)
        if len(region) > len(best):
            best = region
    return best
