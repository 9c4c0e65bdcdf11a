"""The sorter package's one user-input error: a sorter config that cannot be used.

The CLI lists it in ``bulletyard/errors.py`` so a bad ``sorter.yaml`` prints one line naming the
file and the field and exits with status 2.
"""

from __future__ import annotations

from pathlib import Path


class SorterConfigError(ValueError):
    """A sorter configuration file (or mapping) that cannot be used.

    Args:
        source: the file or a label such as ``<dict>``.
        message: what is wrong, naming the field.
    """

    def __init__(self, source: str | Path, message: str) -> None:
        self.source = str(source)
        self.message = message
        super().__init__(f"{self.source}: {message}")
