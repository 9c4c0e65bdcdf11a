"""Learned guidance files: they round-trip, reach the planner, keep plans valid; bad files fail clearly."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from bulletyard.cli import main
from controller.planning.errors import PlanningInputError
from controller.planning.learned_guidance import (
    guidance_document,
    read_guidance,
    weighted_grid,
    write_guidance,
)
from controller.planning.lifelong import LifelongPlanner
from controller.planning.lifelong_run import run_lifelong
from warehouse_maps.grid import Grid
from warehouse_maps.lorr import load_lorr_instance

ROWS = ["........", ".@@..@@.", "........", ".@@..@@.", "........"]


def _costs(grid: Grid, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(1, 21, size=(grid.width * grid.height, 4))


def test_a_guidance_file_round_trips(tmp_path: Path) -> None:
    grid = Grid.from_rows(ROWS)
    costs = _costs(grid, 1)
    path = tmp_path / "g.json"
    write_guidance(path, grid, costs, {"method": "piu", "train_seeds": [11, 12]})
    back = read_guidance(path, grid)
    floor = grid.passable.ravel()
    assert back.dtype == np.int32
    assert np.array_equal(back[floor], costs[floor])
    assert (back[~floor] == 1).all()  # moves off the floor are not kept
    assert json.loads(path.read_text())["training"] == {"method": "piu", "train_seeds": [11, 12]}


def test_the_planner_follows_learned_costs() -> None:
    """Driving east along the middle row costs 50 a move: a lone agent goes round by another row."""
    grid = Grid.from_rows(["......", "......", "......"])
    costs = np.ones((grid.width * grid.height, 4), dtype=np.int64)
    costs[grid.width : 2 * grid.width, 0] = 50
    planner = LifelongPlanner(weighted_grid(grid, costs), rotations=True, seed=0)
    state, goal = (0, 1, 0), (5, 1)
    seen = [state]
    for _ in range(20):
        state = planner.step([state], [goal])[0]
        seen.append(state)
        if state[:2] == goal:
            break
    assert state[:2] == goal
    assert all(s[1] != 1 for s in seen[1:-1] if 0 < s[0] < 5)  # never drives along row 1 inside
    plain = LifelongPlanner(grid, rotations=True, seed=0)
    assert plain.step([(0, 1, 0)], [goal])[0] == (1, 1, 0)  # without the file it drives straight on


def test_plans_with_learned_costs_stay_valid() -> None:
    """Random costs 1..20, a crowded small map, every executed step checked by the validator."""
    grid = Grid.from_rows(ROWS)
    free = grid.free_cells
    rng = np.random.default_rng(4)
    starts = [free[i] for i in rng.choice(len(free), 12, replace=False)]
    goals = [free[i] for i in rng.integers(0, len(free), 400)]
    run = run_lifelong(weighted_grid(grid, _costs(grid, 2)), starts, lambda k, j: goals[(j * 12 + k) % 400],
                       80, clock=time.perf_counter, rotations=True, step_nodes=20_000, validate=True)
    assert run.tasks_completed > 12


@pytest.mark.parametrize(("text", "says"), [
    ("not json", "guidance file"),
    ('{"format": "other"}', "not a guidance file"),
    ('{"format": "bulletyard-guidance", "version": 2}', "version 2"),
    ('{"format": "bulletyard-guidance", "version": 1, "width": 3, "height": 5, "costs": []}', "3 x 5 map"),
    ('{"format": "bulletyard-guidance", "version": 1, "width": 8, "height": 5, "costs": [[1, 1, 1]]}',
     "[e, s, w, n] integer rows"),
    ('{"format": "bulletyard-guidance", "version": 1, "width": 8, "height": 5, "costs": [[1, 1, 1, 1.5]]}',
     "integer rows"),
    ('{"format": "bulletyard-guidance", "version": 1, "width": 8, "height": 5, "costs": [[1, 1, 1, 1]]}',
     "1 cost rows, the map has 40 cells"),
])
def test_a_bad_guidance_file_is_one_clear_error(tmp_path: Path, text: str, says: str) -> None:
    grid = Grid.from_rows(ROWS)
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(PlanningInputError, match="guidance file") as info:
        read_guidance(path, grid)
    assert says in str(info.value)
    assert str(path) in str(info.value)


def test_a_cost_below_one_names_the_move(tmp_path: Path) -> None:
    grid = Grid.from_rows(ROWS)
    doc = guidance_document(grid, np.ones((40, 4), dtype=np.int64))
    doc["costs"][grid.index((3, 2))][2] = 0
    path = tmp_path / "zero.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(PlanningInputError, match=r"cost 0 of the move from \(3, 2\) heading W"):
        read_guidance(path, grid)
    with pytest.raises(PlanningInputError):
        read_guidance(tmp_path / "missing.json", grid)


@pytest.mark.shared
def test_lifelong_cli_takes_a_guidance_file(shared: Path, tmp_path: Path, capsys) -> None:
    instance = shared / "benchmarks" / "lorr" / "warehouse_small_10.json"
    grid = load_lorr_instance(instance).grid
    good, bad, out = tmp_path / "g.json", tmp_path / "bad.json", tmp_path / "out.json"
    write_guidance(good, grid, _costs(grid, 3))
    bad.write_text('{"format": "bulletyard-guidance", "version": 1, "width": 2, "height": 2, "costs": []}')
    base = ["lifelong", "--instance", str(instance), "--steps", "30", "--out", str(out)]
    assert main([*base, "--rotations", "--guidance", str(good)]) == 0
    assert len(json.loads(out.read_text())["paths"]) == 10
    capsys.readouterr()
    assert main([*base, "--rotations", "--guidance", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "2 x 2 map" in err
    assert main([*base, "--guidance", str(good)]) == 2
    assert "--guidance needs --rotations" in capsys.readouterr().err
