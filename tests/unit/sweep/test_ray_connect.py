"""Connecting a sweep to a Ray cluster by address: a head that answers but fails to start the
client's own server is tried again (a failure seen on a busy head); any other connection error,
or the same failure every time, is one clear error naming the address."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from bulletyard.errors import UsageError
from bulletyard.sweep import executor

ADDRESS = "ray://127.0.0.1:10001"
START_FAILURE = ConnectionAbortedError(
    "Initialization failure from server:\nRuntimeError: Starting Ray client server failed.")


class FakeRay:
    """The part of the ``ray`` module a sweep uses; ``init`` raises the given errors in turn."""

    def __init__(self, errors: list[Exception]) -> None:
        self.errors = errors
        self.inits: list[dict[str, Any]] = []
        self.shutdowns = 0

    def init(self, **kwargs: Any) -> None:
        self.inits.append(kwargs)
        if self.errors:
            warnings.warn("Ray Client connection timed out.", UserWarning, stacklevel=1)  # as Ray does
            raise self.errors.pop(0)

    def cluster_resources(self) -> dict[str, float]:
        return {"CPU": 2.0}

    def remote(self, **options: Any) -> Any:
        return lambda function: function

    def shutdown(self) -> None:
        self.shutdowns += 1


def _run(monkeypatch: pytest.MonkeyPatch, ray: FakeRay, tmp_path: Path) -> list[str]:
    monkeypatch.setattr(executor, "require_ray", lambda: ray)
    started: list[str] = []
    executor.run_on_ray([], tmp_path, "token", False, lambda record: None, address=ADDRESS,
                        workers=None, on_start=started.append)
    return started


def test_a_failed_server_start_is_tried_again_and_the_sweep_goes_on(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ray = FakeRay([START_FAILURE])
    assert _run(monkeypatch, ray, tmp_path) == [f"Ray cluster at {ADDRESS}, 2 CPUs"]
    assert len(ray.inits) == 2
    assert all(init["address"] == ADDRESS for init in ray.inits)
    assert "attempt 1 of 3" in capsys.readouterr().err
    assert ray.shutdowns == 1


def test_the_same_failure_every_time_is_one_error_after_the_last_attempt(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ray = FakeRay([START_FAILURE] * executor.CONNECT_ATTEMPTS)
    with pytest.raises(UsageError, match=f"--address {ADDRESS}: cannot reach the Ray cluster"):
        _run(monkeypatch, ray, tmp_path)
    assert len(ray.inits) == executor.CONNECT_ATTEMPTS


def test_an_unreachable_head_is_not_tried_again(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ray = FakeRay([ConnectionError("ray client connection timeout")])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Ray's own warning would be a second message: it is not shown
        with pytest.raises(UsageError, match="connection timeout"):
            _run(monkeypatch, ray, tmp_path)
    assert len(ray.inits) == 1
