"""The scene marks (sim/scene.py) as TinyRenderer draws them, i.e. what --record and snapshot show:
heading, a pod riding on a robot that carries one, its path ahead, station queues.

small-fc, one robot in the open aisle at (10.5, -8.5); pictures of 160 x 100 px, cropped around it.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.record import render
from sim.scene import SceneMarks
from sim.trace import TraceFrame
from sim.world import World
from warehouse_maps.catalog import load_layout


@pytest.fixture
def scene():
    world = World(load_layout("small-fc"))
    world.add_robot("r1", 10.5, -8.5)
    yield world, SceneMarks(world)
    world.close()


def _picture(world: World, marks: SceneMarks, frame: TraceFrame, paths=None, pods=()) -> np.ndarray:
    marks.note(frame)
    for rid, (x, y, th) in frame.robots.items():
        world.set_pose(rid, x, y, th)
    marks.draw(frame, paths or {}, set(pods))
    return render(world, 320, 200).astype(int)


def test_heading_pod_and_path_change_the_picture(scene) -> None:
    world, marks = scene
    east = _picture(world, marks, TraceFrame(0.0, {"r1": (10.5, -8.5, 0.0)}))
    west = _picture(world, marks, TraceFrame(0.0, {"r1": (10.5, -8.5, np.pi)}))
    assert np.abs(east - west).sum() > 0  # the nose moved to the other side
    loaded = _picture(world, marks, TraceFrame(0.0, {"r1": (10.5, -8.5, np.pi)}), pods={"r1"})
    assert np.abs(loaded - west).sum() > np.abs(east - west).sum()  # a pod is bigger than a nose
    again = _picture(world, marks, TraceFrame(0.0, {"r1": (10.5, -8.5, np.pi)}))
    assert np.array_equal(again, west)  # set down: the pod is gone again
    ahead = _picture(world, marks, TraceFrame(0.0, {"r1": (10.5, -8.5, np.pi)}),
                     paths={"r1": [(9.5, -8.5), (8.5, -8.5), (7.5, -8.5)]})
    assert np.abs(ahead - west).sum() > 0


def test_queues_count_robots_heading_to_or_on_a_station(scene) -> None:
    world, marks = scene
    sid, cell = next(iter(sorted(marks.station_cells.items())))
    x, y = world.layout.cell_centre_m(cell)
    frame = TraceFrame(0.0, {"r1": (10.5, -8.5, 0.0), "r2": (x, y, 0.0), "r3": (12.5, -8.5, 0.0)})
    counts = marks.queues(frame, {"r1": [(9.5, -8.5), (x, y)], "r3": [(13.5, -8.5)]})
    assert counts[sid] == 2
    assert sum(counts.values()) == 2
