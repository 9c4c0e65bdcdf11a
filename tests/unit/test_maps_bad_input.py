"""Bad input: each malformed file gives one error line naming file and line, exit status 2, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bulletyard.cli import main

REPO = Path(__file__).resolve().parents[2]

GOOD_MAP = "type octile\nheight 3\nwidth 4\nmap\n..@.\n..@.\n..@.\n"
#   x 0123
# y 0 ..@.     two floor regions split by the wall column x = 2
#   1 ..@.
#   2 ..@.
GOOD_YAML = 'format: bulletyard-layout/1\nname: t\nrows:\n  - "@@@@@"\n  - "@S.K@"\n  - "@@@@@"\n'


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    status = main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    return status, err.strip()


def _show(capsys: pytest.CaptureFixture[str], path: Path, *extra: str) -> str:
    status, err = _run(capsys, "map", "show", str(path), *extra)
    assert status == 2
    assert err.startswith("bulletyard map: error: ")
    return err


# -- MovingAI maps -------------------------------------------------------------------------


def test_map_wrong_header(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "m.map", GOOD_MAP.replace("height 3", "heigth 3"))
    assert f"{path}:2: expected header 'height'" in _show(capsys, path)


def test_map_ragged_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "m.map", GOOD_MAP.replace("..@.\n..@.\n..@.", "..@.\n..@\n..@."))
    assert f"{path}:6: row has 3 characters, header says width 4" in _show(capsys, path)


def test_map_unknown_character(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "m.map", GOOD_MAP.replace("..@.\n..@.\n..@.", "..@.\n..@.\n.x@."))
    assert f"{path}:7: unknown map character 'x' at column 1" in _show(capsys, path)


def test_map_too_few_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "m.map", GOOD_MAP.replace("height 3", "height 5"))
    assert f"{path}:8: header says 5 rows but the file has 3" in _show(capsys, path)


def test_missing_map_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nowhere.map"
    assert f"{path}: file not found" in _show(capsys, path)


def test_unknown_bundled_name(capsys: pytest.CaptureFixture[str]) -> None:
    err = _show(capsys, Path("no-such-layout"))
    assert "no-such-layout: no such bundled layout or file (bundled: fc, small-fc, sort-center)" in err


# -- MovingAI scenarios --------------------------------------------------------------------


def _scen(tmp_path: Path, sx: int, sy: int, gx: int, gy: int) -> Path:
    return _write(tmp_path, "m.scen", f"version 1\n0\tm.map\t4\t3\t0\t0\t1\t1\t2\n"
                  f"0\tm.map\t4\t3\t{sx}\t{sy}\t{gx}\t{gy}\t3\n")


def test_scenario_start_on_blocked_cell(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    m = _write(tmp_path, "m.map", GOOD_MAP)
    scen = _scen(tmp_path, 2, 1, 0, 0)
    assert f"{scen}:3: start (2, 1) is a blocked or off-map cell" in _show(capsys, m, "--scen", str(scen))


def test_scenario_unreachable_goal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    m = _write(tmp_path, "m.map", GOOD_MAP)
    scen = _scen(tmp_path, 0, 0, 3, 2)
    err = _show(capsys, m, "--scen", str(scen))
    assert f"{scen}:3: goal (3, 2) is unreachable from start (0, 0)" in err


def test_scenario_wrong_header_and_fields(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    m = _write(tmp_path, "m.map", GOOD_MAP)
    scen = _write(tmp_path, "a.scen", "0\tm.map\t4\t3\t0\t0\t1\t1\t2\n")
    assert f"{scen}:1: scenario must start with a 'version' line" in _show(capsys, m, "--scen", str(scen))
    scen = _write(tmp_path, "b.scen", "version 1\n0\tm.map\t4\t3\t0\t0\t1\n")
    assert f"{scen}:2: expected 9 fields, found 7" in _show(capsys, m, "--scen", str(scen))


def test_missing_scenario_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    m = _write(tmp_path, "m.map", GOOD_MAP)
    assert f"{tmp_path / 'x.scen'}: file not found" in _show(capsys, m, "--scen", str(tmp_path / "x.scen"))


# -- LoRR instances ------------------------------------------------------------------------


def _lorr(tmp_path: Path, agents: str = "2\n0\n1\n", spec: dict | None = None) -> Path:
    _write(tmp_path, "w.map", GOOD_MAP.replace("..@.\n..@.\n..@.", ".E@.\n..@.\n....\n"))
    _write(tmp_path, "w.agents", agents)
    _write(tmp_path, "w.tasks", "2\n4\n5\n")
    base = {"mapFile": "w.map", "agentFile": "w.agents", "taskFile": "w.tasks", "teamSize": 2}
    return _write(tmp_path, "w.json", json.dumps(spec if spec is not None else base, indent=1))


def test_lorr_good_instance_loads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["map", "show", str(_lorr(tmp_path))]) == 0
    assert "induct (I) 1" in capsys.readouterr().out


def test_lorr_agent_on_blocked_cell(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _lorr(tmp_path, agents="2\n0\n2\n")
    assert f"{tmp_path / 'w.agents'}:3: cell 2 (2, 0) is blocked" in _show(capsys, tmp_path / "w.json")


def test_lorr_wrong_type_and_bad_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _lorr(tmp_path, spec={"mapFile": "w.map", "agentFile": "w.agents", "taskFile": "w.tasks",
                                 "teamSize": "2"})
    assert f"{path}: field 'teamSize' missing or not a int" in _show(capsys, path)
    path.write_text('{\n "mapFile": "w.map",\n}')
    assert f"{path}:3: not valid JSON" in _show(capsys, path)


def test_lorr_missing_map_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _lorr(tmp_path)
    (tmp_path / "w.map").unlink()
    assert f"{tmp_path / 'w.map'}: file not found" in _show(capsys, path)


# -- layout YAML ---------------------------------------------------------------------------


def test_yaml_ragged_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "l.yaml", GOOD_YAML.replace('"@S.K@"', '"@S.K"'))
    assert f"{path}:5: row 1 has 4 characters, the first row has 5" in _show(capsys, path)


def test_yaml_unknown_character(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "l.yaml", GOOD_YAML.replace('"@S.K@"', '"@S#K@"'))
    assert f"{path}:5: unknown layout character '#' at column 2 of row 1" in _show(capsys, path)


def test_yaml_wrong_header(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "l.yaml", GOOD_YAML.replace("bulletyard-layout/1", "bulletyard-layout/9"))
    assert f"{path}:1: not a bulletyard layout: expected 'format: bulletyard-layout/1'" in _show(capsys, path)


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("name: t", "name: [t]", 2, "'name' must be a str, found list"),
        ("name: t", "cell_size_m: fast", 2, "'cell_size_m' must be a int or float, found str"),
        ("name: t", "cell_size_m: -1", 2, "cell_size_m must be a positive number"),
        ('  - "@@@@@"\n  - "@S', '  - 12345\n  - "@S', 4, "row 0 must be a string, found int"),
        ("rows:", "equipment: 3\nrows:", 3, "'equipment' must be a dict, found int"),
        ("name: t", "name: t\nplaces:\n  - {id: X, kind: pick_station, cell: [1, one]}", 4,
         "a cell must be [x, y] with whole numbers"),
        ("name: t", "name: t\nplaces:\n  - {id: X, kind: dock, cell: [1, 1]}", 4,
         "unknown place kind 'dock'"),
        ("name: t", "name: t\nplaces:\n  - {id: X, kind: charger, cell: [1, 1]}", 4,
         "place X is a charger but its cell (1, 1) is drawn 'S', not 'C'"),
        ("name: t", "name: t\nflavour: 3", 3, "unknown key 'flavour'"),
        ("name: t", "name: t\nedge_weights:\n  - {from: [1, 1], to: [2, 1], weight: 0}", 4,
         "edge weight must be a positive whole number"),
    ],
)
def test_yaml_wrong_types(tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, line: int,
                          message: str) -> None:
    assert old in GOOD_YAML
    path = _write(tmp_path, "l.yaml", GOOD_YAML.replace(old, new))
    assert f"{path}:{line}: {message}" in _show(capsys, path)


def test_yaml_syntax_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "l.yaml", GOOD_YAML + "places: [\n")
    assert f"{path}:7: not valid YAML: expected the node content" in _show(capsys, path)


def test_yaml_not_a_mapping(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "l.yaml", "- just\n- a list\n")
    assert f"{path}:1: a layout must be a YAML mapping" in _show(capsys, path)


def test_yaml_unreachable_place(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "l.yaml", GOOD_YAML.replace('"@S.K@"', '"@S@K@"'))
    assert f"{path}:5: place K1 at (3, 1) cannot be reached from place S1 at (1, 1)" in _show(capsys, path)


def test_yaml_chute_without_hole(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "l.yaml", GOOD_YAML.replace('"@S.K@"', '"@SHK@"'))
    err = _show(capsys, path)
    assert f"{path}:5: chute drop cell (2, 1) must touch exactly one hole 'O' (found 0)" in err


def test_missing_yaml_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert f"{tmp_path / 'gone.yaml'}: file not found" in _show(capsys, tmp_path / "gone.yaml")


def test_unknown_suffix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "l.txt", "hello")
    assert f"{path}: unknown layout format '.txt'" in _show(capsys, path)


def test_convert_reports_bad_input_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "m.map", GOOD_MAP.replace("type octile", "kind octile"))
    status, err = _run(capsys, "map", "convert", str(path), "-o", str(tmp_path / "out.yaml"))
    assert status == 2
    assert f"{path}:1: expected header 'type'" in err
    assert not (tmp_path / "out.yaml").exists()


def test_subprocess_exit_status_and_no_traceback(tmp_path: Path) -> None:
    """The real process: one stderr line, status 2, no traceback."""
    path = _write(tmp_path, "m.map", GOOD_MAP.replace("..@.\n..@.\n..@.", "..@.\n..@\n..@."))
    proc = subprocess.run([sys.executable, "-m", "bulletyard", "map", "show", str(path)], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip() == (f"bulletyard map: error: {path}:6: row has 3 characters, "
                                   "header says width 4")


def test_lorr_map_ragged_row_and_wrong_header(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _lorr(tmp_path)
    (tmp_path / "w.map").write_text(GOOD_MAP.replace("..@.\n..@.\n..@.", ".E@.\n..@\n....\n"))
    assert f"{tmp_path / 'w.map'}:6: row has 3 characters, width is 4" in _show(capsys, path)
    (tmp_path / "w.map").write_text(GOOD_MAP.replace("type octile", "octile").replace("..@.\n", ".E@.\n", 1))
    assert f"{tmp_path / 'w.map'}:1: expected a 'type' header line" in _show(capsys, path)
    assert f"{tmp_path / 'w.map'}:1: expected a 'type' header line" in _show(capsys, tmp_path / "w.map")


def test_lorr_task_outside_the_map(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _lorr(tmp_path)
    (tmp_path / "w.tasks").write_text("2\n4\n\n99\n")
    assert f"{tmp_path / 'w.tasks'}:4: cell 99 lies outside the map" in _show(capsys, path)
    (tmp_path / "w.tasks").write_text("3\n4\n5\n")
    assert f"{tmp_path / 'w.tasks'}: header promises 3 tasks, file has 2" in _show(capsys, path)
