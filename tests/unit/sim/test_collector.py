"""The run's garbage-collector settings hold only during the run and still collect cycles."""

from __future__ import annotations

import gc
import weakref

import pytest

from bulletyard.runtime.collector import YOUNG_THRESHOLD, tuned_for_run


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_settings_hold_inside_and_are_restored_after() -> None:
    before = gc.get_threshold()
    frozen_before = gc.get_freeze_count()
    with tuned_for_run():
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD
        assert gc.get_freeze_count() > frozen_before  # the world built so far is frozen
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen_before


def test_settings_are_restored_when_the_run_fails() -> None:
    before = gc.get_threshold()
    frozen_before = gc.get_freeze_count()
    with pytest.raises(RuntimeError), tuned_for_run():
        raise RuntimeError("run failed")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen_before


def test_a_cycle_made_during_the_run_is_collected_without_an_explicit_collect() -> None:
    with tuned_for_run():
        a, b = _Node(), _Node()
        a.other, b.other = b, a
        gone = weakref.ref(a)
        del a, b
        assert gone() is not None  # a cycle: reference counting alone cannot free it
        kept = [[] for _ in range(3 * YOUNG_THRESHOLD)]  # enough allocations for a young pass
        assert gone() is None
        del kept
