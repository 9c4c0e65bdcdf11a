"""A robot standing on a stop of a parcel trip sits planning windows out until the stop is done;
the nearest robot bound for the same cell is planned to wait beside it, and the stop's end plans
the robot on at once (issue 20: the hand-over at an induct)."""

from __future__ import annotations

from controller.config import ControllerConfig, ExecutionConfig
from controller.execution.executor import Executor
from controller.execution.trips import Stop, Trip
from controller.execution.window_planner import LifelongWindowPlanner
from tests.unit.controller.test_executor_windows import _drive
from warehouse_maps.grid import Grid
from warehouse_maps.layout import Layout

ROWS = ["." * 10] * 3
INDUCT = (3, 0)
SECOND = 10**9


def _executor(kind: str) -> Executor:
    grid = Grid.from_rows(ROWS)
    layout = Layout("strip", grid, (), 1.0, {})
    config = ControllerConfig(execution=ExecutionConfig(window_interval_steps=2.0))
    ex = Executor(layout, config, LifelongWindowPlanner(grid, seed=0))
    ex.add_robot("a", (2, 0), (2, 0))
    ex.add_robot("b", (8, 0), (8, 0))
    ex.assign("a", Trip("ta", (Stop(INDUCT, "pick"), Stop((9, 2), "drop")), kind))
    ex.assign("b", Trip("tb", (Stop(INDUCT, "pick"), Stop((9, 2), "drop")), kind))
    return ex


def _a_on_the_induct(kind: str) -> Executor:
    ex = _executor(kind)
    assert ex.windows.plan(0)
    _drive(ex, "a")
    a = ex.robots["a"]
    assert (a.plan_stop, a.exec_stop) == (1, 0)  # the load is planned, not done
    assert ex.adg.cell_at("a", ex.adg.reached("a")) == INDUCT
    return ex


def test_a_loading_robot_sits_out_and_the_next_one_waits_beside_the_induct() -> None:
    ex = _a_on_the_induct("parcel")
    assert ex.windows.stands_for_stop("a", ex.robots["a"])
    assert ex.windows.robots_in_next() == ["b"]
    a_last = ex.adg.last_step("a")
    now = 0
    for _ in range(4):  # b comes as close as it can while a loads
        now += 2 * SECOND
        if ex.windows.needed(now):
            assert ex.windows.plan(now)
        _drive(ex, "b")
    assert ex.adg.last_step("a") == a_last  # a's plan is not extended while it loads
    assert INDUCT not in ex.adg.cells("b")[ex.adg.cells("b").first:]
    assert ex.adg.last_cell("b") == (4, 0)  # beside the induct, on its side


def test_the_end_of_the_load_plans_the_robot_on_at_once() -> None:
    ex = _a_on_the_induct("parcel")
    now = SECOND // 2  # inside the pacing interval of the last window
    assert not ex.windows.needed(now)
    ex.robots["a"].exec_stop = 1  # what a StopDone of the load does
    ex.windows.stop_done(now, ["parcel"])
    assert ex.windows.robots_in_next() == ["a", "b"]
    assert ex.windows.needed(now)
    assert ex.windows.plan(now)
    assert ex.adg.last_cell("a") != INDUCT  # on its way to the chute


def test_other_trip_kinds_are_planned_on_at_once() -> None:
    ex = _a_on_the_induct("pod")
    assert not ex.windows.stands_for_stop("a", ex.robots["a"])
    assert ex.windows.robots_in_next() == ["a", "b"]
    ex.windows.stop_done(SECOND // 2, ["pod"])
    assert not ex.windows.needed(SECOND // 2)  # pacing unchanged
