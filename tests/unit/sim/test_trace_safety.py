"""Trace round trip and the independent safety check, on hand-made traces.

Two robots on a corridor (1 m cells, footprint discs of radius 0.4 m)::

    A . . . . B     A drives east, B drives west; in the "crash" trace they meet head on.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from sim.safety import check_frames
from sim.trace import TraceFormatError, TraceFrame, TraceWriter, frame_at, read_trace


def _corridor(tmp_path: Path, crash: bool) -> Path:
    path = tmp_path / "trace.jsonl"
    with TraceWriter(path) as writer:
        for k in range(21):
            t = k * 0.25
            xa = 0.5 + 0.25 * k * 0.8
            xb = 5.5 - 0.25 * k * 0.8
            if not crash:  # B waits in a side cell one metre north of the corridor
                xb = max(xb, 3.5)
            yb = -0.5 if crash or xb > 3.5 else 0.5
            writer.write(TraceFrame(t, {"agv-0001": (xa, -0.5, 0.0), "agv-0002": (xb, yb, math.pi)}))
    return path


def test_trace_round_trip_keeps_poses_and_extras(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    with TraceWriter(path) as writer:
        writer.write(TraceFrame(0.0, {"b": (1.0, -2.0, 0.5), "a": (0.123456, 0.0, -1.0)}, {"a": "idle"},
                                {"a": [(1.0, 2.0)]}))
        writer.write(TraceFrame(0.5, {"a": (0.2, 0.0, 0.0)}))
    frames = list(read_trace(path))
    assert [f.t_s for f in frames] == [0.0, 0.5]
    assert frames[0].robots["a"] == (0.123, 0.0, -1.0)
    assert frames[0].state == {"a": "idle"}
    assert frames[0].paths == {"a": [(1.0, 2.0)]}
    assert path.read_text().splitlines()[0].startswith('{"t":0.0,"robots":{"a":')
    assert frame_at(path, 0.3).t_s == 0.0
    assert frame_at(path, 9.0).t_s == 0.5


def test_trace_rejects_time_going_backwards(tmp_path: Path) -> None:
    with TraceWriter(tmp_path / "t.jsonl") as writer:
        writer.write(TraceFrame(1.0, {}))
        with pytest.raises(ValueError, match="backwards"):
            writer.write(TraceFrame(0.5, {}))


def test_bad_trace_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"t": 0, "robots": {}}\nnot json\n')
    with pytest.raises(TraceFormatError, match=r"t.jsonl:2"):
        list(read_trace(path))


def test_safety_catches_injected_head_on_collision(tmp_path: Path) -> None:
    report = check_frames(read_trace(_corridor(tmp_path, crash=True)))
    assert report.collision_count == 1  # one episode, however many frames it lasts
    first = report.collisions[0]
    assert (first.robot_a, first.robot_b) == ("agv-0001", "agv-0002")
    assert first.distance_m < 0.8
    assert report.min_distance_m == pytest.approx(0.2)


def test_safety_passes_when_robot_waits_aside(tmp_path: Path) -> None:
    report = check_frames(read_trace(_corridor(tmp_path, crash=False)))
    assert report.collision_count == 0
    assert report.min_distance_m >= 0.8
    assert report.frames == 21


def test_separate_episodes_count_separately() -> None:
    close = {"a": (0.0, 0.0, 0.0), "b": (0.5, 0.0, 0.0)}
    apart = {"a": (0.0, 0.0, 0.0), "b": (2.0, 0.0, 0.0)}
    frames = [TraceFrame(float(i), pose) for i, pose in enumerate([close, close, apart, close])]
    report = check_frames(frames)
    assert report.collision_count == 2
    assert report.min_distance_m == pytest.approx(0.5)
