"""``bulletyard sweep`` without Ray, and with a bad spec: exit 2 before anything runs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bulletyard.cli import main


def test_without_ray_sweep_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    spec = tmp_path / "spec.yaml"
    spec.write_text("layouts: small-fc\nrobots: 2\norders: 2\n")
    assert main(["sweep", str(spec), "--out", str(tmp_path / "out")]) == 2
    assert "pip install 'bulletyard[sweep]'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_bad_spec_is_reported_before_ray_is_needed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    spec = tmp_path / "spec.yaml"
    spec.write_text("layouts: small-fc\nrobots: 2\norders: 2\nseed: 3\n")
    assert main(["sweep", str(spec), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.strip() == f"bulletyard sweep: error: {spec}:4: key seed: unknown key"
