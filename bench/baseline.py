"""Run a benchmark row on another checkout's code, so a change is judged beside its baseline.

``--baseline DIR`` in the benches runs each row twice in the same session on the same machine:
once here, once in a subprocess with ``DIR`` (another git checkout, e.g. a worktree of main) first
on the import path, so the row measures that checkout's code and not ours.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def commit_of(checkout: Path) -> str:
    """The checkout's short commit id (its path when it is not a git checkout)."""
    done = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True)
    return done.stdout.strip() or str(checkout)


def run_in(checkout: Path, code: str, args: list[Any]) -> Any:
    """Run ``code`` (Python that reads ``json.loads(sys.argv[1])`` and prints one JSON line last)
    with ``checkout`` on the import path; its last printed line, decoded."""
    env = {**os.environ, "PYTHONPATH": str(checkout.resolve())}
    done = subprocess.run([sys.executable, "-c", code, json.dumps(args)], cwd=checkout.resolve(), env=env,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])
