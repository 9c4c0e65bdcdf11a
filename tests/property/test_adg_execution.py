"""Property: executing any valid plan through the action dependency graph, whatever the delays,
never puts two robots in one cell, never swaps two robots and always finishes (no deadlock).

Robots move one at a time in a random order each tick; a delayed robot skips its turn. A robot
moves only to a step the graph has released. Plans come in several windows appended while the
robots are executing (replanning), and sometimes the unreleased rest is dropped and replanned
from the released ends (what the controller does when a robot fails). Sometimes robots sit a
window out (the controller does this for a robot that lags): the window plans only the others, and
the cells where the sitting-out robots' plans end are walls. Sometimes every step a robot
leaves is forgotten at once (the executor does it in batches, to bound memory).
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.execution.adg import ActionDependencyGraph
from tests.property.adg_paths import random_window
from warehouse_maps.grid import Grid

MAPS = [
    ["....", "....", "...."],  # open 4x3
    ["......", ".@@.@.", "......"],  # aisles
    [".....", ".@.@.", ".....", ".@.@.", "....."],
    ["........"],  # one-cell corridor: heavy following
]


@st.composite
def scenarios(draw):
    rows = MAPS[draw(st.integers(0, len(MAPS) - 1))]
    grid = Grid.from_rows(rows)
    free = list(grid.free_cells)
    n = draw(st.integers(1, min(6, len(free) - 1)))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    cells = [free[i] for i in rng.permutation(len(free))[:n]]
    starts = {f"r{i}": c for i, c in enumerate(cells)}
    delay_p = {r: draw(st.floats(0.0, 0.9)) for r in starts}
    windows = draw(st.integers(1, 4))
    length = draw(st.integers(2, 8))
    max_ahead = draw(st.sampled_from([None, 1, 3]))
    truncate_p = draw(st.sampled_from([0.0, 0.3]))
    sit_out_p = draw(st.sampled_from([0.0, 0.4]))
    forget = draw(st.booleans())
    return grid, starts, delay_p, windows, length, max_ahead, truncate_p, sit_out_p, forget, seed


def _check_waiting_on(adg: ActionDependencyGraph) -> None:
    """``waiting_on`` (an index kept up to date) equals its definition, computed by brute force:
    the robots whose next unreleased step waits for a visit of the robot."""
    tracks = adg._tracks  # the definition needs the raw dependencies
    for robot in adg.robots:
        expected = sorted(
            other
            for other, track in tracks.items()
            if other != robot
            and (dep := track.deps.get(track.released + 1)) is not None
            and dep.robot == robot
        )
        assert adg.waiting_on(robot) == expected, robot


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_adg_execution_is_safe_and_live(scenario) -> None:
    grid, starts, delay_p, windows, length, max_ahead, truncate_p, sit_out_p, forget, seed = scenario
    rng = np.random.default_rng(seed + 1)
    adg = ActionDependencyGraph(starts)
    position = dict(starts)
    adg.append_window(random_window(grid, starts, length, rng))
    windows_left = windows - 1
    ticks = 0
    while not (adg.is_done() and windows_left == 0):
        ticks += 1
        assert ticks < 5_000, "execution did not finish: deadlock"
        if windows_left and any(adg.remaining(r) <= 2 for r in adg.robots):
            if rng.random() < truncate_p:
                adg.truncate_to_released()
            ends = {r: adg.last_cell(r) for r in adg.robots}
            assert len(set(ends.values())) == len(ends), "released ends collide"
            planned = {r: c for r, c in ends.items() if rng.random() >= sit_out_p}
            walls = frozenset(c for r, c in ends.items() if r not in planned)
            adg.append_window(random_window(grid, planned, length, rng, walls=walls))
            windows_left -= 1
        order = adg.robots
        rng.shuffle(order)
        for r in order:
            if rng.random() < delay_p[r]:
                continue
            released = adg.release(r, max_ahead)
            step = adg.reached(r)
            if released > step:
                target = adg.cell_at(r, step + 1)
                others = {c for o, c in position.items() if o != r}
                assert target not in others, f"{r} would enter {target} while it is occupied"
                position[r] = target
                adg.mark_reached(r, step + 1)
                if forget:
                    adg.forget_before(r, step + 1, min_batch=1)  # as the executor does, eagerly
        assert len(set(position.values())) == len(position)
        _check_waiting_on(adg)
    for r in adg.robots:
        assert position[r] == adg.last_cell(r)
