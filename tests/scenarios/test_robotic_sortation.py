"""Robotic sortation inside `bulletyard sim` (issue 20): every parcel ends in a chute of its
destination or fails with a reason, a closed chute never receives a parcel, one seed gives one
trace, and a bad parcel file is refused with one clear line (exit status 2).

A small floor drawn here keeps each run to a few seconds (sort-center is the same kind at full
size; bench/sortation.py runs it)::

    x 0123456789012345
    @@@@@@@@@@@@@@@@    I  inducts (I1 north-west, I2 south-west)
    @I.............@    O  chute holes; H the drop cell a robot tips from
    @..............@    6 chutes -> destinations D001, D002 (3 chutes each)
    @...OH..OH..OH.@
    @..............@
    @...OH..OH..OH.@
    @..............@
    @I.............@
    @KKKKKK..CC....@    K parking, C chargers
    @@@@@@@@@@@@@@@@
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bulletyard.cli import main
from bulletyard.runtime.sim_setup import SimOptions, Simulation
from sim.faults import fault_plan

ROWS = [
    "@@@@@@@@@@@@@@@@",
    "@I.............@",
    "@..............@",
    "@...OH..OH..OH.@",
    "@..............@",
    "@...OH..OH..OH.@",
    "@..............@",
    "@I.............@",
    "@KKKKKK..CC....@",
    "@@@@@@@@@@@@@@@@",
]


@pytest.fixture
def layout_file(tmp_path: Path) -> Path:
    path = tmp_path / "mini-sort.yaml"
    body = "\n".join(f'  - "{r}"' for r in ROWS)
    path.write_text(f'format: bulletyard-layout/1\nname: "mini-sort"\ncell_size_m: 1.0\nrows:\n{body}\n',
                    encoding="utf-8")
    return path


def parcel_file(tmp_path: Path, n: int = 30) -> Path:
    """``n`` parcels, one every 1.5 s, alternating destinations; p-bad goes to a destination with
    no chute."""
    lines = ["t_s,parcel_id,destination,induct"]
    lines += [f"{k * 1.5:.1f},p-{k:03d},D00{1 + k % 2},I{1 + (k // 2) % 2}" for k in range(n)]
    lines.append("5.0,p-bad,D999,I1")
    path = tmp_path / "parcels.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(layout: Path, out: Path, **kw) -> tuple[dict, Simulation]:
    options = SimOptions(**{"layout": str(layout), "robots": 5, "seed": 3, "out": out, "chute_capacity": 4,
                            "contacts": False, **kw})
    with Simulation(options) as sim:
        result = sim.run()
    assert result.exit_code == 0
    return result.summary, sim


def test_every_parcel_ends_in_a_chute_of_its_destination_or_fails_with_a_reason(
        layout_file: Path, tmp_path: Path) -> None:
    faults = fault_plan(None, [], None, ["CH2@20"])  # an operator asks to swap CH2's bag early
    summary, sim = run(layout_file, tmp_path / "a", parcel_file=str(parcel_file(tmp_path)), faults=faults)
    s = summary["sortation"]
    bank = sim.parcel_site.chutes
    plan = sim.controller.parcels.board.plan
    parcels = {p.parcel_id: p for p in sim.orders}
    assert s["parcels_arrived"] == len(parcels) == 31
    for pid, chute in bank.tipped.items():
        assert chute in plan[parcels[pid].destination], (pid, chute)
    assert set(bank.tipped) == set(parcels) - {"p-bad"}  # each tipped once: a dict, and counts agree
    assert bank.counts["sorted"] == s["parcels_sorted"] == 30
    assert s["parcels_failed_by_reason"] == {"no chute serves destination 'D999'": 1}
    assert s["chute_violations"] == {}  # no tip into a closed or released chute, none off a chute
    assert s["chute_bag_swaps"] >= 30 // 4 - 1  # bags of 4 filled and were swapped while parcels came
    assert bank.counts["operator_closes"] == 1
    assert s["parcels_per_hour"] > 0
    assert s["induct_to_chute_s"]["p50"] > 0
    assert summary["collisions"] == 0


@pytest.mark.parametrize(("kill_s", "sorted_n", "failed"), [
    (18, 30, {}),  # agv-0002 dies on induct I1: its queue is carried to I2, nothing strands
    (24, 29, {"robot lost with the parcel": 1}),  # it dies with p-001 on board: that one fails once
])                                                # lost_parcel_timeout_s (60 s) has passed
def test_a_lost_robot_strands_no_parcel(layout_file: Path, tmp_path: Path, kill_s: int, sorted_n: int,
                                        failed: dict) -> None:
    faults = fault_plan(None, [f"agv-0002@{kill_s}"], None, [])
    summary, sim = run(layout_file, tmp_path / "k", parcel_file=str(parcel_file(tmp_path)), faults=faults)
    s = summary["sortation"]
    assert s["parcels_sorted"] == sorted_n
    assert s["parcels_failed_by_reason"] == {"no chute serves destination 'D999'": 1, **failed}
    assert s["parcels_sorted"] + s["parcels_failed"] == s["parcels_arrived"]  # none left waiting
    assert s["chute_violations"] == {}
    if kill_s == 18:
        assert s["controller"]["counts"]["moved_from_blocked_induct"] > 0
    else:  # p-001 waited for its robot (the timing: tests/unit/controller/test_controller_parcel_lost.py)
        assert s["controller"]["counts"]["lost_with_robot"] == 1
        assert "back_with_robot" not in s["controller"]["counts"]


def test_a_robot_silent_with_a_parcel_on_board_comes_back_and_it_is_sorted_once(
        layout_file: Path, tmp_path: Path) -> None:
    """agv-0002 has p-001 on board at 24 s; it is not heard from 24 s to 120 s (it drives on): lost
    after ``fleet.no_progress_timeout_s`` (60 s), back at 120 s, within ``lost_parcel_timeout_s`` (60 s)
    of its loss. p-001 is sorted once (the chute's SORTED), never rejected."""
    faults = fault_plan(None, [], None, [], ["agv-0002@24-120"])
    summary, sim = run(layout_file, tmp_path / "q", parcel_file=str(parcel_file(tmp_path)), faults=faults)
    s = summary["sortation"]
    counts = s["controller"]["counts"]
    assert counts["lost_with_robot"] == 1
    assert counts["back_with_robot"] == 1
    assert s["controller"]["on_lost_robots"] == 0
    assert sim.controller.counters["lost_no-progress"] == 1  # no state, no progress: 60 s, before 65
    assert s["parcels_failed_by_reason"] == {"no chute serves destination 'D999'": 1}
    assert s["parcels_sorted"] == 30
    assert s["parcels_sorted"] + s["parcels_failed"] == s["parcels_arrived"]  # one outcome each
    assert "p-001" in sim.parcel_site.chutes.tipped
    assert sim.parcel_site.chutes.counts["sorted"] == 30  # each parcel's SORTED once
    assert s["chute_violations"] == {}
    assert summary["collisions"] == 0


def test_a_closed_chute_never_receives_a_parcel(layout_file: Path, tmp_path: Path) -> None:
    """Generated feed above the fleet's capacity, bags of 3: many swaps, each chute checked by the
    chute bank itself (it counts any parcel that falls into a chute it has closed)."""
    summary, sim = run(layout_file, tmp_path / "b", orders=40, rate_per_h=3600.0, chute_capacity=3)
    s = summary["sortation"]
    assert s["chute_bag_swaps"] >= 8
    assert s["chute_violations"] == {}
    assert s["parcels_sorted"] == 40


def test_robots_pass_an_induct_one_way(layout_file: Path, tmp_path: Path) -> None:
    """I2 (south-west, against the west wall) runs one way along the wall: every robot that is on it
    came from its entry cell and leaves by its exit, never back the way it came (read from the
    robots' positions in the trace, a frame every 0.25 s). I1 sits in a corner: no straight pair."""
    summary, sim = run(layout_file, tmp_path / "w", orders=40, rate_per_h=3600.0)
    (lane,) = sim.controller.induct_lanes
    assert lane.induct == (1, 7)
    assert {lane.entry, lane.exit} == {(1, 6), (1, 8)}
    cells: dict[str, list[tuple[int, int]]] = {}
    for line in (tmp_path / "w" / "trace.jsonl").read_text(encoding="utf-8").splitlines():
        for robot, (x, y, _) in json.loads(line)["robots"].items():
            seen = cells.setdefault(robot, [])
            cell = (int(x // 1.0), int(-y // 1.0))
            if not seen or seen[-1] != cell:
                seen.append(cell)
    passes = [(seq[k - 1], seq[k + 1]) for seq in cells.values() for k in range(1, len(seq) - 1)
              if seq[k] == lane.induct]
    assert len(passes) >= 5
    assert all(p == (lane.entry, lane.exit) for p in passes), passes
    assert summary["collisions"] == 0


def test_same_seed_same_trace_other_seed_differs(layout_file: Path, tmp_path: Path) -> None:
    kw = {"orders": 12, "rate_per_h": 3600.0}
    run(layout_file, tmp_path / "s1", **kw)
    run(layout_file, tmp_path / "s2", **kw)
    run(layout_file, tmp_path / "s3", **{**kw, "seed": 4})
    trace = [(tmp_path / d / "trace.jsonl").read_bytes() for d in ("s1", "s2", "s3")]
    assert trace[0] == trace[1]
    assert trace[0] != trace[2]


@pytest.mark.parametrize(("text", "expect"), [
    ("t_s,parcel_id,destination\nsoon,p-1,D001\n", "parcels.csv:2: time 'soon' is not a number of seconds"),
    ("0,p-1,D001\n1,p-1,D002\n", "parcels.csv:2: duplicate parcel id 'p-1'"),
    ("0,p-1\n", "parcels.csv:1: expected t_s, parcel id, destination[, induct]"),
    ("0,p-1,D001,I9\n", "parcels.csv:1: induct 'I9' is not one of I1, I2"),
    ('{"t_s": 1, "parcelId": "p-1"\n', "parcels.csv:1: not JSON"),
    ("", "parcels.csv: no parcels"),
])
def test_bad_parcel_file_exits_2_with_one_line(layout_file: Path, tmp_path: Path, capsys, text: str,
                                               expect: str) -> None:
    path = tmp_path / "parcels.csv"
    path.write_text(text, encoding="utf-8")
    status = main(["sim", "--layout", str(layout_file), "--robots", "2", "--parcel-file", str(path),
                   "--out", str(tmp_path / "run"), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    assert expect in err


def test_summary_is_json_with_the_sortation_block(layout_file: Path, tmp_path: Path) -> None:
    run(layout_file, tmp_path / "j", orders=6, rate_per_h=3600.0)
    s = json.loads((tmp_path / "j" / "summary.json").read_text())["sortation"]
    assert set(s["bound_parcels_per_hour"]) == {"inducts", "fleet", "bound"}
    assert s["bound_parcels_per_hour"]["inducts"] == 2 * 3600 / s["load_s"]


MIXED = [
    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@",
    "@.....KKKKKKKKKK.............@",
    "@............................@",
    "@S.....PP.PP.PP..............@",
    "@......PP.PP.PP...OH..OH..OH.@",
    "@I.....PP.PP.PP..............@",
    "@......PP.PP.PP...OH..OH..OH.@",
    "@S.....PP.PP.PP..............@",
    "@I...........................@",
    "@.....KKKKKKKKKK........CC...@",
    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@",
]
"""A mixed site: pods (P) picked at stations (S); each order picked becomes a parcel at the induct
(I) nearest its station and is complete once a robot has tipped it into a chute of its destination."""


def mixed_layout(tmp_path: Path) -> Path:
    path = tmp_path / "mixed.yaml"
    path.write_text('format: bulletyard-layout/1\nname: "mixed"\nrows:\n'
                    + "".join(f'  - "{r}"\n' for r in MIXED), encoding="utf-8")
    return path


def test_mixed_site_orders_picked_become_parcels_and_complete_when_sorted(tmp_path: Path) -> None:
    path = mixed_layout(tmp_path)
    summary, sim = run(path, tmp_path / "m", robots=4, orders=6, rate_per_h=1200.0)
    assert summary["orders_completed"] == 6  # complete = picked and then sorted by a robot
    s = summary["sortation"]
    assert s["parcels_sorted"] == 6
    assert s["chute_violations"] == {}
    plan = sim.controller.parcels.board.plan
    for order in sim.orders:
        assert sim.parcel_site.chutes.tipped[f"{order.order_id}/parcel"] in plan[order.destination]
    assert summary["order_lines_per_hour"] > 0
    assert summary["sorter_counts"] == {}  # the robots' tips are parcels, not conveyor-sorter results


def test_mixed_site_order_fails_once_its_parcel_waited_for_a_lost_robot(tmp_path: Path) -> None:
    """agv-0004 dies at 130 s with o-000001's parcel on board: the order fails with the reason once
    ``lost_parcel_timeout_s`` (20 s here) has passed, never completes; the others complete."""
    path = mixed_layout(tmp_path)
    summary, sim = run(path, tmp_path / "m", robots=4, orders=6, rate_per_h=1200.0,
                       faults=fault_plan(None, ["agv-0004@130"], None, []),
                       sortation_settings=(("lost_parcel_timeout_s", 20.0),))
    why = "robot agv-0004 was lost with the parcel on board, not back within 20 s"
    assert summary["orders_completed"] == 5
    assert summary["orders_failed_by_reason"] == {f"failed: its parcel: {why}": 1}  # on the wire
    assert "o-000001/parcel" not in sim.parcel_site.chutes.tipped
    assert summary["sortation"]["chute_violations"] == {}



def test_a_robot_silenced_on_the_full_floor_leaves_every_other_trip_whole(tmp_path: Path) -> None:
    """A lost robot makes every plan be cut back to what is released; a robot resynchronised before
    (its done stops dropped from its plan record) was sent back to a stop it had done, and the
    second load of the same parcel stopped the run with a ValueError."""
    options = SimOptions(layout="sort-center", robots=60, orders=400, rate_per_h=6000.0, until_s=300.0,
                         seed=1, out=tmp_path / "s", contacts=False,
                         faults=fault_plan(None, [], None, [], ["agv-0005@60-150"]))
    with Simulation(options) as sim:
        result = sim.run()
    assert result.exit_code == 0
    s = result.summary["sortation"]
    assert result.summary["collisions"] == 0
    assert s["chute_violations"] == {}
    assert s["parcels_sorted"] > 100
