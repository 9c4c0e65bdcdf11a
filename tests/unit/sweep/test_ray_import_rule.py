"""DESIGN.md: Ray is imported only by the sweep in ``bulletyard/`` (an optional extra: without it
everything else works). One module, :mod:`bulletyard.sweep.executor`, is that place."""

from __future__ import annotations

from pathlib import Path

from tests.unit.test_dependency_rules import OURS, REPO, imported_top_levels

ALLOWED = {Path("bulletyard/sweep/executor.py")}


def test_only_the_sweep_executor_imports_ray() -> None:
    offenders = [
        str(path.relative_to(REPO))
        for package in sorted(OURS)
        for path in sorted((REPO / package).rglob("*.py"))
        if "ray" in imported_top_levels(path) and path.relative_to(REPO) not in ALLOWED
    ]
    assert not offenders
    assert all("ray" in imported_top_levels(REPO / p) for p in ALLOWED)
