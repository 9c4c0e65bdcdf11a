"""A LoRR sortation map as a robotic sortation layout: converted, with chutes generated.

The League of Robot Runners sortation maps draw the sorting field as single obstacle cells (the
chute holes) in rows two cells apart, and their emitter cells (``E``) as inducts, which
``bulletyard map convert`` turns into our layout. This adds a chute per hole: its drop cell is
the floor cell north of the hole (each such cell touches exactly that hole in the pattern), and
keeps every ``induct_every``-th induct (the maps have over 600; a distance table each would cost
tens of megabytes).
"""

from __future__ import annotations

from pathlib import Path

from warehouse_maps.catalog import load_layout
from warehouse_maps.layout import Layout, Place, PlaceKind
from warehouse_maps.layout_yaml import dump_layout_yaml


def with_chutes(layout: Layout, induct_every: int = 5) -> Layout:
    """``layout`` with a chute for every isolated obstacle cell that has floor to its north."""
    grid = layout.grid
    inducts = [p for p in layout.places if p.kind is PlaceKind.INDUCT][::induct_every]
    taken = {p.cell for p in inducts}
    chutes: list[Place] = []
    for y in range(1, grid.height - 1):
        for x in range(1, grid.width - 1):
            if grid.is_passable((x, y)):
                continue
            around = [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)]
            if not all(grid.is_passable(c) for c in around):
                continue  # part of a wall or a block, not a chute hole
            drop = (x, y - 1)
            if drop in taken:
                continue
            taken.add(drop)
            chutes.append(Place(f"CH{len(chutes) + 1}", PlaceKind.CHUTE, drop, (x, y)))
    others = [p for p in layout.places if p.kind not in (PlaceKind.INDUCT, PlaceKind.CHUTE)]
    return Layout(layout.name, grid, tuple(inducts + others + chutes), layout.cell_size_m,
                  dict(layout.equipment))


def convert_with_chutes(source: Path, out: Path, induct_every: int = 5) -> Path:
    """Write the converted layout YAML with generated chutes to ``out``; returns ``out``."""
    layout = with_chutes(load_layout(str(source)), induct_every)
    out.write_text(dump_layout_yaml(layout, description=f"converted from {source.name}, chutes generated"),
                   encoding="utf-8")
    return out
