"""Replay a run from its ``trace.jsonl``: in the PyBullet GUI, as headless PNG frames, or one snapshot.

The world is rebuilt from the run's layout and the robot bodies are posed frame by frame from the
trace, coloured by the recorded state, with the scene marks of :mod:`sim.scene` (heading, carried
pods, trails from the frames before; paths ahead when the trace has them); nothing is
re-simulated, so a replay shows exactly what the run did.
"""

from __future__ import annotations

import time
from pathlib import Path

from sim.record import render, write_png
from sim.scene import SceneMarks
from sim.trace import TraceFormatError, TraceFrame, read_trace
from sim.world import World
from warehouse_maps.layout import Layout


def show_frame(world: World, marks: SceneMarks, frame: TraceFrame) -> None:
    """Pose and colour the robots of ``frame`` and draw its scene marks."""
    for rid, (x, y, th) in sorted(frame.robots.items()):
        if rid not in world.robots:
            world.add_robot(rid, x, y, th)
        world.set_pose(rid, x, y, th)
        world.set_state(rid, frame.state.get(rid, "idle"))
    marks.note(frame)
    marks.draw(frame, frame.paths, set(frame.pods))


def snapshot(
    run_dir: Path, layout: Layout, t_s: float, out: Path, width_px: int = 960, height_px: int = 600
) -> Path:
    """Render the moment ``t_s`` of a run to ``out`` (TinyRenderer, no display needed)."""
    world = World(layout)
    try:
        marks = SceneMarks(world)
        chosen: TraceFrame | None = None
        for frame in read_trace(run_dir / "trace.jsonl"):  # the trail is built from the frames before
            if chosen is not None and frame.t_s > t_s:
                break
            marks.note(frame)
            chosen = frame
        if chosen is None:
            raise TraceFormatError(f"{run_dir / 'trace.jsonl'}: the trace is empty")
        show_frame(world, marks, chosen)
        write_png(out, render(world, width_px, height_px))
    finally:
        world.close()
    return out


def replay(
    run_dir: Path,
    layout: Layout,
    *,
    gui: bool,
    speed: float = 10.0,
    frames_dir: Path | None = None,
    every_s: float = 5.0,
) -> int:
    """Replay a run; with ``gui`` paced at ``speed`` x real time, else PNG frames into ``frames_dir``."""
    world = World(layout, gui=gui)
    try:
        if gui:
            from sim.gui import GuiReplay

            GuiReplay(world).play(read_trace(run_dir / "trace.jsonl"), speed)
            return 0
        out = frames_dir or run_dir / "replay"
        out.mkdir(parents=True, exist_ok=True)
        next_t, count = 0.0, 0
        wall0 = time.perf_counter()
        marks = SceneMarks(world)
        for frame in read_trace(run_dir / "trace.jsonl"):
            marks.note(frame)
            if frame.t_s + 1e-9 >= next_t:
                show_frame(world, marks, frame)
                write_png(out / f"frame_{count:05d}.png", render(world, 640, 400))
                count += 1
                next_t = frame.t_s + every_s
        print(f"wrote {count} frames to {out} in {time.perf_counter() - wall0:.1f} s")
        return 0
    finally:
        world.close()
