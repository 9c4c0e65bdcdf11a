"""The controller's chute board (robotic sortation): a chute is chosen only while its bag has
room, a FULL chute is released only once nothing is on its way, and it opens again empty.

Floor (``H`` drop cells beside holes ``O``; the induct at x = 1)::

    @@@@@@@@@@
    @I.OH..OH@      CH1 at (4, 1), CH2 at (8, 1)
    @........@
    @@@@@@@@@@
"""

from __future__ import annotations

import pytest

from bus.sorter_protocol import ChuteRelease, decode, encode
from controller.tasks.chutes import ChuteBoard
from warehouse_maps.layout_yaml import parse_layout_yaml

ROWS = ["@@@@@@@@@@", "@I.OH..OH@", "@........@", "@@@@@@@@@@"]


TEXT = "format: bulletyard-layout/1\nname: t\nrows:\n" + "".join(f'  - "{r}"\n' for r in ROWS)
LAYOUT = parse_layout_yaml(TEXT, "t.yaml")
TABLE = LAYOUT.grid.distance_table((1, 1))  # path distance to every cell from the induct


@pytest.fixture
def board() -> ChuteBoard:
    return ChuteBoard(LAYOUT, capacity=2, destinations=1)


def test_nearest_open_chute_with_room_then_the_next(board: ChuteBoard) -> None:
    assert board.plan == {"D001": ("CH1", "CH2")}
    assert board.choose("D001", TABLE).chute == "CH1"
    board.commit("CH1")
    board.commit("CH1")
    assert board.choose("D001", TABLE).chute == "CH2"
    board.commit("CH2")
    board.commit("CH2")
    none = board.choose("D001", TABLE)
    assert none.chute is None
    assert not none.never
    assert none.reason == "every chute of D001 is unavailable (CH1 full, CH2 full)"
    unknown = board.choose("D404", TABLE)
    assert unknown.never
    assert unknown.reason == "no chute serves destination 'D404'"


def test_full_chute_is_released_only_after_the_last_parcel_on_its_way(board: ChuteBoard) -> None:
    board.commit("CH1")
    board.commit("CH1")
    assert board.tipped("CH1") == []
    assert board.on_state("CH1", "FULL") == []  # an operator asked early: one parcel still coming
    assert board.choose("D001", TABLE).chute == "CH2"
    assert board.tipped("CH1") == ["CH1"]  # the last one is in: release it (once)
    assert board.due_releases(["CH1"]) == []
    board.on_state("CH1", "CLOSED")
    assert board.choose("D001", TABLE).chute == "CH2"
    board.on_state("CH1", "OPEN")  # a fresh bag
    assert board.fill()["CH1"] == 0
    assert board.choose("D001", TABLE).chute == "CH1"


def test_chute_release_round_trips_on_the_wire() -> None:
    msg = ChuteRelease(header_id=3, timestamp="2026-11-11T00:00:00.000Z", sorter_id="robots", chute_id="CH7")
    assert decode("chuteRelease", encode(msg)) == msg
    assert b'"chuteId":"CH7"' in encode(msg)


def test_a_chute_whose_drop_cell_a_lost_robot_blocks_is_not_chosen(board: ChuteBoard) -> None:
    assert board.choose("D001", TABLE, frozenset({(4, 1)})).chute == "CH2"
    none = board.choose("D001", TABLE, frozenset({(4, 1), (8, 1)}))
    assert none.reason == ("every chute of D001 is unavailable "
                           "(CH1 unreachable or blocked, CH2 unreachable or blocked)")
