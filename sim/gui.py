"""The PyBullet GUI: the scene marks of :mod:`sim.scene`, a KPI overlay, keyboard help, a camera.

Keys (in the PyBullet window): ``space`` pause / resume, ``n`` one frame while paused, ``+`` / ``-``
faster / slower, ``f`` follow the next robot (the camera tracks it), ``b`` follow the previous one,
``o`` back to the overview of the whole floor. The help is on screen. Robots are coloured by state
(:data:`sim.world.STATE_COLOURS`); what they do (heading, pod, path ahead, trail, station queues,
chute fill) is drawn by :class:`sim.scene.SceneMarks`, the same look as ``--record`` and
``snapshot``. Text items are replaced in place (``replaceItemUniqueId``) so a long run does not
accumulate them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence

import pybullet as p

from sim.scene import SceneMarks
from sim.trace import TraceFrame
from sim.world import World

HELP = "keys: space pause, n step, +/- speed, f/b follow next/previous robot, o overview"
FOLLOW_DISTANCE_M = 10.0
PITCH_DEG = -80.0
DRAW_EVERY_S = 0.25


def overview(world: World) -> None:
    """Point the camera straight down on the whole floor, filling the window.

    Why: PyBullet's default camera looks at the origin from a few metres away; a fixed distance
    shows the fc floor (160 x 60 m) in a third of the window. The distance comes from the window's
    own projection matrix (``proj[0]`` and ``proj[5]`` are the cotangents of the half fields of view).
    """
    x0, y0, x1, y1 = world.extent_m()
    client = world.client
    p.configureDebugVisualizer(p.COV_ENABLE_GUI, 0, physicsClientId=client)
    proj = p.getDebugVisualizerCamera(physicsClientId=client)[3]
    default = (0.75 / math.tan(0.5), 1 / math.tan(0.5))  # a 1024 x 768 window, 57 degrees high
    cot_x, cot_y = (proj[0], proj[5]) if proj[0] > 0 and proj[5] > 0 else default
    distance = 1.06 * max((x1 - x0) / 2 * cot_x, (y1 - y0) / 2 * cot_y + 2.0)
    p.resetDebugVisualizerCamera(distance, 0.0, PITCH_DEG, [(x0 + x1) / 2, (y0 + y1) / 2, 0.0],
                                 physicsClientId=client)


class _Keys:
    def __init__(self, world: World) -> None:
        self.world = world
        self.paused = False
        self.speed = 10.0
        self.follow: int | None = None

    def poll(self, robot_ids: Sequence[str]) -> bool:
        """Read the keyboard; True when one step was requested while paused."""
        step = False
        n = len(robot_ids)
        for key, state in p.getKeyboardEvents(physicsClientId=self.world.client).items():
            if not state & p.KEY_WAS_TRIGGERED:
                continue
            if key == ord(" "):
                self.paused = not self.paused
            elif key == ord("n"):
                step = True
            elif key in (ord("+"), ord("=")):
                self.speed *= 2
            elif key == ord("-"):
                self.speed = max(0.25, self.speed / 2)
            elif key in (ord("f"), ord("b")) and n:
                delta = 1 if key == ord("f") else -1
                first = 0 if delta > 0 else n - 1
                self.follow = first if self.follow is None else (self.follow + delta) % n
            elif key in (ord("o"), ord("g")):
                self.follow = None
                overview(self.world)
        return step

    def wait_while_paused(self, robot_ids: Sequence[str]) -> None:
        """Block (polling the keys) while paused, until resumed or one step is asked for."""
        while True:
            step = self.poll(robot_ids)
            if not self.paused or step:
                return
            time.sleep(0.03)


class _Overlay:
    """Lines of text above the floor's north-west corner."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.ids: list[int] = []

    def show(self, lines: Sequence[str]) -> None:
        x0, _, x1, y1 = self.world.extent_m()
        size = min(2.0, max(1.0, (x1 - x0) / 110))  # PyBullet's text size; about 1 m per unit
        for k, text in enumerate(lines):
            kw = {"textColorRGB": [0, 0, 0] if k else [0.1, 0.1, 0.5], "textSize": size,
                  "physicsClientId": self.world.client}
            if k < len(self.ids):
                kw["replaceItemUniqueId"] = self.ids[k]
            y = y1 + 1.0 + 2.4 * size * (len(lines) - k)
            item = p.addUserDebugText(text, [x0 + 0.5, y, 0.5], **kw)
            if k < len(self.ids):
                self.ids[k] = item
            else:
                self.ids.append(item)


def _follow(world: World, frame: TraceFrame, rid: str | None) -> None:
    if rid is not None and rid in frame.robots:
        x, y, _ = frame.robots[rid]
        p.resetDebugVisualizerCamera(FOLLOW_DISTANCE_M, 0.0, -60.0, [x, y, 0.0], physicsClientId=world.client)


def _pace(wall: float, last_t: float, t_s: float, speed: float) -> float:
    """Sleep until ``t_s`` is due at ``speed`` x real time; returns the new wall reference."""
    due = wall + (t_s - last_t) / speed
    while (left_s := due - time.perf_counter()) > 0:
        time.sleep(min(0.01, left_s))
    return time.perf_counter()


class GuiController:
    """Live GUI for ``bulletyard sim --gui``: called on every trace frame by the simulation, after
    the scene marks were drawn."""

    def __init__(self, world: World, robots: Sequence, kpi, marks: SceneMarks, *,
                 follow: str | None = None, speed: float = 10.0) -> None:
        self.world = world
        self.robots = list(robots)
        self.kpi = kpi
        self.marks = marks
        self.keys = _Keys(world)
        self.keys.speed = speed
        ids = [r.robot_id for r in self.robots]
        if follow is not None:
            if follow not in ids:
                raise ValueError(f"--follow {follow}: no such robot (agv-0001..agv-{len(ids):04d})")
            self.keys.follow = ids.index(follow)
        self.overlay = _Overlay(world)
        self._wall = time.perf_counter()
        self._drawn = 0.0
        self._last_t = 0.0
        overview(world)

    def due(self) -> bool:
        """Whether to redraw now: at most every ``DRAW_EVERY_S`` of wall time (a frame of the fc
        floor takes a software renderer about that long), and always while paused."""
        return self.keys.paused or time.perf_counter() - self._drawn >= DRAW_EVERY_S

    def show(self, frame: TraceFrame, paths: dict[str, list[tuple[float, float]]]) -> None:
        """The KPI overlay, station queues and keyboard help, and the camera on the followed robot."""
        ids = [r.robot_id for r in self.robots]
        hours = frame.t_s / 3600.0
        done = len(self.kpi.cycle_times_s)
        rate = self.kpi.completed_lines / hours if hours > 0 else 0.0
        busy = sum(1 for s in frame.state.values() if s not in ("idle", "offline"))
        follow = ids[self.keys.follow] if self.keys.follow is not None else None
        by_station = self.marks.queues(frame, paths)
        order = sorted(by_station, key=lambda sid: (len(sid), sid))  # S1, S2, ... S10 (as the report)
        queues = "  ".join(f"{sid}:{by_station[sid]}" for sid in order)
        self.overlay.show([
            f"t {frame.t_s:,.0f} s  x{self.keys.speed:g}{'  PAUSED' if self.keys.paused else ''}"
            f"{f'  following {follow}' if follow else ''}",
            f"orders done {done}, open {self.kpi.open_orders}   {rate:,.0f} lines/h",
            f"robots busy {busy}/{len(frame.robots)}, carrying a pod {len(frame.pods)}",
            f"queued at stations  {queues}",
            HELP,
        ])
        _follow(self.world, frame, follow)
        self._drawn = time.perf_counter()

    def pace(self, frame: TraceFrame) -> None:
        """Honour the keys and hold the run to ``speed`` x real time."""
        self.keys.wait_while_paused([r.robot_id for r in self.robots])
        self._wall = _pace(self._wall, self._last_t, frame.t_s, self.keys.speed)
        self._last_t = frame.t_s


class GuiReplay:
    """``bulletyard replay RUN_DIR --gui``: poses, states and pods from the trace, same look and keys."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.keys = _Keys(world)
        self.marks = SceneMarks(world)
        self.overlay = _Overlay(world)
        overview(world)

    def play(self, frames: Iterable[TraceFrame], speed: float) -> None:
        """Show every frame, paced at ``speed`` x real time (changeable with the keys)."""
        from sim.replay import show_frame

        self.keys.speed = speed
        last_t, wall = 0.0, time.perf_counter()
        for frame in frames:
            ids = sorted(frame.robots)
            self.keys.wait_while_paused(ids)
            follow = ids[self.keys.follow % len(ids)] if self.keys.follow is not None and ids else None
            with self.world.batch():
                show_frame(self.world, self.marks, frame)
                self.overlay.show([f"replay t {frame.t_s:,.1f} s  x{self.keys.speed:g}", HELP])
            _follow(self.world, frame, follow)
            wall = _pace(wall, last_t, frame.t_s, self.keys.speed)
            last_t = frame.t_s
