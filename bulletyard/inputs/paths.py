"""Path checks before any work: inputs are regular files, outputs land in writable folders.

Why: ``--out`` naming an existing file, a folder that cannot be created, ``--db`` naming a
folder or an input of ``/dev/zero`` used to fail (or hang) only after minutes of work, with a
traceback. Each check returns the path or raises with one line naming the rule; the ``*_arg``
variants are argparse ``type=`` functions (argparse names the option).

Documented behaviour (``docs/limits.md``): a run folder (``sim --out``, ``sweep --out``, ...)
is created with its parents; an output file's folder is created too, but neither may sit
below an existing file, and both must be writable.
"""

from __future__ import annotations

import argparse
import os
import stat
from collections.abc import Callable
from pathlib import Path

from bulletyard.errors import UsageError
from warehouse_maps.limits import env_name, limit


def input_problem(path: Path) -> str:
    """Why ``path`` cannot be an input file ("" when it can): missing, a folder, a device, too large."""
    if "\x00" in str(path):  # the system calls below would raise ValueError
        return f"{str(path)!r}: not a valid file name (NUL byte)"
    try:
        info = path.stat()
    except FileNotFoundError:
        return f"{path}: no such file"
    except OSError as exc:
        return f"{path}: cannot read ({exc.strerror})"
    if stat.S_ISDIR(info.st_mode):
        return f"{path}: is a folder, not a file"
    if not stat.S_ISREG(info.st_mode):
        return f"{path}: not a regular file (a device, pipe or socket cannot be an input)"
    if info.st_size > limit("file_bytes"):
        return (f"{path}: larger than the limit of {limit('file_bytes'):,} bytes "
                f"(raise it with {env_name('file_bytes')})")
    if not os.access(path, os.R_OK):
        return f"{path}: not readable"
    return ""


def _creatable_folder_problem(path: Path) -> str:
    """Why the folder ``path`` can neither be used nor created ("" when it can)."""
    if "\x00" in str(path):  # the system calls below would raise ValueError
        return f"{str(path)!r}: not a valid file name (NUL byte)"
    if path.exists():
        if not path.is_dir():
            return f"{path}: exists and is not a folder"
        if not os.access(path, os.W_OK | os.X_OK):
            return f"{path}: folder is not writable"
        return ""
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return f"{path}: cannot be created below {parent}, which is a file"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"{path}: cannot be created, {parent} is not writable"
    return ""


def output_file_problem(path: Path) -> str:
    """Why a file cannot be written at ``path`` ("" when it can; its folder may be created)."""
    folder_problem = _creatable_folder_problem(path.parent)  # a NUL byte anywhere is caught here too
    if folder_problem or "\x00" in path.name:
        return folder_problem or f"{str(path)!r}: not a valid file name (NUL byte)"
    if path.is_dir():
        return f"{path}: is a folder; give a file name"
    if path.exists() and not os.access(path, os.W_OK):
        return f"{path}: exists and is not writable"
    return ""


def output_folder_problem(path: Path) -> str:
    """Why ``path`` cannot be an output folder ("" when it is one or can be created)."""
    return _creatable_folder_problem(path)


def check_output_folder(path: str | Path, option: str) -> Path:
    """``path`` as a usable output folder, or a :class:`UsageError` naming ``option``."""
    return _checked(output_folder_problem, Path(path), option)


def check_output_file(path: str | Path, option: str) -> Path:
    """``path`` as a writable output file, or a :class:`UsageError` naming ``option``."""
    return _checked(output_file_problem, Path(path), option)


def _checked(problem_of: Callable[[Path], str], path: Path, option: str) -> Path:
    problem = problem_of(path)
    if problem:
        raise UsageError(f"{option} {problem}")
    return path


def _arg(check):  # noqa: ANN001, ANN202 - tiny adapter
    def parse(text: str) -> Path:
        problem = check(Path(text))
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return Path(text)

    parse.__name__ = check.__name__
    return parse


#: argparse ``type=`` for an input file (regular, readable, within the size limit).
input_file_arg = _arg(input_problem)
#: argparse ``type=`` for an output file.
output_file_arg = _arg(output_file_problem)
#: argparse ``type=`` for an output folder (created later with its parents).
output_folder_arg = _arg(output_folder_problem)
