"""The error types for bad input files: `InputError` for any file, `MapFormatError` for floors.

Every loader raises one naming the file and, where it makes sense, the line, so the CLI can
print one clear line and exit with status 2 instead of a traceback.
"""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """An input file that cannot be used as it is (too large, too deep, not text, ...).

    The file-level checks of :mod:`warehouse_maps.safe_load` raise it for every kind of file
    (orders, configs, specs, ...); ``str`` is ``file:line: message``.

    Args:
        source: the file (or a label such as ``<string>``) the problem is in.
        message: what is wrong, in words a warehouse engineer understands.
        line: 1-based line number, when the problem sits on one line.
    """

    def __init__(self, source: str | Path, message: str, line: int | None = None) -> None:
        self.source = str(source)
        self.line = line
        self.message = message
        where = f"{self.source}:{line}" if line is not None else self.source
        super().__init__(f"{where}: {message}")


class MapFormatError(InputError):
    """A map, scenario, instance or layout file that cannot be used as it is.

    Args:
        source: the file (or a label such as ``<string>``) the problem is in.
        message: what is wrong, in words a warehouse engineer understands.
        line: 1-based line number, when the problem sits on one line.
    """
