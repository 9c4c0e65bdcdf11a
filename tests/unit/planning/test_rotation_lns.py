"""Ejection chains after the rotation model's priority pass: they improve, deterministically, safely."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bulletyard.cli import main
from controller.planning.errors import PlanningInputError
from controller.planning.lifelong import LifelongPlanner
from controller.planning.validator import validate_oriented_paths
from warehouse_maps.grid import Grid

OPEN = Grid.from_rows(["......", ".@..@.", "......", ".@..@.", "......"])


def _crowd(seed: int = 3):
    """16 agents on 24 of OPEN's free cells (not the two the blocking test closes), random goals."""
    rng = np.random.default_rng(seed)
    free = [(x, y) for y in range(OPEN.height) for x in range(OPEN.width)
            if OPEN.is_passable((x, y)) and (x, y) not in {(2, 0), (3, 4)}]
    order = rng.permutation(len(free))
    starts = [(*free[i], int(rng.integers(0, 4))) for i in order[:16]]
    goals = [free[i] for i in rng.permutation(len(free))[:16]]
    return starts, goals, free, rng


def _run(lns_nodes: int, steps: int = 40, *, blocked=frozenset(), avoid=frozenset()):
    starts, goals, free, rng = _crowd()
    planner = LifelongPlanner(OPEN, rotations=True, seed=5, lns_nodes=lns_nodes)
    pos, trace, kept, gains = starts, [], 0, []
    for _ in range(steps):
        nxt = planner.step(pos, goals, blocked=blocked, avoid=avoid)
        validate_oriented_paths(OPEN, [[a, b] for a, b in zip(pos, nxt)], pos)
        kept += planner._turns.lns_kept
        before, after = planner._turns.lns_cost
        gains.append(before - after)
        trace.append(nxt)
        pos = nxt
        for k, p in enumerate(pos):
            if (p[0], p[1]) == goals[k]:
                goals[k] = free[int(rng.integers(len(free)))]
    return trace, kept, gains


def test_chains_are_kept_in_a_crowd_and_only_lower_the_cost() -> None:
    _, kept, gains = _run(20_000)
    assert kept > 0  # the pass alone left moves on the table here
    assert min(gains) >= -1e-9
    assert max(gains) > 0


def test_same_seed_same_steps_and_off_means_the_pass_alone() -> None:
    first, _, _ = _run(20_000)
    again, _, _ = _run(20_000)
    assert first == again
    off, kept, gains = _run(0)
    assert kept == 0
    assert max(gains) == 0.0
    assert off != first  # the chains changed what the fleet did


def test_blocked_and_avoided_cells_stay_empty_with_chains() -> None:
    blocked, avoid = {(2, 0)}, {(3, 4)}
    trace, _, _ = _run(20_000, 30, blocked=blocked, avoid=avoid)
    for nxt in trace:
        assert not {(s[0], s[1]) for s in nxt} & (blocked | avoid)


def test_bad_chain_settings_are_refused(tmp_path: Path, capsys) -> None:
    with pytest.raises(PlanningInputError, match="lns_nodes"):
        LifelongPlanner(OPEN, rotations=True, lns_nodes=-1)
    with pytest.raises(PlanningInputError, match="depth"):
        LifelongPlanner(OPEN, rotations=True, depth=6)
    args = ["lifelong", "--instance", str(tmp_path / "i.json"), "--steps", "5", "--rotations",
            "--out", str(tmp_path / "o.json")]
    assert main(args + ["--keep-bonus", "-1"]) == 2
    err = capsys.readouterr().err
    assert "--keep-bonus" in err
    assert "Traceback" not in err
    for depth in ("6", "deep", "0"):
        assert main(args + ["--depth", depth]) == 2
        err = capsys.readouterr().err
        assert f"--depth: must be auto or 1..5, got '{depth}'" in err
        assert "Traceback" not in err
