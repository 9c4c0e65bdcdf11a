"""The run trace: ``trace.jsonl``, one line per trace tick, written and read as a stream.

Each line is ``{"t": seconds, "robots": {"agv-0001": [x_m, y_m, theta_rad], ...}}`` in the metric
map frame (x east, y north, theta counter-clockwise from east). Optional keys a line may carry:
``"state"`` (robot id -> short state name, for colouring replays) and ``"paths"`` (robot id ->
list of ``[x_m, y_m]`` points ahead, for drawing planned paths) and ``"pods"`` (the sorted ids of the
robots carrying a pod, for drawing the pod on the robot). ``t`` counts seconds since the
start of the run. Positions are rounded to the millimetre and angles to 1e-4 rad so that the file
is byte-identical for the same seed whatever the platform's float printing does with the noise.

The reader never loads the whole file: long runs (ten simulated hours at 500 robots) would not fit
comfortably in memory, and the safety check, the report and replay all work frame by frame.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bus import wire_json

Pose = tuple[float, float, float]
"""(x_m, y_m, theta_rad) in the map frame."""


class TraceFormatError(ValueError):
    """A trace file line that cannot be read (names the file and the line)."""


@dataclass(frozen=True, slots=True)
class TraceFrame:
    """One trace tick.

    Attributes:
        t_s: seconds since the start of the run.
        robots: robot id -> pose.
        state: robot id -> short state name (``idle``, ``driving``, ``busy``, ``offline``...).
        paths: robot id -> planned points ahead, ``[(x_m, y_m), ...]``.
        pods: ids of the robots carrying a pod (or any load).
    """

    t_s: float
    robots: Mapping[str, Pose]
    state: Mapping[str, str] = field(default_factory=dict)
    paths: Mapping[str, Sequence[tuple[float, float]]] = field(default_factory=dict)
    pods: frozenset[str] = frozenset()


def encode_frame(frame: TraceFrame) -> str:
    """One JSON line (no newline) with stable key order and fixed rounding."""
    robots = {
        rid: [round(p[0], 3), round(p[1], 3), round(p[2], 4)] for rid, p in sorted(frame.robots.items())
    }
    line: dict[str, object] = {"t": round(frame.t_s, 3), "robots": robots}
    if frame.state:
        line["state"] = dict(sorted(frame.state.items()))
    if frame.paths:
        line["paths"] = {
            rid: [[round(x, 3), round(y, 3)] for x, y in pts] for rid, pts in sorted(frame.paths.items())
        }
    if frame.pods:
        line["pods"] = sorted(frame.pods)
    return wire_json.dumps(line).decode()


def decode_frame(text: str, where: str = "trace") -> TraceFrame:
    """Parse one trace line; :class:`TraceFormatError` naming ``where`` when it is malformed."""
    try:
        raw = wire_json.loads(text)
        t_s = float(raw["t"])
        robots = {str(k): (float(v[0]), float(v[1]), float(v[2])) for k, v in raw["robots"].items()}
        state = {str(k): str(v) for k, v in raw.get("state", {}).items()}
        paths = {str(k): [(float(x), float(y)) for x, y in v] for k, v in raw.get("paths", {}).items()}
        pods = frozenset(str(k) for k in raw.get("pods", ()))
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise TraceFormatError(f"{where}: not a trace line ({exc})") from None
    return TraceFrame(t_s=t_s, robots=robots, state=state, paths=paths, pods=pods)


class TraceWriter:
    """Appends frames to ``trace.jsonl``; use as a context manager or call :meth:`close`."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = self.path.open("w", encoding="utf-8", newline="\n")
        self.frames = 0
        self.last_t_s: float | None = None

    def write(self, frame: TraceFrame) -> None:
        """Append one frame; times must not go backwards."""
        if self.last_t_s is not None and frame.t_s < self.last_t_s:
            raise ValueError(f"trace time went backwards: {frame.t_s} < {self.last_t_s}")
        self._file.write(encode_frame(frame))
        self._file.write("\n")
        self.frames += 1
        self.last_t_s = frame.t_s

    def close(self) -> None:
        """Flush and close the file."""
        if not self._file.closed:
            self._file.close()

    def __enter__(self) -> TraceWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_trace(path: Path | str) -> Iterator[TraceFrame]:
    """Frames of a trace file in order, read lazily; errors name ``file:line``."""
    path = Path(path)
    if not path.is_file():
        raise TraceFormatError(f"{path}: no such trace file")
    with path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if text.strip():
                yield decode_frame(text, where=f"{path}:{number}")


def frame_at(path: Path | str, t_s: float) -> TraceFrame:
    """The last frame at or before ``t_s`` (the first frame when ``t_s`` precedes the run)."""
    chosen: TraceFrame | None = None
    for frame in read_trace(path):
        if chosen is not None and frame.t_s > t_s:
            break
        chosen = frame
    if chosen is None:
        raise TraceFormatError(f"{path}: the trace is empty")
    return chosen
