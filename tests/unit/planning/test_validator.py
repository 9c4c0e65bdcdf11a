"""The validator rejects each kind of broken plan (one hand-made case each) and accepts good ones."""

from __future__ import annotations

import pytest

from controller.planning.errors import PlanConflict
from controller.planning.validator import validate_oriented_paths, validate_paths
from warehouse_maps.grid import Grid

OPEN = Grid.from_rows(["....", "....", "...."])
WALLED = Grid.from_rows(["..@.", "....", "...."])


def _kind(grid: Grid, paths, starts=None, goals=None, **kw) -> PlanConflict:
    with pytest.raises(PlanConflict) as info:
        validate_paths(grid, paths, starts, goals, **kw)
    return info.value


def test_accepts_a_valid_plan_with_unequal_lengths() -> None:
    paths = [[(0, 0), (1, 0), (2, 0)], [(3, 2), (3, 1)]]
    validate_paths(OPEN, paths, [(0, 0), (3, 2)], [(2, 0), (3, 1)])


def test_rejects_vertex_conflict() -> None:
    err = _kind(OPEN, [[(0, 0), (1, 0)], [(2, 0), (1, 0)]])
    assert (err.kind, err.agents, err.t) == ("vertex", (0, 1), 1)


def test_rejects_swap_conflict() -> None:
    err = _kind(OPEN, [[(0, 0), (1, 0)], [(1, 0), (0, 0)]])
    assert (err.kind, set(err.agents), err.t) == ("swap", {0, 1}, 1)


def test_rejects_jump() -> None:
    err = _kind(OPEN, [[(0, 0), (1, 1)]])
    assert (err.kind, err.agents, err.t) == ("jump", (0,), 1)


def test_rejects_wall_cell() -> None:
    err = _kind(WALLED, [[(1, 0), (2, 0)]])
    assert (err.kind, err.agents, err.t) == ("wall", (0,), 1)


def test_rejects_off_map_cell() -> None:
    assert _kind(OPEN, [[(3, 0), (4, 0)]]).kind == "wall"


def test_rejects_illegal_turn() -> None:
    with pytest.raises(PlanConflict) as info:
        validate_oriented_paths(OPEN, [[(0, 0, 0), (0, 0, 2)]])  # 180 degrees in one step
    assert (info.value.kind, info.value.t) == ("turn", 1)


def test_rejects_sideways_move_in_rotation_model() -> None:
    with pytest.raises(PlanConflict) as info:
        validate_oriented_paths(OPEN, [[(0, 0, 0), (0, 1, 0)]])  # heading east, moved south
    assert info.value.kind == "turn"


def test_rejects_move_and_turn_together() -> None:
    with pytest.raises(PlanConflict) as info:
        validate_oriented_paths(OPEN, [[(0, 0, 0), (1, 0, 1)]])
    assert info.value.kind == "turn"


def test_accepts_legal_oriented_plan() -> None:
    states = [[(0, 0, 0), (1, 0, 0), (1, 0, 1), (1, 1, 1)], [(3, 2, 2), (3, 2, 3), (3, 1, 3), (3, 0, 3)]]
    validate_oriented_paths(OPEN, states, [(0, 0, 0), (3, 2)], [(1, 1), (3, 0)])


def test_oriented_paths_catch_cell_swaps() -> None:
    with pytest.raises(PlanConflict) as info:
        validate_oriented_paths(OPEN, [[(0, 0, 0), (1, 0, 0)], [(1, 0, 2), (0, 0, 2)]])
    assert info.value.kind == "swap"


def test_rejects_wrong_start_and_goal() -> None:
    assert _kind(OPEN, [[(0, 0), (1, 0)]], starts=[(0, 1)]).kind == "start"
    assert _kind(OPEN, [[(0, 0), (1, 0)]], goals=[(2, 0)]).kind == "goal"


def test_rejects_empty_path() -> None:
    assert _kind(OPEN, [[]]).kind == "start"


def test_agent_waiting_at_goal_still_blocks_others() -> None:
    paths = [[(1, 0)], [(0, 0), (1, 0)]]  # agent 0 arrived at t = 0 and stays
    assert _kind(OPEN, paths).kind == "vertex"
    validate_paths(OPEN, paths, stay_at_goal=False)  # agents vanish at their goal


def test_following_is_allowed() -> None:
    validate_paths(OPEN, [[(0, 0), (1, 0)], [(1, 0), (2, 0)]])


def test_one_way_edges_are_honoured() -> None:
    grid = Grid(OPEN.passable, one_way=frozenset({((0, 0), (1, 0))}))
    assert _kind(grid, [[(1, 0), (0, 0)]]).kind == "jump"
    validate_paths(grid, [[(0, 0), (1, 0)]])


def test_unknown_conflict_kind_is_refused() -> None:
    with pytest.raises(ValueError):
        PlanConflict("teleport", (0,), 0, "x")


def test_oriented_paths_a_turning_agent_still_holds_its_cell() -> None:
    """Turning in place is not leaving: driving into the cell of an agent that turns is a conflict."""
    with pytest.raises(PlanConflict) as info:
        validate_oriented_paths(OPEN, [[(0, 0, 0), (1, 0, 0)], [(1, 0, 2), (1, 0, 1)]])
    assert (info.value.kind, info.value.t) == ("vertex", 1)
