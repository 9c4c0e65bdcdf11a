"""bench/learn_guidance.py trains on tasks drawn from the map's own task markers, never the task file."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from bench.learn_guidance import endpoint_cells, training_instance
from warehouse_maps.lorr import load_lorr_map

MAP = ["type octile", "height 3", "width 6", "map", "E....S", "..@@..", "S....E"]


def _instance(tmp_path: Path, rows: list[str]) -> Path:
    (tmp_path / "m.map").write_text("\n".join(rows) + "\n")
    path = tmp_path / "i.json"
    path.write_text(json.dumps({"mapFile": "m.map", "agentFile": "a", "taskFile": "t", "teamSize": 2}))
    return path


def test_training_tasks_come_from_the_markers_half_each(tmp_path: Path) -> None:
    path = _instance(tmp_path, MAP)
    marks = endpoint_cells(path)
    assert marks == {"E": [(0, 0), (5, 2)], "S": [(5, 0), (0, 2)]}
    grid = load_lorr_map(tmp_path / "m.map")
    starts, task_for = training_instance(grid, marks, 4, seed=7, tasks=2_000)
    assert len(set(starts)) == 4
    assert all(grid.is_passable(s) for s in starts)
    cells = [task_for(k, j) for j in range(500) for k in range(4)]
    letter = {c: k for k, v in marks.items() for c in v}
    counts = Counter(letter[c] for c in cells)
    assert set(counts) == {"E", "S"}
    assert abs(counts["E"] - counts["S"]) < 200
    again = training_instance(grid, marks, 4, seed=7, tasks=2_000)
    assert again[0] == starts
    assert [again[1](k, 3) for k in range(4)] == [task_for(k, 3) for k in range(4)]


def test_a_map_without_markers_trains_on_the_whole_floor(tmp_path: Path) -> None:
    rows = [r.replace("E", ".").replace("S", ".") for r in MAP]
    marks = endpoint_cells(_instance(tmp_path, rows))
    assert list(marks) == ["."]
    assert len(marks["."]) == 16
