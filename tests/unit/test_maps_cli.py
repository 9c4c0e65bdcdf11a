"""``bulletyard map show`` and ``map convert``."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulletyard.cli import main
from warehouse_maps.catalog import load_layout
from warehouse_maps.layout import PlaceKind


def test_show_bundled_marks_places_and_counts_them(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["map", "show", "sort-center"]) == 0
    out = capsys.readouterr().out
    rows = out.splitlines()[:40]
    assert all(len(r) == 64 for r in rows)
    assert "OH" in rows[3]
    assert rows[3].startswith("@I")
    assert "size: 64 x 40 cells" in out
    assert "induct (I) 8" in out
    assert "chute (H) 306" in out
    assert "parking (K) 100" in out
    assert "chute holes (O): 306" in out
    assert "connected floor regions: 1" in out


def test_show_fc_lists_equipment(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["map", "show", "fc", "--stats-only"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "name: fc"
    assert "pick_station (S) 10" in out
    assert "equipment: sorter" in out


@pytest.mark.shared
def test_show_shared_warehouse_map(shared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    movingai = shared / "benchmarks" / "movingai"
    scen = movingai / "warehouse-10-20-10-2-1-random-1.scen"
    assert main(["map", "show", str(movingai / "warehouse-10-20-10-2-1.map"), "--scen", str(scen)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out[0]) == 161
    assert sum(1 for line in out if len(line) == 161 and set(line) <= set(".@")) == 63
    assert "size: 161 x 63 cells" in "\n".join(out)
    assert out[-1].startswith("scenario: 1000 agents")


def test_convert_round_trips_a_movingai_map(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "m.map"
    src.write_text("type octile\nheight 3\nwidth 4\nmap\n..@.\nT...\n....\n")
    out = tmp_path / "m.yaml"
    assert main(["map", "convert", str(src), "-o", str(out), "--name", "site", "--cell-size-m", "1.5"]) == 0
    assert "wrote" in capsys.readouterr().out
    layout = load_layout(out)
    assert layout.name == "site"
    assert layout.cell_size_m == 1.5
    assert layout.grid.distance((0, 0), (3, 0)) == 5


def test_convert_lorr_to_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "l.map"
    src.write_text("type octile\nheight 2\nwidth 4\nmap\n.E@E\nSS..\n")
    assert main(["map", "convert", str(src)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("format: bulletyard-layout/1\n")
    assert '  - ".I@I"' in text
    (tmp_path / "back.yaml").write_text(text)
    assert len(load_layout(tmp_path / "back.yaml").of_kind(PlaceKind.INDUCT)) == 2


def test_convert_rejects_a_bad_cell_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["map", "convert", "small-fc", "--cell-size-m", "-2"]) == 2
    assert "--cell-size-m must be positive" in capsys.readouterr().err
