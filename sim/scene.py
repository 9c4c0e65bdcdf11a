"""What the robots are doing, drawn as geometry: heading, carried pod, path ahead, trail, queues, chutes.

Why geometry and not PyBullet debug lines: debug items exist only in the GUI window, while
``--record`` and ``bulletyard snapshot`` render with TinyRenderer, which draws bodies only. Built
from small visual-only bodies, one look serves the window, the recorded frames and the snapshot.

Per robot: a nose (a small box at the front, in the robot's own colour, so heading and identity
show at any zoom), a pod (a rack-coloured box riding on the robot while it carries one, hidden
below the floor otherwise), ``PATH_DOTS`` tiles on its path ahead in its colour and ``TRAIL_DOTS``
dark dots behind it that shrink and fade towards the floor colour with age (one set of trail
shapes for all robots: PyBullet's GUI takes about 7 ms per visual shape created). Per pick
station, a column of cubes floating above it, one per robot queued for it (heading there or on
it, up to ``QUEUE_CUBES``).
Chute boxes of the sorter are recoloured by fill (green empty, red full), in tenths. Nothing here
collides: the bodies have no collision shape.

Cost: :meth:`SceneMarks.note` is Python only (called every trace frame); :meth:`SceneMarks.draw`
moves bodies and is called only when a picture is due (every GUI frame, every recorded frame).
"""

from __future__ import annotations

import colorsys
import math
from collections import deque
from collections.abc import Mapping, Sequence

import pybullet as p

from sim.trace import TraceFrame
from sim.world import PLACE_COLOURS, ROBOT_HEIGHT_M, World
from warehouse_maps.layout import Cell, PlaceKind

PATH_DOTS = 6
TRAIL_DOTS = 8
QUEUE_CUBES = 6
HIDDEN_Z_M = -10.0
FLOOR_RGB = (0.93, 0.93, 0.9)
TRAIL_RGB = (0.25, 0.25, 0.3)  # one for all robots: TRAIL_DOTS shapes, not TRAIL_DOTS per robot
Point = tuple[float, float]


def robot_colour(index: int) -> tuple[float, float, float]:
    """A distinct, saturated colour per robot (golden-angle hues, two lightness bands)."""
    hue = (index * 0.618034) % 1.0
    return colorsys.hls_to_rgb(hue, 0.45 if index % 2 else 0.55, 0.85)


def fill_colour(fill: float) -> tuple[float, float, float, float]:
    """Green (empty) through yellow to red (full)."""
    f = min(max(fill, 0.0), 1.0)
    return (min(1.0, 2 * f), min(1.0, 2 * (1 - f)), 0.1, 1.0)


class SceneMarks:
    """The decorations of one world; robots are added as they first appear in a frame."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.client = world.client
        self.history: dict[str, deque[Point]] = {}
        self._bodies: dict[str, dict[str, list[int]]] = {}
        self._colour: dict[str, tuple[float, float, float]] = {}
        self._moved: set[str] = set()
        self._shapes: dict[tuple, int] = {}
        self._queue_bodies: dict[Cell, list[int]] = {}
        self._at: dict[int, tuple[float, float, float, float]] = {}  # body -> last pose given
        self._chute_level: dict[int, int] = {}  # chute body -> fill drawn, in tenths
        self.station_cells: dict[str, Cell] = {
            pl.id: pl.cell for pl in world.layout.of_kind(PlaceKind.PICK_STATION)
        }

    # -- bodies -----------------------------------------------------------------------------------

    def _shape(self, kind: int, size: tuple[float, ...], rgba: Sequence[float]) -> int:
        key = (kind, size, tuple(round(c, 3) for c in rgba))
        if key not in self._shapes:
            box = kind == p.GEOM_BOX
            extra = {"halfExtents": list(size)} if box else {"radius": size[0], "length": size[1]}
            self._shapes[key] = p.createVisualShape(kind, rgbaColor=list(rgba), physicsClientId=self.client,
                                                    **extra)
        return self._shapes[key]

    def _body(self, shape: int) -> int:
        body = p.createMultiBody(baseMass=0, baseCollisionShapeIndex=-1, baseVisualShapeIndex=shape,
                                 basePosition=[0, 0, HIDDEN_Z_M], physicsClientId=self.client)
        self._at[body] = (0.0, 0.0, HIDDEN_Z_M, 0.0)
        return body

    def _move(self, body: int, x: float, y: float, z: float, yaw_rad: float = 0.0) -> None:
        """Pose a body, skipping the call when it is already there (most marks stand still)."""
        pose = (x, y, z, yaw_rad)
        if self._at.get(body) == pose:
            return
        self._at[body] = pose
        p.resetBasePositionAndOrientation(body, [x, y, z], p.getQuaternionFromEuler([0, 0, yaw_rad]),
                                          physicsClientId=self.client)

    def _add_robot(self, rid: str) -> None:
        rgb = self._colour[rid] = robot_colour(len(self._colour))
        s = self.world.layout.cell_size_m
        r = self.world.footprint_radius_m
        self._bodies[rid] = {
            "nose": [self._body(self._shape(p.GEOM_BOX, (0.16 * s, 0.12 * s, 0.06), (*rgb, 1.0)))],
            "pod": [self._body(self._shape(p.GEOM_BOX, (0.3 * s, 0.3 * s, 0.2),
                                           PLACE_COLOURS[PlaceKind.STORAGE]))],
            "path": [self._body(self._shape(p.GEOM_BOX, (0.14 * s, 0.14 * s, 0.01), (*rgb, 1.0)))
                     for _ in range(PATH_DOTS)],
            "trail": [self._body(self._shape(p.GEOM_CYLINDER, (0.35 * r * (1 - k / (2 * TRAIL_DOTS)), 0.01),
                                             (*self._fade(TRAIL_RGB, k), 1.0))) for k in range(TRAIL_DOTS)],
        }

    @staticmethod
    def _fade(rgb: tuple[float, float, float], age: int) -> tuple[float, float, float]:
        a = 0.85 * (1.0 - age / TRAIL_DOTS)  # newest strongest, oldest nearly the floor
        return tuple(a * c + (1 - a) * f for c, f in zip(rgb, FLOOR_RGB, strict=True))  # type: ignore[return-value]

    # -- per frame --------------------------------------------------------------------------------

    def note(self, frame: TraceFrame, every_m: float = 0.5) -> None:
        """Remember where each robot went (a trail point every ``every_m`` metres); Python only."""
        for rid, (x, y, _) in frame.robots.items():
            trail = self.history.get(rid)
            if trail is None:
                trail = self.history[rid] = deque(maxlen=TRAIL_DOTS)
            if not trail or abs(trail[-1][0] - x) + abs(trail[-1][1] - y) >= every_m:
                trail.append((x, y))
                self._moved.add(rid)

    def draw(
        self,
        frame: TraceFrame,
        paths: Mapping[str, Sequence[Point]],
        carrying: set[str],
        chute_fill: Mapping[str, float] | None = None,
    ) -> None:
        """Pose every decoration for ``frame``: noses, pods, paths ahead, trails, queues, chutes."""
        for rid, (x, y, th) in sorted(frame.robots.items()):
            if rid not in self._bodies:
                self._add_robot(rid)
                self._moved.add(rid)
            self._draw_robot(rid, x, y, th, paths.get(rid, ()), rid in carrying)
        self._moved.clear()
        self._draw_queues(frame, paths)
        if chute_fill:
            for k, body in enumerate(self.world.chute_bodies):
                fill = chute_fill.get(f"c{k + 1:03d}")
                level = None if fill is None else round(10 * min(max(fill, 0.0), 1.0))
                if level is not None and self._chute_level.get(body) != level:  # recolour on change only
                    self._chute_level[body] = level
                    p.changeVisualShape(body, -1, rgbaColor=fill_colour(level / 10),
                                        physicsClientId=self.client)

    def _draw_robot(self, rid: str, x: float, y: float, th: float, ahead: Sequence[Point],
                    carrying: bool) -> None:
        bodies = self._bodies[rid]
        r = self.world.footprint_radius_m
        top = ROBOT_HEIGHT_M + 0.02
        self._move(bodies["nose"][0], x + 0.8 * r * math.cos(th), y + 0.8 * r * math.sin(th), top + 0.06, th)
        self._move(bodies["pod"][0], x, y, top + 0.2 if carrying else HIDDEN_Z_M, th)
        for k, body in enumerate(bodies["path"]):
            if k < len(ahead):
                self._move(body, ahead[k][0], ahead[k][1], 0.03)
            else:
                self._move(body, 0.0, 0.0, HIDDEN_Z_M)
        if rid in self._moved:
            trail = list(self.history.get(rid, ()))[::-1][1:]  # newest first, not the robot's own spot
            for k, body in enumerate(bodies["trail"]):
                if k < len(trail):
                    self._move(body, trail[k][0], trail[k][1], 0.02)
                else:
                    self._move(body, 0.0, 0.0, HIDDEN_Z_M)

    def queues(self, frame: TraceFrame, paths: Mapping[str, Sequence[Point]]) -> dict[str, int]:
        """Robots heading to (path ends on) or standing on each pick station's cell."""
        counts = dict.fromkeys(self.station_cells, 0)
        by_cell = {cell: sid for sid, cell in self.station_cells.items()}
        layout = self.world.layout
        for rid, (x, y, _) in frame.robots.items():
            ahead = paths.get(rid)
            end = ahead[-1] if ahead else (x, y)
            sid = by_cell.get(layout.cell_at_m(*end))
            if sid is not None:
                counts[sid] += 1
        return counts

    def _draw_queues(self, frame: TraceFrame, paths: Mapping[str, Sequence[Point]]) -> None:
        layout = self.world.layout
        s = layout.cell_size_m
        for sid, n in self.queues(frame, paths).items():
            cell = self.station_cells[sid]
            bodies = self._queue_bodies.get(cell)
            if bodies is None:
                colour = PLACE_COLOURS[PlaceKind.PICK_STATION]
                shape = self._shape(p.GEOM_BOX, (0.2 * s, 0.2 * s, 0.1), colour)
                bodies = self._queue_bodies[cell] = [self._body(shape) for _ in range(QUEUE_CUBES)]
            cx, cy = layout.cell_centre_m(cell)
            for k, body in enumerate(bodies):  # a column floating above robots and pods
                z = 1.1 + 0.24 * k if k < n else HIDDEN_Z_M
                self._move(body, cx, cy, z)
