"""The fleet section shown in docs/vehicles.md is a valid controller config (docs that run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.config import ControllerConfigError, load_config

DOC = Path(__file__).resolve().parents[3] / "docs" / "vehicles.md"


def test_the_documented_fleet_section_loads(tmp_path) -> None:
    block = DOC.read_text(encoding="utf-8").split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "controller.yaml"
    path.write_text(block, encoding="utf-8")
    fleet = load_config(path).fleet
    assert fleet.manufacturers == ["acme", "bulletyard"]
    assert fleet.profiles["acme"].actions["pick"].action_type == "fetch"
    assert fleet.profiles["acme"].actions["wait"] is None


def test_a_bad_fleet_section_names_the_field(tmp_path) -> None:
    path = tmp_path / "controller.yaml"
    path.write_text("fleet:\n  profiles:\n    acme:\n      version: '1.1.0'\n", encoding="utf-8")
    with pytest.raises(ControllerConfigError, match=r"controller.yaml: fleet.profiles.acme.version"):
        load_config(path)
