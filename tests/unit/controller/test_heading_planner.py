"""The controller's rotation window planner: valid oriented plans, turns as waits, theta on orders."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from controller.config import ControllerConfig, ExecutionConfig
from controller.execution.adg import ActionDependencyGraph
from controller.execution.heading_planner import (
    HeadingWindowPlanner,
    heading_of_theta,
    make_window_planner,
    turn_steps,
)
from controller.execution.vda_orders import OrderStream, for_version, with_header
from controller.execution.window_planner import LifelongWindowPlanner
from controller.fleet.profiles import read_factsheet, stop_start_s, turn_time_s
from controller.fleet.registry import decode_state
from controller.planning.validator import validate_oriented_paths, validate_paths
from tests.unit.robots.vda_schemas import assert_valid_for
from warehouse_maps.grid import Grid

ROWS = [
    "..........",
    ".@@.@@.@@.",
    "..........",
    ".@@.@@.@@.",
    "..........",
]


@pytest.mark.parametrize(("seed", "turn_s"), [(1, None), (2, 2.0), (3, 1.0), (4, 3.0)])
def test_windows_are_valid_oriented_plans_the_graph_accepts(seed: int, turn_s: float | None) -> None:
    grid = Grid.from_rows(ROWS)
    rng = np.random.default_rng(seed)
    cells = list(grid.free_cells)
    picks = rng.choice(len(cells), size=12, replace=False)
    robots = [f"r{i}" for i in range(6)]
    starts = [cells[k] for k in picks[:6]]
    planner = HeadingWindowPlanner(grid, step_s=1.0, turn_s=lambda: turn_s, seed=seed)
    adg = ActionDependencyGraph(dict(zip(robots, starts)))
    per_turn = turn_steps(turn_s, 1.0)
    positions = starts
    for _window in range(6):
        goals = [cells[int(k)] for k in rng.choice(len(cells), size=6, replace=False)]
        paths = planner.plan_window(positions, goals, 4)
        validate_paths(grid, paths, starts=positions)
        states = planner.last_states
        validate_oriented_paths(grid, states, starts=positions)
        assert [[(s[0], s[1]) for s in p] for p in states] == paths
        adg.append_window(dict(zip(robots, paths)))  # raises if the graph refuses the window
        positions = [p[-1] for p in paths]
        assert [planner.heading_at(c) for c in positions] == [p[-1][2] for p in states]
    assert planner.turns_planned > 0
    if per_turn > 1:  # a turn is followed by per_turn - 1 steps on the same state (the vehicle turning)
        for path in planner.last_states:
            for t in range(1, len(path) - per_turn + 1):
                if path[t][2] != path[t - 1][2]:
                    assert path[t : t + per_turn] == [path[t]] * per_turn


def test_a_turn_is_a_wait_on_the_cell_and_takes_turn_s_over_step_s_steps() -> None:
    grid = Grid.from_rows(["....", "....", "...."])
    planner = HeadingWindowPlanner(grid, step_s=0.5, turn_s=lambda: 1.0, seed=0)
    [path] = planner.plan_window([(0, 0)], [(0, 2)], 6)  # facing east, the goal is south
    assert path[:3] == [(0, 0), (0, 0), (0, 0)]  # one quarter turn: 1.0 s / 0.5 s = two steps
    assert path[3:5] == [(0, 1), (0, 2)]
    assert [s[2] for s in planner.last_states[0][:4]] == [0, 1, 1, 1]  # east, then south


def test_turn_steps_round_a_hair_over_a_step_down() -> None:
    assert turn_steps(None, 1.0) == 1
    assert turn_steps(1.02, 1.0) == 1
    assert turn_steps(1.5, 1.0) == 2
    assert turn_steps(0.4, 1.0) == 1


def test_turn_time_comes_from_the_factsheet_or_its_speed_and_width() -> None:
    sheet = {"physicalParameters": {"speedMax": 1.5, "width": 0.9, "angularSpeedMax": math.pi / 4}}
    assert read_factsheet(sheet).turn_s == pytest.approx(2.0)
    derived = read_factsheet({"physicalParameters": {"speedMax": 1.5, "width": 0.9}}).turn_s
    assert derived == pytest.approx(math.pi * 0.9 / 6.0)  # quarter turn at 2 v / w rad/s
    assert read_factsheet({"physicalParameters": {"speedMax": 1.5}}).turn_s is None
    assert turn_time_s(None, None, None) is None


def test_a_turn_costs_the_stop_and_the_start_it_needs_when_the_factsheet_gives_them() -> None:
    physical = {"speedMax": 1.5, "width": 0.9, "angularSpeedMax": math.pi / 2,
                "accelerationMax": 1.0, "decelerationMax": 0.5}
    # a quarter turn 1 s; braking from 1.5 m/s at 0.5 m/s2 loses 1.5 s, starting at 1 m/s2 0.75 s
    assert stop_start_s(1.5, 1.0, 0.5) == pytest.approx(2.25)
    assert read_factsheet({"physicalParameters": physical}).turn_s == pytest.approx(3.25)
    assert stop_start_s(1.5, None, 0.5) == 0.0
    del physical["decelerationMax"]
    assert read_factsheet({"physicalParameters": physical}).turn_s == pytest.approx(1.0)


def test_the_config_selects_the_planner_and_its_turn_time() -> None:
    grid = Grid.from_rows(["...."])
    assert isinstance(make_window_planner(ExecutionConfig(), grid, seed=0), LifelongWindowPlanner)
    fleet = make_window_planner(
        ExecutionConfig(motion_model="rotation"), grid, seed=0, fleet_turn_s=lambda: 2.5
    )
    assert isinstance(fleet, HeadingWindowPlanner)
    assert fleet.turn_s() == 2.5
    fixed = make_window_planner(
        ExecutionConfig(motion_model="rotation", turn_s=1.2), grid, seed=0, fleet_turn_s=lambda: 2.5
    )
    assert isinstance(fixed, HeadingWindowPlanner)
    assert fixed.turn_s() == 1.2
    with pytest.raises(ValueError):
        ControllerConfig(execution={"motion_model": "diagonal"})


def test_the_rotation_model_plans_windows_more_often_and_less_ahead_unless_told() -> None:
    grid, rotation = ExecutionConfig(), ExecutionConfig(motion_model="rotation")
    assert (grid.max_backlog_steps, grid.window_interval_steps) == (8, 2.0)
    assert (rotation.max_backlog_steps, rotation.window_interval_steps) == (4, 1.0)
    told = ControllerConfig(execution={"motion_model": "rotation", "max_backlog_steps": 8}).execution
    assert (told.max_backlog_steps, told.window_interval_steps) == (8, 1.0)


def centre(cell):
    return (cell[0] + 0.5) * 1.0, -(cell[1] + 0.5) * 1.0


# east twice, a turn (a wait) on (2, 0), then south (map frame: -y), then west
CELLS = [(0, 0), (1, 0), (2, 0), (2, 0), (2, 1), (2, 1), (1, 1)]


@pytest.mark.parametrize("version", ["2.0.0", "2.1.0"])
def test_orders_carry_theta_where_the_plan_fixes_a_heading(version: str) -> None:
    stream = OrderStream("agv-0001", 1, centre, "test", horizon_nodes=2, headings=True)
    body = stream.extend(CELLS[:5], 3, {})  # the plan so far ends on (2, 1)
    thetas = [n["nodePosition"].get("theta") for n in body["nodes"]]
    assert thetas == [0.0, 0.0, -math.pi / 2, None]  # east, east, south; nothing fixed beyond
    update = stream.extend(CELLS, 5, {})
    assert [n["nodeId"] for n in update["nodes"]] == ["n2_0", "n2_1", "n1_1"]
    assert [n["nodePosition"].get("theta") for n in update["nodes"]] == [-math.pi / 2, math.pi, None]
    for msg in (body, update):
        wire = with_header(for_version(msg, version), header_id=1, timestamp="2026-11-11T00:00:00.000Z",
                           manufacturer="bulletyard", serial_number="agv-0001", version=version)
        assert_valid_for(version, "order", wire)


def test_grid_orders_carry_no_theta() -> None:
    body = OrderStream("agv-0001", 1, centre, "test").extend(CELLS, 6, {})
    assert all("theta" not in n["nodePosition"] for n in body["nodes"])


class CyclingPlanner:
    """Stands in for the lifelong planner: every step drives four robots round a 2x2 block (a
    rotation cycle, whatever is avoided) and a fifth one east."""

    def __init__(self) -> None:
        self.overridden_agents: list[int] = []

    def step(self, states, targets, *, blocked=frozenset(), avoid=frozenset()):  # noqa: ANN001, ANN201
        ring = {(0, 0): (1, 0, 0), (1, 0): (1, 1, 1), (1, 1): (0, 1, 2), (0, 1): (0, 0, 3)}
        return [ring.get((x, y), (x + 1, y, h)) for x, y, h in states]

    def overridden(self, agents) -> None:  # noqa: ANN001
        self.overridden_agents = sorted(agents)


def test_a_cycle_that_cannot_be_broken_stops_its_robots_only() -> None:
    grid = Grid.from_rows(["......", "......"])
    planner = HeadingWindowPlanner(grid, step_s=1.0, seed=0)
    fake = CyclingPlanner()
    planner.lifelong = fake  # type: ignore[assignment]
    states = [(0, 0, 0), (1, 0, 1), (1, 1, 2), (0, 1, 3), (3, 0, 0)]
    nxt = planner._step(states, [(5, 0)] * 5, frozenset(), frozenset())
    assert nxt == states[:4] + [(4, 0, 0)]  # the cycle waits, the robot off it drives on
    assert fake.overridden_agents == [0, 1, 2, 3]


@pytest.mark.parametrize(("theta", "heading"), [
    (0.0, 0), (-math.pi / 2, 1), (math.pi, 2), (-math.pi, 2), (math.pi / 2, 3), (0.3, 0), (1.2, 3), (-2.0, 1),
])
def test_a_reported_theta_maps_to_the_nearest_grid_heading(theta: float, heading: int) -> None:
    assert heading_of_theta(theta) == heading  # map frame y north, grid rows south


def test_a_vehicle_joining_facing_north_drives_north_at_once_without_a_planned_turn() -> None:
    grid = Grid.from_rows(["...", "...", "...", "..."])
    start, goal = (1, 3), (1, 0)  # straight north (rows go south)
    told = HeadingWindowPlanner(grid, step_s=1.0, turn_s=lambda: 1.0, seed=0)
    told.note_heading(start, math.pi / 2)  # the state's agvPosition.theta: facing north
    assert told.plan_window([start], [goal], 3)[0] == [(1, 3), (1, 2), (1, 1), (1, 0)]
    assert told.turns_planned == 0
    guessed = HeadingWindowPlanner(grid, step_s=1.0, turn_s=lambda: 1.0, seed=0)  # east assumed
    assert guessed.plan_window([start], [goal], 3)[0][:2] == [(1, 3), (1, 3)]  # turns first
    assert guessed.turns_planned == 1


def test_the_grid_planner_ignores_a_reported_heading() -> None:
    grid = Grid.from_rows(["...", "..."])
    planner = LifelongWindowPlanner(grid, seed=0)
    planner.note_heading((0, 0), math.pi / 2)
    assert planner.plan_window([(0, 0)], [(2, 0)], 2)[0] == [(0, 0), (1, 0), (2, 0)]


def _state_payload(position: dict) -> bytes:
    return json.dumps({
        "headerId": 1, "orderId": "", "orderUpdateId": 0, "lastNodeId": "", "lastNodeSequenceId": 0,
        "driving": False, "actionStates": [], "errors": [], "nodeStates": [], "agvPosition": position,
    }).encode()


def test_the_state_decoder_reads_the_reported_theta() -> None:
    facing_north = {"x": 1.5, "y": -3.5, "theta": math.pi / 2, "mapId": "m", "positionInitialized": True}
    assert decode_state(_state_payload(facing_north)).theta == pytest.approx(math.pi / 2)
    no_theta = {"x": 1.5, "y": -3.5, "mapId": "m", "positionInitialized": True}
    assert decode_state(_state_payload(no_theta)).theta is None


class CyclingGridPlanner:
    """The grid model's stand-in: four robots round a 2x2 block whatever is avoided, a fifth east."""

    def step(self, cells, targets, *, blocked=frozenset(), avoid=frozenset()):  # noqa: ANN001, ANN201
        ring = {(0, 0): (1, 0), (1, 0): (1, 1), (1, 1): (0, 1), (0, 1): (0, 0)}
        return [ring.get((x, y), (x + 1, y)) for x, y in cells]


def test_a_cycle_the_grid_planner_cannot_break_makes_everybody_wait() -> None:
    """The grid model keeps its all-wait fallback (holding only the cycle was slower and worse on
    fc at 500 robots); the rotation model holds only the cycle (test above)."""
    planner = LifelongWindowPlanner(Grid.from_rows(["......", "......"]), seed=0)
    planner.lifelong = CyclingGridPlanner()  # type: ignore[assignment]
    cells = [(0, 0), (1, 0), (1, 1), (0, 1), (3, 0)]
    paths = planner.plan_window(cells, [(5, 0)] * 5, 2)
    assert [p[1:] for p in paths] == [[c, c] for c in cells]
    assert planner.cycles_broken == 5 * 2  # one cycle at each of the five tries, both steps
