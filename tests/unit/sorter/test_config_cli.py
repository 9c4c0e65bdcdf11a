"""Sorter config validation and the ``bulletyard sorter`` command's user errors (exit 2, one line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulletyard.cli import build_parser, main
from sorter.config import InlineConfig, LoopConfig, config_from_mapping, load_config
from sorter.errors import SorterConfigError

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_example_config_is_the_default_line() -> None:
    assert load_config(DOCS / "sorter.yaml") == LoopConfig()


@pytest.mark.parametrize(("data", "needle"), [
    ({"kind": "spiral"}, "kind: expected 'loop' or 'inline'"),
    ({"speed_mps": -1}, "speed_mps"),
    ({"scanner": {"position_m": 100.0}}, "scanner must sit after every induct"),
    ({"reject_position_m": 10.0}, "reject chute must follow"),
    ({"chutes": {"capacity_items": 0}}, "chutes.capacity_items"),
    ({"inducts": [{"induct_id": "a", "position_m": 1}, {"induct_id": "a", "position_m": 2}]}, "unique"),
    ({"bogus": 1}, "bogus"),
])
def test_bad_config_names_the_field(data: dict, needle: str) -> None:
    with pytest.raises(SorterConfigError, match=needle):
        config_from_mapping(data, "line.yaml")


def test_inline_config_loads(tmp_path: Path) -> None:
    f = tmp_path / "inline.yaml"
    f.write_text("kind: inline\nsorter_id: in-a\nlength_m: 40\n")
    cfg = load_config(f)
    assert isinstance(cfg, InlineConfig)
    assert cfg.length_m == 40


def test_cli_bad_config_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("speed_mps: fast\n")
    assert main(["sorter", "--broker", "mqtt://127.0.0.1:1", "--config", str(f)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "bad.yaml: speed_mps" in err


def test_cli_unreachable_broker_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sorter", "--broker", "mqtt://127.0.0.1:1", "--config", str(DOCS / "sorter.yaml")]) == 2
    assert "cannot reach MQTT broker" in capsys.readouterr().err


def test_sorter_command_is_registered() -> None:
    help_text = build_parser()._subparsers._group_actions[0].choices["sorter"].format_help()
    assert "--broker" in help_text
    assert "--config" in help_text
