"""DESIGN.md's dependency rules, enforced by reading every import in the source tree."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
OURS = {"warehouse_maps", "bus", "controller", "robots", "sorter", "sim", "bulletyard"}

# package -> top-level modules it must not import
FORBIDDEN: dict[str, set[str]] = {
    "warehouse_maps": (OURS - {"warehouse_maps"}) | {"pybullet", "paho", "ortools"},
    "bus": (OURS - {"bus"}) | {"pybullet", "ortools"},
    "controller": {"robots", "sorter", "sim", "bulletyard", "pybullet", "paho"},
    "robots": {"controller", "sorter", "sim", "bulletyard", "pybullet", "paho", "ortools"},
    "sorter": {"controller", "robots", "sim", "bulletyard", "pybullet", "paho", "ortools"},
    "sim": {"bulletyard", "paho", "ortools"},
    "bulletyard": {"pybullet"},
}


def imported_top_levels(path: Path) -> set[str]:
    """Top-level module names imported anywhere in ``path`` (function-level imports too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_rules_cover_every_package() -> None:
    assert set(FORBIDDEN) == OURS


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_dependency_rules(package: str) -> None:
    offenders = []
    for path in sorted((REPO / package).rglob("*.py")):
        bad = imported_top_levels(path) & FORBIDDEN[package]
        if bad:
            offenders.append(f"{path.relative_to(REPO)} imports {sorted(bad)}")
    assert not offenders, "\n".join(offenders)


def test_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("def f():\n    import pybullet\n    from paho.mqtt import client\n")
    assert imported_top_levels(sample) == {"pybullet", "paho"}


def test_controller_reads_no_wall_clock_or_global_random() -> None:
    banned = ("time.time(", "time.monotonic(", "time.perf_counter(", "datetime.now(",
              "random.random(", "np.random.rand", "np.random.seed(", "time.sleep(")
    offenders = [
        f"{path.relative_to(REPO)}: {token}"
        for path in sorted((REPO / "controller").rglob("*.py"))
        for token in banned
        if token in path.read_text(encoding="utf-8")
    ]
    assert not offenders, "\n".join(offenders)


def test_only_the_report_code_imports_the_plotting_library() -> None:
    importers = sorted(
        str(path.relative_to(REPO))
        for package in sorted(OURS)
        for path in (REPO / package).rglob("*.py")
        if "matplotlib" in imported_top_levels(path)
    )
    assert importers, "the report draws with matplotlib"
    assert all(p.startswith("sim/report") for p in importers), importers
