"""Shared fixtures: a real Mosquitto broker, and the path to the public benchmarks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.broker import MosquittoBroker

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """Folder of the shared benchmarks: ``$BULLETYARD_SHARED`` or ``../shared``."""
    return Path(os.environ.get("BULLETYARD_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared() -> Path:
    """The shared benchmark folder; skips with a reason when absent, fails under CI."""
    path = shared_dir()
    if not (path / "benchmarks").is_dir():
        message = f"shared benchmarks not found at {path} (set BULLETYARD_SHARED)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """A fresh Mosquitto on a free loopback port, stopped after the test."""
    b = MosquittoBroker(tmp_path / "broker")
    b.start()
    try:
        yield b
    finally:
        b.stop()
