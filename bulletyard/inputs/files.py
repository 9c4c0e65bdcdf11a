"""Whole-file readers for the composition root: a capped regular file parsed with limits.

For packages that must not import :mod:`warehouse_maps` (``sorter/`` imports only ``bus/``), the
CLI reads the file here and hands the parsed data to the package's own validator (for example
:func:`sorter.config.config_from_mapping`), so every file the CLI reads passes the same checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from warehouse_maps.safe_load import read_text_capped, safe_json_loads, safe_yaml_load


def read_yaml_input(path: str | Path) -> Any:
    """The data of a YAML file, read with every limit of :mod:`warehouse_maps.safe_load`.

    Raises:
        InputError: naming the file and line of the first problem.
    """
    return safe_yaml_load(read_text_capped(path), path)[0]



def read_json_input(path: str | Path) -> Any:
    """The data of a JSON file, read with every limit of :mod:`warehouse_maps.safe_load`.

    Raises:
        InputError: naming the file and line of the first problem.
    """
    return safe_json_loads(read_text_capped(path), path)
