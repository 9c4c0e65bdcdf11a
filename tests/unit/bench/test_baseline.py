"""Rows run on another checkout: its code, not ours, answers."""

from __future__ import annotations

from pathlib import Path

from bench.baseline import commit_of, run_in


def test_code_runs_with_the_other_checkout_first_on_the_path(tmp_path: Path) -> None:
    (tmp_path / "probe_mod.py").write_text("WHO = 'baseline'\n", encoding="utf-8")
    code = ("import json, sys; import probe_mod; a = json.loads(sys.argv[1]); "
            "print(json.dumps([probe_mod.WHO, a]))")
    assert run_in(tmp_path, code, [1, "x"]) == ["baseline", [1, "x"]]
    assert commit_of(tmp_path) == str(tmp_path)  # not a git checkout: named by its path
