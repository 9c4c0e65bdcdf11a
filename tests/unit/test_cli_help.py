"""Every subcommand's ``--help`` works: walk the whole argparse tree from ``build_parser()``."""

from __future__ import annotations

import argparse

import pytest

from bulletyard.cli import build_parser, main


def _command_paths(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for action in parser._actions:  # argparse keeps subparsers only here
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                paths += _command_paths(child, (*prefix, name))
    return paths


PATHS = _command_paths(build_parser())


def test_the_tree_has_the_map_commands() -> None:
    assert ("map", "show") in PATHS
    assert ("map", "convert") in PATHS


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "bulletyard")
def test_help_exits_zero_and_prints_usage(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*path, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: bulletyard")
    assert " ".join(("bulletyard", *path)) in out.splitlines()[0]
