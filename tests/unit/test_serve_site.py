"""``bulletyard serve`` drives a layout's sorter unless told not to, and bounds its journal."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bulletyard.errors import UsageError
from bulletyard.runtime.site import add_site_options, retention, with_sortation
from controller.config import ControllerConfig, load_config
from warehouse_maps.catalog import load_layout

FC = load_layout("fc")  # has equipment.sorter
SMALL = load_layout("small-fc")  # has none


def test_auto_drives_the_sorter_of_a_layout_that_has_one() -> None:
    assert with_sortation(ControllerConfig(), FC, "auto").sortation.enabled
    assert not with_sortation(ControllerConfig(), SMALL, "auto").sortation.enabled


def test_the_config_file_decides_when_it_says(tmp_path: Path) -> None:
    off = tmp_path / "off.yaml"
    off.write_text("sortation: {enabled: false}\n")
    assert not with_sortation(load_config(off), FC, "auto").sortation.enabled
    tuned = tmp_path / "tuned.yaml"  # sortation settings without 'enabled': auto still decides
    tuned.write_text("sortation: {strategy: round_robin}\n")
    config = with_sortation(load_config(tuned), FC, "auto")
    assert (config.sortation.enabled, config.sortation.strategy) == (True, "round_robin")


def test_off_and_on_override_and_on_needs_a_sorter() -> None:
    assert not with_sortation(ControllerConfig(), FC, "off").sortation.enabled
    assert with_sortation(ControllerConfig(), FC, "on").sortation.enabled
    with pytest.raises(UsageError, match="has no sorter"):
        with_sortation(ControllerConfig(), SMALL, "on")


def _args(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    add_site_options(p)
    return p.parse_args(list(argv))


def test_journal_retention_options() -> None:
    default = retention(_args())
    assert (default.events_max_rows, default.events_max_age_s) == (2_000_000, 30 * 86400.0)
    unbounded = retention(_args("--journal-keep-events", "0", "--journal-keep-days", "0"))
    assert (unbounded.events_max_rows, unbounded.events_max_age_s) == (None, None)
    with pytest.raises(UsageError, match="must be >= 0"):
        retention(_args("--journal-keep-days", "-1"))


def test_robots_sort_on_a_robotic_sortation_site_unless_the_file_says(tmp_path: Path) -> None:
    center = load_layout("sort-center")  # inducts and chutes, no storage
    assert with_sortation(ControllerConfig(), center, "auto").robotic_sortation.enabled
    assert not with_sortation(ControllerConfig(), FC, "auto").robotic_sortation.enabled
    off = tmp_path / "off.yaml"
    off.write_text("robotic_sortation: {enabled: false}\n")
    assert not with_sortation(load_config(off), center, "auto").robotic_sortation.enabled
