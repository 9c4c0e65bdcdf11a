"""Unit tests of the action dependency graph: release order, window checks, truncation.

Corridor used below (one row, x = 0..4):

    a b . . .     a follows b eastwards: a may enter b's cell only after b has left it.
"""

from __future__ import annotations

import pytest

from controller.execution.adg import ActionDependencyGraph, ScheduleConflict


def corridor_follow() -> ActionDependencyGraph:
    adg = ActionDependencyGraph({"a": (0, 0), "b": (1, 0)})
    adg.append_window({"a": [(0, 0), (1, 0), (2, 0)], "b": [(1, 0), (2, 0), (3, 0)]})
    return adg


def test_follower_waits_until_leader_has_left() -> None:
    adg = corridor_follow()
    assert adg.release("a") == 0  # b still on (1, 0)
    assert adg.release("b") == 2
    adg.mark_reached("b", 1)
    assert adg.release("a") == 1  # b left (1, 0), but (2, 0) is b's now
    adg.mark_reached("b", 2)
    assert adg.release("a") == 2


def test_late_leader_delays_follower_only() -> None:
    adg = ActionDependencyGraph({"a": (0, 0), "b": (1, 0), "c": (0, 2)})
    adg.append_window(
        {
            "a": [(0, 0), (1, 0), (2, 0)],
            "b": [(1, 0), (2, 0), (3, 0)],
            "c": [(0, 2), (1, 2), (2, 2)],
        }
    )
    assert adg.release("c") == 2
    assert adg.release("a") == 0


def test_release_is_limited_by_max_ahead_and_never_shrinks() -> None:
    adg = ActionDependencyGraph({"a": (0, 0)})
    adg.append_window({"a": [(0, 0), (1, 0), (2, 0), (3, 0)]})
    assert adg.release("a", max_ahead=1) == 1
    assert adg.release("a", max_ahead=0) == 1


def test_reached_beyond_release_is_an_error() -> None:
    adg = corridor_follow()
    with pytest.raises(ValueError, match="beyond its released"):
        adg.mark_reached("a", 2)


@pytest.mark.parametrize(
    ("paths", "kind"),
    [
        ({"a": [(0, 0), (1, 0)], "b": [(1, 0), (1, 0)]}, "vertex"),
        ({"a": [(0, 0), (1, 0)], "b": [(1, 0), (0, 0)]}, "swap"),
        ({"a": [(0, 0), (2, 0)], "b": [(1, 0), (1, 1)]}, "jump"),
        ({"a": [(1, 0), (2, 0)], "b": [(1, 0), (1, 1)]}, "start"),
        ({"a": [(0, 0), (1, 0), (2, 0)], "b": [(1, 0), (2, 0)]}, "length"),
    ],
)
def test_bad_windows_are_refused_without_change(paths, kind) -> None:
    adg = ActionDependencyGraph({"a": (0, 0), "b": (1, 0)})
    with pytest.raises(ScheduleConflict) as info:
        adg.append_window(paths)
    assert info.value.kind == kind
    assert adg.last_step("a") == 0
    assert adg.last_step("b") == 0


def test_rotation_cycle_is_refused() -> None:
    # 2x2 square, four robots turning round it in one step
    adg = ActionDependencyGraph({"a": (0, 0), "b": (1, 0), "c": (1, 1), "d": (0, 1)})
    with pytest.raises(ScheduleConflict) as info:
        adg.append_window(
            {
                "a": [(0, 0), (1, 0)],
                "b": [(1, 0), (1, 1)],
                "c": [(1, 1), (0, 1)],
                "d": [(0, 1), (0, 0)],
            }
        )
    assert info.value.kind == "rotation"
    assert info.value.robots == ("a", "b", "c", "d")


def test_robot_not_in_window_blocks_its_cell() -> None:
    adg = ActionDependencyGraph({"a": (0, 0), "b": (1, 0)})
    with pytest.raises(ScheduleConflict):
        adg.append_window({"a": [(0, 0), (1, 0)]})


def test_truncate_then_replan_from_released_ends() -> None:
    adg = corridor_follow()
    adg.release_all()
    adg.truncate_to_released()
    assert adg.last_cell("a") == (0, 0)
    assert adg.last_cell("b") == (3, 0)
    adg.append_window({"a": [(0, 0), (0, 1)], "b": [(3, 0), (3, 0)]})
    assert adg.release("a") == 1


def test_occupied_cells_span_reached_to_released() -> None:
    adg = corridor_follow()
    adg.release_all()
    assert adg.occupied_cells("b") == [(1, 0), (2, 0), (3, 0)]
    assert adg.occupied_cells("a") == [(0, 0)]


def test_cells_left_behind_keep_no_queue() -> None:
    """Over a shift a robot drives over most of the floor; the graph keeps a visit queue only for
    cells that still have visits (it kept an empty list for every cell ever driven over)."""
    adg = ActionDependencyGraph({"a": (0, 0)})
    adg.append_window({"a": [(x, 0) for x in range(51)]})
    assert adg.release("a") == 50
    adg.mark_reached("a", 50)
    assert list(adg._queues) == [(50, 0)]  # the raw queues: no public view needs them
    adg.truncate_to_released()
    adg.append_window({"a": [(50, 0), (50, 1)]})
    adg.truncate_to_released()  # the unreleased step to (50, 1) goes again
    assert list(adg._queues) == [(50, 0)]
