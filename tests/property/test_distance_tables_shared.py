"""On every shared benchmark map, BFS-table distances equal a plain queue BFS (Hypothesis picks cells)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

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


@pytest.mark.shared
@pytest.mark.parametrize("rel", MAPS)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_table_distance_equals_plain_bfs(shared: Path, rel: str, data: st.DataObject) -> None:
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
