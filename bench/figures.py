"""Benchmark tables as files: markdown and JSON with the commit, the date and the machine.

Why: figures typed into the docs by hand go stale (the fc figures predated the OR-Tools assigner
becoming the default) and cannot say what produced them. Every benchmark builds a
:class:`FigureTable`, prints it as before, and with ``--figures DIR`` writes ``DIR/NAME.md`` and
``DIR/NAME.json``. ``docs/benchmarks.md`` carries them between markers::

    <!-- figures:NAME -->
    (the content of docs/figures/NAME.md, spliced in by `python bench/figures.py --splice`)
    <!-- /figures:NAME -->

and a test checks that the spliced copies equal the files and that no other table is in the page.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"<!-- figures:([\w.-]+) -->\n.*?<!-- /figures:\1 -->", re.DOTALL)


def provenance() -> dict[str, str]:
    """Commit (``-dirty`` with uncommitted changes outside ``docs/figures``), UTC date and machine."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    commit = git("rev-parse", "--short=12", "HEAD") or "unknown"
    # the figures themselves are tracked: a run that rewrote one is not "dirty" code
    if git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)docs/figures"):
        commit += "-dirty"
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        lines = cpuinfo.read_text().splitlines()
        names = [ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")]
        cpu = names[0] if names else cpu
    return {
        "commit": commit,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{cpu}, {os.cpu_count()} cores visible, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}",
    }


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


@dataclass
class FigureTable:
    """One benchmark table.

    Attributes:
        name: file stem under the figures folder (``load-500``); also the docs marker.
        title: one line saying what is measured.
        columns: column titles (with units).
        params: the parameters of the run that produced the rows (stated under the title).
        rows: one list of cells per row (numbers are formatted on output, kept raw in JSON).
        notes: free text printed under the table (how to read it, what it does not measure).
    """

    name: str
    title: str
    columns: Sequence[str]
    params: Mapping[str, Any] = field(default_factory=dict)
    rows: list[list[Any]] = field(default_factory=list)
    notes: str = ""

    def add(self, *cells: Any) -> None:
        """Append a row (as many cells as columns)."""
        if len(cells) != len(self.columns):
            raise ValueError(f"{self.name}: {len(cells)} cells for {len(self.columns)} columns")
        self.rows.append(list(cells))

    def markdown(self, origin: Mapping[str, str]) -> str:
        """The table with its title, parameters and provenance."""
        params = ", ".join(f"{k} {v}" for k, v in self.params.items()) or "defaults"
        lines = [
            f"**{self.title}**",
            "",
            f"Parameters: {params}. Commit `{origin['commit']}`, {origin['date']}; {origin['machine']}.",
            "",
            "| " + " | ".join(self.columns) + " |",
            "|" + "---|" * len(self.columns),
            *("| " + " | ".join(_cell(c) for c in row) + " |" for row in self.rows),
        ]
        if self.notes:
            lines += ["", self.notes]
        return "\n".join(lines) + "\n"

    def emit(self, figures_dir: Path | str | None) -> str:
        """Print the markdown; with a folder, also write ``NAME.md`` and ``NAME.json`` there."""
        origin = provenance()
        text = self.markdown(origin)
        print(text, flush=True)
        if figures_dir is not None:
            out = Path(figures_dir)
            out.mkdir(parents=True, exist_ok=True)
            (out / f"{self.name}.md").write_text(text, encoding="utf-8")
            body = {"name": self.name, "title": self.title, "params": dict(self.params),
                    "columns": list(self.columns), "rows": self.rows, "notes": self.notes, **origin}
            (out / f"{self.name}.json").write_text(json.dumps(body, indent=1, default=str) + "\n",
                                                   encoding="utf-8")
        return text


def add_figures_option(parser: argparse.ArgumentParser) -> None:
    """``--figures DIR``: also write each table as DIR/NAME.md and DIR/NAME.json."""
    parser.add_argument("--figures", default=None, metavar="DIR",
                        help="also write each table as DIR/NAME.md and .json (docs/figures for the docs)")


def splice(doc: Path, figures_dir: Path) -> str:
    """``doc`` with every ``figures:NAME`` block replaced by ``figures_dir/NAME.md``."""
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        source = figures_dir / f"{name}.md"
        if not source.is_file():
            raise FileNotFoundError(f"{doc}: figures:{name} names {source}, which does not exist")
        return f"<!-- figures:{name} -->\n{source.read_text(encoding='utf-8')}<!-- /figures:{name} -->"

    return MARKER.sub(fill, doc.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    """``python bench/figures.py --splice docs/benchmarks.md``: refresh the spliced tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--splice", nargs="+", type=Path, required=True, metavar="DOC")
    ap.add_argument("--figures", type=Path, default=REPO / "docs" / "figures")
    args = ap.parse_args(argv)
    for doc in args.splice:
        try:
            doc.write_text(splice(doc, args.figures), encoding="utf-8")
        except FileNotFoundError as exc:
            print(f"figures: error: {exc}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
