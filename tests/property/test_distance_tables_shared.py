"""On every shared benchmark map, BFS-table distances equal a plain queue BFS (Hypothesis picks cells)."""

from __future__ import annotations

from collections import deque
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import shared_dir
from warehouse_maps.grid import UNREACHABLE, Grid, plain_bfs
from warehouse_maps.lorr import load_lorr_map
from warehouse_maps.movingai import load_map, load_scenario

MAPS = sorted(
    [f"movingai/{p.name}" for p in (shared_dir() / "benchmarks" / "movingai").glob("*.map")]
    + [f"lorr/maps/{p.name}" for p in (shared_dir() / "benchmarks" / "lorr" / "maps").glob("*.map")]
) or ["movingai/warehouse-10-20-10-2-1.map"]  # absent data: the shared fixture skips (fails in CI)


@cache
def grid_of(root: Path, rel: str) -> Grid:
    path = root / "benchmarks" / rel
    return load_lorr_map(path) if rel.startswith("lorr/") else load_map(path)


def _cells(grid: Grid) -> st.SearchStrategy[tuple[int, int]]:
    """Any cell: mostly floor (sampled), sometimes blocked or unreachable ones too."""
    anywhere = st.tuples(st.integers(0, grid.width - 1), st.integers(0, grid.height - 1))
    return st.one_of(st.sampled_from(grid.free_cells), st.sampled_from(grid.free_cells), anywhere)


def check_table_against_plain_bfs(shared: Path, rel: str, data: st.DataObject) -> None:
    grid = grid_of(shared, rel)
    goal = data.draw(st.sampled_from(grid.free_cells), label="goal")
    start = data.draw(_cells(grid), label="start")
    expected = plain_bfs(grid, start, goal)
    assert grid.distance(start, goal) == expected
    table = grid.distance_table(goal)
    if grid.is_passable(start):
        assert table[start[1], start[0]] == expected
    else:
        assert table[start[1], start[0]] == UNREACHABLE


# The 500 x 140 LoRR maps get fewer examples: each plain BFS there walks up to 54 000 cells in Python.
SMALL = [m for m in MAPS if "large" not in m]
LARGE = [m for m in MAPS if "large" in m]


@pytest.mark.shared
@pytest.mark.parametrize("rel", SMALL)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_table_distance_equals_plain_bfs(shared: Path, rel: str, data: st.DataObject) -> None:
    check_table_against_plain_bfs(shared, rel, data)


@pytest.mark.shared
@pytest.mark.parametrize("rel", LARGE or ["lorr/maps/sortation_large.map"])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_table_distance_equals_plain_bfs_large_maps(shared: Path, rel: str, data: st.DataObject) -> None:
    check_table_against_plain_bfs(shared, rel, data)


def python_table(grid: Grid, goal: tuple[int, int]) -> dict[tuple[int, int], int]:
    """Every reachable cell's move count to ``goal`` by a plain queue BFS (moves are two-way here)."""
    seen = {goal: 0}
    queue = deque([goal])
    while queue:
        cell = queue.popleft()
        for nb in grid.neighbors(cell):
            if nb not in seen:
                seen[nb] = seen[cell] + 1
                queue.append(nb)
    return seen


@pytest.mark.shared
@pytest.mark.parametrize("rel", MAPS)
def test_whole_tables_for_corner_goals(shared: Path, rel: str) -> None:
    """Every cell of the table, for the first and last floor cell as goals."""
    grid = grid_of(shared, rel)
    for goal in (grid.free_cells[0], grid.free_cells[-1]):
        expected = np.full((grid.height, grid.width), UNREACHABLE, dtype=np.int32)
        for (x, y), d in python_table(grid, goal).items():
            expected[y, x] = d
        assert np.array_equal(grid.distance_table(goal), expected)


@pytest.mark.shared
def test_every_shared_map_is_checked(shared: Path) -> None:
    assert len(MAPS) >= 6  # 3 MovingAI maps and 3 LoRR maps in the shared set


@pytest.mark.shared
@pytest.mark.parametrize("scen", ["random-32-32-10-random-1.scen", "warehouse-10-20-10-2-1-random-1.scen"])
def test_scenario_distances_are_4_connected(shared: Path, scen: str) -> None:
    """The .scen optimal length assumes diagonals; ours is recomputed on the 4-connected grid."""
    movingai = shared / "benchmarks" / "movingai"
    grid = grid_of(shared, "movingai/" + scen.split("-random-")[0] + ".map")
    agents = load_scenario(movingai / scen, grid)
    for agent in agents[::50]:
        assert agent.distance == plain_bfs(grid, agent.start, agent.goal)
    lines = (movingai / scen).read_text().splitlines()[1:]
    octile = [float(line.split("\t")[8]) for line in lines if line.strip()]
    assert any(a.distance > o + 1e-6 for a, o in zip(agents, octile, strict=True))
