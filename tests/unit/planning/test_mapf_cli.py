"""``bulletyard mapf`` and ``bulletyard lifelong``: output formats, validation, clear input errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bulletyard.cli import main
from controller.planning.validator import validate_oriented_paths, validate_paths
from warehouse_maps.lorr import load_lorr_instance
from warehouse_maps.movingai import load_map, load_scenario

MAP = "random-32-32-10"  # small: loading a scenario computes a BFS table per agent


def _movingai(shared: Path) -> tuple[Path, Path]:
    folder = shared / "benchmarks" / "movingai"
    return folder / f"{MAP}.map", folder / f"{MAP}-random-1.scen"


@pytest.mark.shared
def test_mapf_writes_the_documented_json(shared: Path, tmp_path: Path, capsys) -> None:
    map_path, scen_path = _movingai(shared)
    out = tmp_path / "result.json"
    code = main(["mapf", "--map", str(map_path), "--scen", str(scen_path), "--agents", "20",
                 "--time-limit", "1", "--seed", "3", "--out", str(out)])
    assert code == 0
    data = json.loads(out.read_text())
    assert set(data) == {"solved", "runtime_s", "sum_of_costs", "makespan", "paths"}
    assert data["solved"] is True
    assert len(data["paths"]) == 20
    grid = load_map(map_path)
    agents = load_scenario(scen_path, grid)[:20]
    paths = [[tuple(c) for c in p] for p in data["paths"]]
    validate_paths(grid, paths, [a.start for a in agents], [a.goal for a in agents])
    assert all(len(p) == data["makespan"] + 1 for p in paths)
    assert data["sum_of_costs"] >= sum(a.distance for a in agents)
    assert "solved=True" in capsys.readouterr().out


@pytest.mark.shared
@pytest.mark.parametrize("rotations", [False, True])
def test_lifelong_writes_the_documented_json(shared: Path, tmp_path: Path, rotations: bool) -> None:
    instance = shared / "benchmarks" / "lorr" / "warehouse_small_10.json"
    out = tmp_path / "life.json"
    args = ["lifelong", "--instance", str(instance), "--steps", "40", "--out", str(out)]
    assert main(args + (["--rotations"] if rotations else [])) == 0
    data = json.loads(out.read_text())
    for key in ("tasks_completed", "throughput_per_step", "plan_ms_mean", "plan_ms_p99", "plan_ms_max",
                "rotations", "paths"):
        assert key in data
    assert data["rotations"] is rotations
    assert len(data["paths"]) == 10
    assert all(len(p) == 41 for p in data["paths"])
    assert data["throughput_per_step"] == pytest.approx(data["tasks_completed"] / 40)
    grid = load_lorr_instance(instance).grid
    paths = [[tuple(s) for s in p] for p in data["paths"]]
    (validate_oriented_paths if rotations else validate_paths)(grid, paths)


def test_too_many_agents_is_an_error(tmp_path: Path, capsys) -> None:
    map_path = tmp_path / "m.map"
    map_path.write_text("type octile\nheight 1\nwidth 3\nmap\n...\n")
    scen_path = tmp_path / "s.scen"
    scen_path.write_text("version 1\n0\tm.map\t3\t1\t0\t0\t2\t0\t2\n")
    code = main(["mapf", "--map", str(map_path), "--scen", str(scen_path), "--agents", "2",
                 "--out", str(tmp_path / "x.json")])
    err = capsys.readouterr().err
    assert code == 2
    assert "--agents 2" in err
    assert "only 1 agents" in err
    assert "Traceback" not in err


def test_one_agent_on_a_tiny_map(tmp_path: Path) -> None:
    map_path = tmp_path / "m.map"
    map_path.write_text("type octile\nheight 1\nwidth 3\nmap\n...\n")
    scen_path = tmp_path / "s.scen"
    scen_path.write_text("version 1\n0\tm.map\t3\t1\t0\t0\t2\t0\t2\n")
    out = tmp_path / "x.json"
    assert main(["mapf", "--map", str(map_path), "--scen", str(scen_path), "--agents", "1",
                 "--time-limit", "0.2", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["paths"] == [[[0, 0], [1, 0], [2, 0]]]
    assert data["sum_of_costs"] == 2


def test_bad_map_is_a_clear_error(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.map"
    bad.write_text("type octile\nheight 1\nwidth 2\nmap\n.x\n")
    scen = tmp_path / "s.scen"
    scen.write_text("version 1\n")
    out = str(tmp_path / "o")
    code = main(["mapf", "--map", str(bad), "--scen", str(scen), "--agents", "1", "--out", out])
    err = capsys.readouterr().err
    assert code == 2
    assert "bad.map:5" in err
    assert "unknown map character" in err


def test_bad_scenario_is_a_clear_error(tmp_path: Path, capsys) -> None:
    good = tmp_path / "m.map"
    good.write_text("type octile\nheight 1\nwidth 3\nmap\n...\n")
    scen = tmp_path / "s.scen"
    scen.write_text("version 1\n0\tm.map\t3\t1\t0\t0\t2\n")
    out = str(tmp_path / "o")
    code = main(["mapf", "--map", str(good), "--scen", str(scen), "--agents", "1", "--out", out])
    err = capsys.readouterr().err
    assert code == 2
    assert "s.scen:2" in err


def test_bad_instance_is_a_clear_error(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "i.json"
    bad.write_text('{"mapFile": 3}')
    code = main(["lifelong", "--instance", str(bad), "--steps", "5", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert "i.json" in err
    assert "mapFile" in err


def test_missing_instance_is_a_clear_error(tmp_path: Path, capsys) -> None:
    code = main(["lifelong", "--instance", str(tmp_path / "nope.json"), "--steps", "5", "--out", "o.json"])
    assert code == 2
    assert "file not found" in capsys.readouterr().err


def test_step_nodes_must_be_positive(tmp_path: Path, capsys) -> None:
    code = main(["lifelong", "--instance", "i.json", "--steps", "5", "--rotations", "--step-nodes", "0",
                 "--out", str(tmp_path / "o")])
    assert code == 2
    assert "--step-nodes" in capsys.readouterr().err
