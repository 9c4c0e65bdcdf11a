"""The progress bar of a sweep or a check: cells finished, failed, and the time left."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


class CellProgress:
    """A bar over ``total`` cells; :meth:`advance` with each finished cell's record."""

    def __init__(self, console: Console, total: int, *, quiet: bool = False, label: str = "sweep") -> None:
        self.failed = 0
        self._progress = None if quiet or total == 0 else Progress(
            TextColumn(f"[bold]{label}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self._task = None if self._progress is None else self._progress.add_task("", total=total)

    def advance(self, record: dict[str, Any]) -> None:
        """One more cell finished."""
        self.failed += record.get("status") != "ok"
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=1, description=f"failed={self.failed}")

    def __enter__(self) -> CellProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
