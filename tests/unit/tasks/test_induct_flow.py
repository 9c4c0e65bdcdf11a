"""One-way flow through inducts (issue 20): derived from the layout, honoured by the planner and by the
plan validator, and left off where it does not fit."""

from __future__ import annotations

import numpy as np
import pytest

from controller.config import ControllerConfig, ExecutionConfig
from controller.execution.executor import Executor
from controller.execution.stop_queues import waiting_goals
from controller.execution.trips import Stop, Trip
from controller.execution.window_planner import LifelongWindowPlanner
from controller.planning.errors import PlanConflict
from controller.planning.graph import FlatGrid
from controller.planning.guidance import lane_weights
from controller.planning.validator import validate_paths
from controller.tasks.induct_flow import induct_lanes, with_induct_flow
from tests.unit.controller.test_executor_windows import _drive
from warehouse_maps.grid import MOVES, Grid
from warehouse_maps.layout import Layout, Place, PlaceKind

# an induct against the west wall at (1, 3), floor on three sides of it
ROWS = [
    "@@@@@@@",
    "@.....@",
    "@.....@",
    "@.....@",
    "@.....@",
    "@.....@",
    "@@@@@@@",
]
INDUCT = (1, 3)


def _layout(rows: list[str], inducts: list[tuple[int, int]]) -> Layout:
    places = tuple(Place(f"I{k + 1}", PlaceKind.INDUCT, c) for k, c in enumerate(inducts))
    return Layout("t", Grid.from_rows(rows), places)


def test_an_induct_against_a_wall_runs_one_way_along_it() -> None:
    layout, lanes = with_induct_flow(_layout(ROWS, [INDUCT]))
    (lane,) = lanes
    assert {lane.entry, lane.exit} == {(1, 2), (1, 4)}  # along the wall, straight through
    assert lane.closed == ((2, 3),)
    g = layout.grid
    assert g.can_move(lane.entry, INDUCT)
    assert g.can_move(INDUCT, lane.exit)
    assert not g.can_move(INDUCT, lane.entry)  # never back the way it came
    assert not g.can_move(lane.exit, INDUCT)
    assert not g.can_move((2, 3), INDUCT)
    assert not g.can_move(INDUCT, (2, 3))
    assert list(g.entries(INDUCT)) == [lane.entry]
    assert g.strong_parts() == Grid.from_rows(ROWS).strong_parts()  # every cell still reaches every cell


def test_the_validator_refuses_leaving_an_induct_the_way_it_came() -> None:
    layout, (lane,) = with_induct_flow(_layout(ROWS, [INDUCT]))
    validate_paths(layout.grid, [[lane.entry, INDUCT, lane.exit]])
    validate_paths(Grid.from_rows(ROWS), [[INDUCT, lane.entry]])  # allowed on the two-way floor
    with pytest.raises(PlanConflict) as err:
        validate_paths(layout.grid, [[lane.entry, INDUCT, lane.entry]])
    assert err.value.kind == "jump"


def test_the_planner_sends_a_loaded_robot_off_by_the_exit_even_toward_the_entry_side() -> None:
    layout, (lane,) = with_induct_flow(_layout(ROWS, [INDUCT]))
    behind = (lane.entry[0], lane.entry[1] + (lane.entry[1] - INDUCT[1]))  # past the entry cell
    for grid, first in ((Grid.from_rows(ROWS), lane.entry), (layout.grid, lane.exit)):
        (path,) = LifelongWindowPlanner(grid, seed=0).plan_window([INDUCT], [behind], 8)
        assert path[1] == first  # two-way: straight back; one way: out by the exit and round
        assert path[-1] == behind
        validate_paths(grid, [path])


def test_inducts_keep_free_access_where_no_one_way_passage_fits() -> None:
    corner = _layout(ROWS, [(1, 1)])  # two neighbours, not opposite
    assert with_induct_flow(corner) == (corner, [])
    pair = _layout(ROWS, [(1, 2), (1, 3)])  # neighbouring inducts: their rules would contradict
    assert induct_lanes(pair.grid, [(1, 2), (1, 3)]) == []
    # an induct in a one-cell passage to a room: one way through it would cut the room off
    rows = ["@@@@@@@", "@...@.@", "@.....@", "@...@.@", "@@@@@@@"]
    assert induct_lanes(Grid.from_rows(rows), [(4, 2)]) == []
    # ...while one beside that passage is fine
    assert len(induct_lanes(Grid.from_rows(rows), [(2, 3)])) == 1


def test_the_next_robot_waits_on_the_entry_side_and_the_loaded_one_leaves_straight_on() -> None:
    """The robot that waits while another loads stands on the induct's entry cell, facing it, not on
    whichever neighbour is nearest (on a two-way floor it waits on the side it comes from)."""
    strip = ["." * 10] * 3  # the induct on the north edge at (3, 0): a lane along the edge
    induct, second = (3, 0), 10**9
    layout, (lane,) = with_induct_flow(_layout(strip, [induct]))
    assert (lane.entry, lane.exit, lane.closed) == ((2, 0), (4, 0), ((3, 1),))
    config = ControllerConfig(execution=ExecutionConfig(window_interval_steps=2.0))
    ex = Executor(layout, config, LifelongWindowPlanner(layout.grid, seed=0))
    ex.add_robot("a", (2, 0), (2, 0))
    ex.add_robot("b", (8, 0), (8, 0))  # comes from the exit side: round the induct to the entry
    for serial in ("a", "b"):
        ex.assign(serial, Trip(f"t{serial}", (Stop(induct, "pick"), Stop((9, 2), "drop")), "parcel"))
    assert ex.windows.plan(0)
    _drive(ex, "a")
    assert ex.adg.cell_at("a", ex.adg.reached("a")) == induct
    assert ex.windows.stands_for_stop("a", ex.robots["a"])
    now = 0
    for _ in range(8):
        now += 2 * second
        if ex.windows.needed(now):
            assert ex.windows.plan(now)
        _drive(ex, "b")
    assert ex.adg.last_cell("b") == lane.entry
    ex.robots["a"].exec_stop = 1  # the load is done
    ex.windows.stop_done(now, ["parcel"])
    assert ex.windows.plan(now)
    r = ex.adg.reached("a")
    ahead = [ex.adg.cell_at("a", k) for k in range(r, ex.adg.last_step("a") + 1)]
    assert ahead[0] == induct
    assert next(c for c in ahead if c != induct) == lane.exit


def test_robots_bound_for_a_busy_induct_line_up_on_its_queue_nearest_first() -> None:
    layout, (lane,) = with_induct_flow(_layout(ROWS, [INDUCT]), depth=3)
    assert lane.queue[0] == lane.entry
    assert len(lane.queue) == 3
    g = layout.grid
    assert all(g.can_move(b, a) for a, b in zip(lane.queue, lane.queue[1:]))  # each moves up into the next
    queues = {INDUCT: lane.queue}
    positions = [(5, 5), (5, 1), (2, 3), (4, 4)]  # (2, 3) is the closed side: far round to the entry
    goals = [INDUCT, INDUCT, INDUCT, (5, 3)]
    free = waiting_goals(g, positions, goals, set(), queues)
    ranked = sorted(range(3), key=lambda k: g.distance(positions[k], INDUCT))
    assert [free[k] for k in ranked] == [INDUCT, *lane.queue[:2]]
    assert free[3] == (5, 3)  # bound elsewhere: untouched
    busy = waiting_goals(g, positions, goals, {INDUCT}, queues)  # a robot loads on the induct
    assert [busy[k] for k in ranked] == list(lane.queue)
    # without a queue only the nearest goes beside the busy cell, on a cell it may enter it from
    alone = waiting_goals(g, positions, goals, {INDUCT}, {})
    assert alone[ranked[0]] == lane.entry
    assert [alone[k] for k in ranked[1:]] == [INDUCT, INDUCT]


def test_moves_along_a_waiting_line_cost_one_whatever_the_lane_guidance() -> None:
    """Against the soft lane of its column a move costs 3; robots then left the line for a detour.
    The layout's edge weights (here the induct's line) beat the generated lanes."""
    rows = ["@@@@@@@", *["@.....@"] * 7, "@@@@@@@"]  # the induct near the top: its exit faces south
    induct = (1, 2)
    plain = Grid.from_rows(rows)
    against = lane_weights(FlatGrid.of(plain), 3)
    layout, (lane,) = with_induct_flow(_layout(rows, [induct]), depth=4)
    assert lane.exit == (1, 3)
    moves = [(b, a) for a, b in zip(lane.queue, lane.queue[1:])] + [(lane.entry, induct), (induct, lane.exit)]
    given = lane_weights(FlatGrid.of(layout.grid), 3)

    def cost(w: np.ndarray, a: tuple[int, int], b: tuple[int, int]) -> int:
        return int(w[plain.index(a), MOVES.index((b[0] - a[0], b[1] - a[1]))])

    assert any(cost(against, a, b) == 3 for a, b in moves)  # some of them are against the lane
    assert all(cost(given, a, b) == 1 for a, b in moves)
