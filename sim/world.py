"""The PyBullet world built from a layout: floor, storage, stations, chargers, walls, sorter loop, robots.

Everything is kinematic: the simulator sets poses with ``resetBasePositionAndOrientation`` and never
calls ``stepSimulation``, so hundreds of robots stay cheap. Shapes are created once per kind and
shared by every body of that kind (a new collision shape per body leaks memory in PyBullet and
slows start-up). Static scenery has visual shapes only, and contiguous cells of one kind in a row
are merged into one box, so the ``fc`` layout needs a few hundred bodies, not thousands.

Only the robots have collision shapes (discs of the footprint radius): PyBullet's contact query
between robot bodies is the second, independent collision check beside the trace-based one in
:mod:`sim.safety`. Robot bodies are given a mass so that Bullet's broadphase pairs them (it skips
static-static pairs), but gravity is off and the world is never stepped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import pybullet as p

from sim.safety import DEFAULT_FOOTPRINT_RADIUS_M
from warehouse_maps.layout import Cell, Layout, PlaceKind

ROBOT_HEIGHT_M = 0.3
WALL_HEIGHT_M = 0.6

STATE_COLOURS: dict[str, tuple[float, float, float, float]] = {
    "idle": (0.55, 0.6, 0.65, 1.0),
    "driving": (0.1, 0.55, 0.95, 1.0),
    "busy": (0.95, 0.6, 0.1, 1.0),
    "loaded": (0.95, 0.45, 0.1, 1.0),
    "charging": (0.95, 0.85, 0.1, 1.0),
    "paused": (0.6, 0.3, 0.8, 1.0),
    "error": (0.9, 0.1, 0.1, 1.0),
    "offline": (0.2, 0.2, 0.2, 1.0),
}
"""Robot colour by state name (states outside the table are drawn as ``idle``)."""

PLACE_COLOURS: dict[PlaceKind, tuple[float, float, float, float]] = {
    PlaceKind.STORAGE: (0.72, 0.55, 0.35, 1.0),
    PlaceKind.PICK_STATION: (0.2, 0.4, 0.9, 1.0),
    PlaceKind.INDUCT: (0.2, 0.75, 0.3, 1.0),
    PlaceKind.CHUTE: (0.3, 0.3, 0.35, 1.0),
    PlaceKind.CHARGER: (0.95, 0.85, 0.2, 1.0),
    PlaceKind.PARKING: (0.82, 0.82, 0.86, 1.0),
}


@dataclass(frozen=True, slots=True)
class RobotBody:
    """A robot's PyBullet body and its last drawn colour state."""

    robot_id: str
    body_id: int


def _runs(cells: Iterable[Cell]) -> list[tuple[int, int, int]]:
    """Row-wise runs of cells as ``(y, x_start, length)``, in a stable order."""
    by_row: dict[int, list[int]] = {}
    for x, y in cells:
        by_row.setdefault(y, []).append(x)
    runs: list[tuple[int, int, int]] = []
    for y in sorted(by_row):
        xs = sorted(set(by_row[y]))
        start = prev = xs[0]
        for x in xs[1:]:
            if x != prev + 1:
                runs.append((y, start, prev - start + 1))
                start = x
            prev = x
        runs.append((y, start, prev - start + 1))
    return runs


def _rectangles(cells: Iterable[Cell]) -> list[tuple[int, int, int, int]]:
    """Row runs merged downwards into rectangles ``(y_top, x_start, width, rows)`` (stable order)."""
    open_rects: dict[tuple[int, int], list[int]] = {}
    done: list[tuple[int, int, int, int]] = []
    last_y: int | None = None
    for y, x0, n in _runs(cells):
        if last_y is not None and y != last_y:
            for key in [k for k, r in open_rects.items() if r[0] + r[1] != y]:
                top, rows = open_rects.pop(key)
                done.append((top, key[0], key[1], rows))
        last_y = y
        rect = open_rects.get((x0, n))
        if rect is not None and rect[0] + rect[1] == y:
            rect[1] += 1
        else:
            if rect is not None:
                done.append((rect[0], x0, n, rect[1]))
            open_rects[(x0, n)] = [y, 1]
    done.extend((r[0], key[0], key[1], r[1]) for key, r in open_rects.items())
    return sorted(done)


class World:
    """A PyBullet scene for one layout.

    Args:
        layout: the floor to build.
        gui: open PyBullet's own window (``p.GUI``) instead of the headless ``p.DIRECT``.
        footprint_radius_m: robot disc radius (also used by the safety check).
    """

    def __init__(
        self, layout: Layout, *, gui: bool = False, footprint_radius_m: float = DEFAULT_FOOTPRINT_RADIUS_M
    ) -> None:
        self.layout = layout
        self.gui = gui
        self.footprint_radius_m = footprint_radius_m
        self.client = p.connect(p.GUI if gui else p.DIRECT)
        if gui:
            p.configureDebugVisualizer(p.COV_ENABLE_GUI, 0, physicsClientId=self.client)
            p.configureDebugVisualizer(p.COV_ENABLE_SHADOWS, 0, physicsClientId=self.client)
            # off while the scene is built: the first batch() turns it on (see batch)
            p.configureDebugVisualizer(p.COV_ENABLE_RENDERING, 0, physicsClientId=self.client)
        p.setGravity(0, 0, 0, physicsClientId=self.client)
        self._box_cache: dict[tuple[float, float, float, tuple[float, ...]], int] = {}
        self.robots: dict[str, RobotBody] = {}
        self._colour_of: dict[str, str] = {}
        self._body_to_robot: dict[int, str] = {}
        self._placed: dict[str, tuple[float, float, float]] = {}  # last pose given to each body
        self.chute_bodies: list[int] = []  # sorter chutes c001, c002... in order (sim.scene colours them)
        self._robot_visual = p.createVisualShape(
            p.GEOM_CYLINDER,
            radius=footprint_radius_m,
            length=ROBOT_HEIGHT_M,
            rgbaColor=STATE_COLOURS["idle"],
            physicsClientId=self.client,
        )
        self._robot_collision = p.createCollisionShape(
            p.GEOM_CYLINDER, radius=footprint_radius_m, height=ROBOT_HEIGHT_M, physicsClientId=self.client
        )
        self._build_scenery()

    # -- scenery ------------------------------------------------------------------------------

    def _box_visual(self, sx: float, sy: float, sz: float, rgba: Sequence[float]) -> int:
        key = (round(sx, 4), round(sy, 4), round(sz, 4), tuple(rgba))
        if key not in self._box_cache:
            self._box_cache[key] = p.createVisualShape(
                p.GEOM_BOX,
                halfExtents=[sx / 2, sy / 2, sz / 2],
                rgbaColor=list(rgba),
                physicsClientId=self.client,
            )
        return self._box_cache[key]

    def _static_box(
        self, x_m: float, y_m: float, sx: float, sy: float, sz: float, rgba: Sequence[float]
    ) -> int:
        return p.createMultiBody(
            baseMass=0,
            baseCollisionShapeIndex=-1,
            baseVisualShapeIndex=self._box_visual(sx, sy, sz, rgba),
            basePosition=[x_m, y_m, sz / 2],
            physicsClientId=self.client,
        )

    def _cell_runs(
        self, cells: Iterable[Cell], height_m: float, rgba: Sequence[float], inset_m: float
    ) -> int:
        s = self.layout.cell_size_m
        count = 0
        for y, x0, n, rows in _rectangles(cells):
            cx = (x0 + n / 2) * s
            cy = -(y + rows / 2) * s
            self._static_box(cx, cy, n * s - inset_m, rows * s - inset_m, height_m, rgba)
            count += 1
        return count

    def _build_scenery(self) -> None:
        layout, s = self.layout, self.layout.cell_size_m
        grid = layout.grid
        w_m, h_m = grid.width * s, grid.height * s
        self._static_box(w_m / 2, -h_m / 2, w_m, h_m, 0.01, (0.93, 0.93, 0.9, 1.0))
        fixtures = {pl.fixture for pl in layout.places if pl.fixture is not None}
        walls = [
            (x, y)
            for y in range(grid.height)
            for x in range(grid.width)
            if not grid.passable[y, x] and (x, y) not in fixtures
        ]
        self.scenery_bodies = self._cell_runs(walls, WALL_HEIGHT_M, (0.45, 0.47, 0.5, 1.0), 0.0)
        for kind, rgba in PLACE_COLOURS.items():
            places = layout.of_kind(kind)
            if not places:
                continue
            height = 0.04 if kind in (PlaceKind.STORAGE, PlaceKind.PARKING) else 0.06
            self.scenery_bodies += self._cell_runs([pl.cell for pl in places], height, rgba, 0.1)
            holes = [pl.fixture for pl in places if pl.fixture is not None]
            if holes:
                self.scenery_bodies += self._cell_runs(holes, 0.3, (0.15, 0.15, 0.2, 1.0), 0.15)
        self._build_sorter_loop()

    def _build_sorter_loop(self) -> None:
        """A conveyor loop south of the floor when the layout's equipment names a sorter."""
        sorter = self.layout.equipment.get("sorter") if self.layout.equipment else None
        if not sorter:
            return
        length_m = float(sorter.get("loop_length_m", 200.0))
        w_m = self.layout.grid.width * self.layout.cell_size_m
        long_m = min(w_m * 0.8, length_m / 2 - 4.0)
        short_m = max(2.0, length_m / 2 - long_m)
        y0 = -self.layout.grid.height * self.layout.cell_size_m - 2.0 - short_m / 2
        x0 = w_m / 2
        belt = (0.35, 0.35, 0.4, 1.0)
        for dy in (-short_m / 2, short_m / 2):
            self._static_box(x0, y0 + dy, long_m, 1.0, 0.5, belt)
        for dx in (-long_m / 2, long_m / 2):
            self._static_box(x0 + dx, y0, 1.0, short_m, 0.5, belt)
        chutes = int(sorter.get("chutes", 0))
        for k in range(min(chutes, 200)):
            side = -1 if k % 2 == 0 else 1
            x = x0 - long_m / 2 + (k // 2 + 0.5) * long_m / max(1, (chutes + 1) // 2)
            self.chute_bodies.append(
                self._static_box(x, y0 + side * (short_m / 2 + 1.0), 0.5, 0.8, 0.3, (0.25, 0.6, 0.3, 1.0))
            )

    # -- robots -------------------------------------------------------------------------------

    def add_robot(self, robot_id: str, x_m: float, y_m: float, theta_rad: float = 0.0) -> int:
        """Create a robot body (sharing the robot shapes) and return its body id."""
        body = p.createMultiBody(
            baseMass=1.0,
            baseCollisionShapeIndex=self._robot_collision,
            baseVisualShapeIndex=self._robot_visual,
            basePosition=[x_m, y_m, ROBOT_HEIGHT_M / 2 + 0.02],
            baseOrientation=p.getQuaternionFromEuler([0, 0, theta_rad]),
            physicsClientId=self.client,
        )
        self.robots[robot_id] = RobotBody(robot_id, body)
        self._body_to_robot[body] = robot_id
        self._colour_of[robot_id] = "idle"
        self._placed[robot_id] = (x_m, y_m, theta_rad)
        return body

    def set_pose(self, robot_id: str, x_m: float, y_m: float, theta_rad: float) -> None:
        """Move a robot body (kinematic); a robot standing where it was placed last is left alone."""
        pose = (x_m, y_m, theta_rad)
        if self._placed.get(robot_id) == pose:
            return
        self._placed[robot_id] = pose
        p.resetBasePositionAndOrientation(
            self.robots[robot_id].body_id,
            [x_m, y_m, ROBOT_HEIGHT_M / 2 + 0.02],
            p.getQuaternionFromEuler([0, 0, theta_rad]),
            physicsClientId=self.client,
        )

    def set_state(self, robot_id: str, state: str) -> None:
        """Colour a robot by state; only calls PyBullet when the colour changes."""
        colour = state if state in STATE_COLOURS else "idle"
        if self._colour_of.get(robot_id) == colour:
            return
        self._colour_of[robot_id] = colour
        p.changeVisualShape(
            self.robots[robot_id].body_id, -1, rgbaColor=STATE_COLOURS[colour], physicsClientId=self.client
        )

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Make many graphics changes with one redraw (in the GUI; a no-op headless).

        Why: PyBullet's GUI waits for its renderer after each body created or recoloured; with a
        software renderer (Xvfb, Mesa llvmpipe) on the fc floor that is 0.2 s per change, while
        200 changes with rendering off take 0.05 s.
        """
        if not self.gui:
            yield
            return
        p.configureDebugVisualizer(p.COV_ENABLE_RENDERING, 0, physicsClientId=self.client)
        try:
            yield
        finally:
            p.configureDebugVisualizer(p.COV_ENABLE_RENDERING, 1, physicsClientId=self.client)

    def robot_contacts(self) -> list[tuple[str, str]]:
        """Pairs of robots whose bodies touch now, by PyBullet's own contact query (sorted)."""
        p.performCollisionDetection(physicsClientId=self.client)
        pairs: set[tuple[str, str]] = set()
        for contact in p.getContactPoints(physicsClientId=self.client):
            a = self._body_to_robot.get(contact[1])
            b = self._body_to_robot.get(contact[2])
            if a is not None and b is not None and a != b and contact[8] < 0.0:
                pairs.add((a, b) if a < b else (b, a))
        return sorted(pairs)

    def body_count(self) -> int:
        """Bodies in the scene (to check that nothing leaks over a long run)."""
        return p.getNumBodies(physicsClientId=self.client)

    def extent_m(self) -> tuple[float, float, float, float]:
        """(x_min, y_min, x_max, y_max) of the drawn scene in metres, sorter loop included."""
        s = self.layout.cell_size_m
        w_m, h_m = self.layout.grid.width * s, self.layout.grid.height * s
        y_min = -h_m
        if self.layout.equipment and self.layout.equipment.get("sorter"):
            length_m = float(self.layout.equipment["sorter"].get("loop_length_m", 200.0))
            y_min -= 4.0 + max(2.0, length_m / 2 - min(w_m * 0.8, length_m / 2 - 4.0))
        return (0.0, y_min, w_m, 0.0)

    def close(self) -> None:
        """Disconnect from PyBullet (idempotent)."""
        if self.client >= 0 and p.isConnected(physicsClientId=self.client):
            p.disconnect(physicsClientId=self.client)
        self.client = -1


def heading_quaternion(theta_rad: float) -> tuple[float, float, float, float]:
    """Quaternion (x, y, z, w) for a rotation about z by ``theta_rad``."""
    return (0.0, 0.0, math.sin(theta_rad / 2), math.cos(theta_rad / 2))
