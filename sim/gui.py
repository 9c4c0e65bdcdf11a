"""The PyBullet GUI: planned paths and trails as debug lines, a text overlay, keyboard control.

Keys (in the PyBullet window): ``space`` pause / resume, ``n`` one frame while paused, ``+`` / ``-``
faster / slower, ``f`` follow the next robot (camera tracks it), ``g`` stop following. Robots are
coloured by state (:data:`sim.world.STATE_COLOURS`). Planned paths (released nodes still ahead) are
drawn green, the last ``TRAIL_FRAMES`` positions of each robot as a grey trail. Debug items are
replaced in place (``replaceItemUniqueId``) so a long run does not accumulate them.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Sequence

import pybullet as p

from sim.trace import TraceFrame
from sim.world import World

TRAIL_FRAMES = 12
PATH_Z_M = 0.05


class _Keys:
    def __init__(self, world: World) -> None:
        self.world = world
        self.paused = False
        self.speed = 10.0
        self.follow: int | None = None

    def poll(self, robot_ids: Sequence[str]) -> bool:
        """Read the keyboard; True when one step was requested while paused."""
        step = False
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
            elif key == ord("f") and robot_ids:
                self.follow = 0 if self.follow is None else (self.follow + 1) % len(robot_ids)
            elif key == ord("g"):
                self.follow = None
        return step


class _Drawer:
    def __init__(self, world: World) -> None:
        self.world = world
        self.trails: dict[str, deque] = {}
        self.lines: dict[tuple[str, str, int], int] = {}
        self.text_id = -1

    def _line(self, key: tuple[str, str, int], a, b, colour) -> None:
        kw = {"lineColorRGB": colour, "lineWidth": 2.0, "physicsClientId": self.world.client}
        old = self.lines.get(key)
        if old is not None:
            kw["replaceItemUniqueId"] = old
        self.lines[key] = p.addUserDebugLine([a[0], a[1], PATH_Z_M], [b[0], b[1], PATH_Z_M], **kw)

    def draw(
        self, frame: TraceFrame, paths: dict[str, list[tuple[float, float]]], overlay: str, follow: str | None
    ) -> None:
        for rid, (x, y, _) in frame.robots.items():
            trail = self.trails.setdefault(rid, deque(maxlen=TRAIL_FRAMES))
            trail.append((x, y))
            pts = list(trail)
            for i in range(TRAIL_FRAMES - 1):
                a, b = (pts[i], pts[i + 1]) if i + 1 < len(pts) else ((x, y), (x, y))
                self._line((rid, "trail", i), a, b, [0.5, 0.5, 0.5])
            ahead = [(x, y), *paths.get(rid, [])][:8]
            for i in range(7):
                a, b = (ahead[i], ahead[i + 1]) if i + 1 < len(ahead) else ((x, y), (x, y))
                self._line((rid, "path", i), a, b, [0.1, 0.8, 0.2])
        kw = {"textColorRGB": [0, 0, 0], "textSize": 1.4, "physicsClientId": self.world.client}
        if self.text_id >= 0:
            kw["replaceItemUniqueId"] = self.text_id
        x0, _, _, y1 = self.world.extent_m()
        self.text_id = p.addUserDebugText(overlay, [x0 + 1.0, y1 + 2.0, 1.0], **kw)
        if follow is not None and follow in frame.robots:
            x, y, _ = frame.robots[follow]
            p.resetDebugVisualizerCamera(12.0, 0.0, -60.0, [x, y, 0.0], physicsClientId=self.world.client)


class GuiController:
    """Live GUI for ``bulletyard sim --gui``: called on every trace frame by the simulation."""

    def __init__(self, world: World, robots: Sequence, kpi) -> None:
        self.world = world
        self.robots = list(robots)
        self.kpi = kpi
        self.keys = _Keys(world)
        self.drawer = _Drawer(world)
        self._wall = time.perf_counter()
        self._last_t = 0.0
        self.overview()

    def overview(self) -> None:
        """Point the camera at the whole scene from above at a slant, side panels hidden.

        Why: PyBullet's default camera looks at the origin from a few metres away, which on a
        layout shows one corner wall and nothing of the robots.
        """
        x0, y0, x1, y1 = self.world.extent_m()
        span_m = max(x1 - x0, y1 - y0)
        client = self.world.client
        p.configureDebugVisualizer(p.COV_ENABLE_GUI, 0, physicsClientId=client)
        p.resetDebugVisualizerCamera(0.85 * span_m, 0.0, -65.0, [(x0 + x1) / 2, (y0 + y1) / 2, 0.0],
                                     physicsClientId=client)

    def _paths(self) -> dict[str, list[tuple[float, float]]]:
        out = {}
        for r in self.robots:
            nodes = getattr(getattr(r, "agent", None), "_nodes", [])
            out[r.robot_id] = [
                (n.node_position.x, n.node_position.y)
                for n in nodes
                if getattr(n, "node_position", None) is not None
            ]
        return out

    def on_frame(self, frame: TraceFrame) -> None:
        """Draw, honour the keys, and pace the run to ``speed`` x real time."""
        ids = [r.robot_id for r in self.robots]
        while True:
            step = self.keys.poll(ids)
            if not self.keys.paused or step:
                break
            time.sleep(0.03)
        overlay = (
            f"t={frame.t_s:,.0f} s  x{self.keys.speed:g}  open orders={self.kpi.open_orders}  "
            f"done={len(self.kpi.cycle_times_s)}  {'PAUSED' if self.keys.paused else ''}"
        )
        follow = ids[self.keys.follow] if self.keys.follow is not None else None
        self.drawer.draw(frame, self._paths(), overlay, follow)
        due = self._wall + (frame.t_s - self._last_t) / self.keys.speed
        while (left_s := due - time.perf_counter()) > 0:  # pace to speed x real time
            time.sleep(min(0.01, left_s))
        self._wall, self._last_t = time.perf_counter(), frame.t_s


class GuiReplay:
    """``bulletyard replay RUN_DIR --gui``: poses from the trace, same drawing and keys."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.keys = _Keys(world)
        self.drawer = _Drawer(world)

    def play(self, frames: Iterable[TraceFrame], speed: float) -> None:
        """Show every frame, paced at ``speed`` x real time (changeable with the keys)."""
        self.keys.speed = speed
        last_t, wall = 0.0, time.perf_counter()
        for frame in frames:
            for rid, (x, y, th) in sorted(frame.robots.items()):
                if rid not in self.world.robots:
                    self.world.add_robot(rid, x, y, th)
                self.world.set_pose(rid, x, y, th)
                self.world.set_state(rid, frame.state.get(rid, "idle"))
            ids = sorted(frame.robots)
            while True:
                step = self.keys.poll(ids)
                if not self.keys.paused or step:
                    break
                time.sleep(0.03)
            follow = ids[self.keys.follow % len(ids)] if self.keys.follow is not None and ids else None
            self.drawer.draw(frame, {}, f"replay t={frame.t_s:,.1f} s  x{self.keys.speed:g}", follow)
            due = wall + (frame.t_s - last_t) / self.keys.speed
            while time.perf_counter() < due:
                time.sleep(min(0.01, due - time.perf_counter()))
            wall, last_t = time.perf_counter(), frame.t_s
