"""Footprint classes of the rotation model's operations: operations that hold the same cells.

What an operation reserves in the priority pass (:mod:`controller.planning.rotation`), and so
whether it fits and whom it pushes, depends only on the cells it holds at each timestep, not on
the headings it passes through: ``RWFF`` and ``WRFF`` hold the start cell twice and then drive the
same two cells. The pass searches each class once per agent and attempt; a class that failed
fails again.
"""

from __future__ import annotations

import numpy as np

from controller.planning.rotation import CLOCKWISE, COUNTER, FORWARD


def footprints(ops: np.ndarray) -> np.ndarray:
    """int32 per operation of ``ops``: its class, the same for operations holding the same cells.

    Cells are walked relative to the start, so the classes are the same from every start heading
    (a rotation maps one walk onto the other). 46 operations of 3 actions fall into 17 classes,
    154 of 4 into 48, 514 of 5 into 136.
    """
    step = ((1, 0), (0, 1), (-1, 0), (0, -1))
    seen: dict[tuple[tuple[int, int], ...], int] = {}
    out = np.empty(len(ops), dtype=np.int32)
    for k, op in enumerate(ops):
        x = y = h = 0
        cells = []
        for a in op:
            if a == FORWARD:
                x, y = x + step[h][0], y + step[h][1]
            elif a == CLOCKWISE:
                h = (h + 1) % 4
            elif a == COUNTER:
                h = (h + 3) % 4
            cells.append((x, y))
        out[k] = seen.setdefault(tuple(cells), len(seen))
    return out
