"""The ``bulletyard`` command: one argparse tree, one subcommand module per concern.

Each module in :data:`COMMAND_MODULES` exposes ``register(subparsers)``, which adds its
subcommand and sets ``func(args) -> int``. User mistakes become one line on stderr and exit
status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from bulletyard import __version__
from bulletyard.errors import user_error_types

#: Subcommand modules under ``bulletyard.commands``, in the order ``--help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "map_cmd",
    "robots_cmd",
    "demo_cmd",
    "sorter_cmd",
    "slot_cmd",
    "mapf_cmd",
    "sim_cmd",
    "compare_cmd",
    "sweep_cmd",
    "check_cmd",
    "feed_cmd",
    "serve_cmd",
    "up_cmd",
)


class ArgumentLineError(Exception):
    """A bad option found while parsing; :func:`main` prints it as one line, exit status 2."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(f"{prog}: error: {message}")


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line naming the option, exit status 2.

    argparse's default prints the whole usage block and exits the interpreter; every other bad
    input gives one line (``docs/limits.md``), so a bad option does too, and :func:`main`
    returns the status instead of raising ``SystemExit`` (``--help`` still exits 0).
    """

    def error(self, message: str) -> NoReturn:
        """Raise :class:`ArgumentLineError` with ``PROG: error: MESSAGE``."""
        raise ArgumentLineError(self.prog, message)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (also used by tests to check every ``--help``)."""
    parser = OneLineParser(
        prog="bulletyard",
        description="Warehouse robotics controller and sorting-line simulator.",
    )
    parser.add_argument("--version", action="version", version=f"bulletyard {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(f"bulletyard.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except ArgumentLineError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except user_error_types() as exc:
        print(f"bulletyard {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
