"""Planning windows: a robot that lags sits windows out instead of stopping planning for everyone."""

from __future__ import annotations

from controller.config import ControllerConfig, ExecutionConfig
from controller.execution.executor import Executor
from controller.execution.trips import Stop, Trip
from controller.execution.window_planner import LifelongWindowPlanner
from warehouse_maps.grid import Grid
from warehouse_maps.layout import Layout

ROWS = ["." * 12] * 5


def _executor(cap: int) -> Executor:
    grid = Grid.from_rows(ROWS)
    layout = Layout("strip", grid, (), 1.0, {})
    config = ControllerConfig(
        execution=ExecutionConfig(
            horizon_steps=4, replan_margin_steps=4, max_backlog_steps=cap, window_interval_steps=1.0
        )
    )
    ex = Executor(layout, config, LifelongWindowPlanner(grid, seed=0))
    ex.add_robot("a", (0, 0), (0, 0))
    ex.add_robot("b", (0, 4), (0, 4))
    ex.assign("a", Trip("ta", (Stop((11, 0), "drop"),)))
    ex.assign("b", Trip("tb", (Stop((11, 4), "drop"),)))
    return ex


def _drive(ex: Executor, serial: str) -> None:
    """The vehicle reaches everything the graph lets it reach."""
    while True:
        ex.adg.release_all()
        step = ex.adg.released_prefix(serial)
        if step == ex.adg.reached(serial):
            return
        ex.adg.mark_reached(serial, step)


def test_a_lagging_robot_sits_out_and_the_others_keep_getting_plan() -> None:
    ex = _executor(cap=6)
    now = 0
    for _ in range(2):
        assert ex.windows.needed(now)
        assert ex.windows.plan(now)
        now += 10**9
    _drive(ex, "b")  # b keeps up, a does not move at all (a long action, a held vehicle)
    assert ex.adg.remaining("a") >= 6 > ex.adg.remaining("b")
    assert ex.windows.robots_in_next() == ["b"]
    a_end, a_last = ex.adg.last_cell("a"), ex.adg.last_step("a")
    b_last = ex.adg.last_step("b")
    assert ex.windows.needed(now)
    assert ex.windows.plan(now)
    assert ex.adg.last_step("a") == a_last  # a's plan is not extended
    assert ex.adg.last_step("b") == b_last + 4
    assert a_end not in ex.adg.cells("b")[b_last:]  # nobody plans through where a's plan ends
    # once a catches up it is planned again
    _drive(ex, "a")
    assert ex.windows.robots_in_next() == ["a", "b"]


def test_everyone_in_the_window_when_nobody_lags() -> None:
    ex = _executor(cap=40)
    assert ex.windows.robots_in_next() == ["a", "b"]
    assert ex.windows.plan(0)
    assert ex.adg.last_step("a") == ex.adg.last_step("b") == 4


def test_a_state_naming_a_forgotten_step_changes_nothing() -> None:
    """A vehicle may send a state that still names a node the controller has already moved past
    (and forgotten); that used to index the forgotten part of the plan and crash the handler."""
    ex = _executor(cap=40)
    assert ex.windows.plan(0)
    _drive(ex, "a")
    reached = ex.adg.reached("a")
    assert reached >= 3
    ex.adg.forget_before("a", reached, min_batch=1)
    ex.windows.advance("a", 1)  # the state of the first step, late
    assert ex.adg.reached("a") == reached


def test_an_idle_robot_keeps_a_short_plan_over_a_long_shift() -> None:
    """An idle robot is planned a wait per step and is never sent an order for it; its track used
    to keep every one of those waits (a step a second for as long as it stood idle)."""
    grid = Grid.from_rows(ROWS)
    config = ControllerConfig(execution=ExecutionConfig(horizon_steps=4, replan_margin_steps=4,
                                                        window_interval_steps=1.0))
    ex = Executor(Layout("strip", grid, (), 1.0, {}), config, LifelongWindowPlanner(grid, seed=0))
    ex.add_robot("a", (0, 0), (0, 0))
    now = 0
    stream = ex.robots["a"].stream
    for _ in range(3_000):
        if ex.windows.needed(now):
            ex.windows.plan(now)
        ex.send(now)
        ex.outbox.resend.on_state("a", stream.order_id, stream.update_id, [])  # the vehicle acknowledges
        now += 10**9
    assert stream.update_id == 0  # one order (the robot's cell), then only waits: nothing to send
    cells = ex.adg.cells("a")
    assert len(cells) > 2_000  # thousands of waits were planned
    assert len(cells) - cells.first < 100  # and all but the last few dozen forgotten
    assert set(cells[cells.first:]) == {(0, 0)}
