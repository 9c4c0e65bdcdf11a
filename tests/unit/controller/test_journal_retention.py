"""The journal stays bounded over months and answers the controller's queries from indexes.

Retention keeps every record of an open order (a restarted controller needs them; the restart
test in ``test_controller_restart.py`` runs with the most aggressive retention too) and drops the
audit trail by count and by age, and finished orders' trips, units, items and payload.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from controller.journal import QUERIES, Journal, Retention


def _order(j: Journal, order_id: str, *, finish: str | None = None) -> None:
    """An order with two trips (one done, one holding its pod after stop 0), a unit sorted and an
    item on the line; ``finish`` gives it that final status afterwards."""
    j.record("order", order_id, "received", payload=json.dumps({"orderId": order_id}))
    j.record("trip", f"{order_id}#0", "assigned:agv-0001")
    j.record("trip", f"{order_id}#0", "stop0")
    j.record("trip", f"{order_id}#0", "done")
    j.record("trip", f"{order_id}#1", "assigned:agv-0002")
    j.record("trip", f"{order_id}#1", "stop0")
    j.record("unit", f"{order_id}/0/0", "sorted", order_id=order_id)
    j.record("item", f"itm-{order_id}", "inducted", sorter_id="sorter-1", label=f"{order_id}/1/0",
             order_id=order_id)
    if finish is not None:
        j.record("order", order_id, finish)


def test_events_are_bounded_by_count(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.sqlite", retention=Retention(events_max_rows=50, sweep_every=10))
    for k in range(100):
        _order(j, f"o{k}", finish="complete")
    assert 50 <= j.event_count() <= 50 + 10  # at most one sweep interval over the bound
    assert j.status_counts() == {"complete": 100}  # counts stay exact: order rows are kept


def test_events_are_bounded_by_age(tmp_path: Path) -> None:
    db = tmp_path / "j.sqlite"
    j = Journal(db, retention=Retention(events_max_rows=None, events_max_age_s=3600.0, sweep_every=10**6))
    _order(j, "old", finish="complete")
    old_events = j.event_count()
    with sqlite3.connect(db) as other:  # a month passes: the first order's events are 31 days old
        other.execute("UPDATE events SET ts = ts - 31 * 86400")
    _order(j, "new")
    assert j.event_count() == old_events + 8
    gone = j.sweep()
    assert gone["events"] == old_events
    assert j.event_count() == 8


@pytest.mark.parametrize(("old_upto", "gap"), [(20, (15, 25)), (20, (21, 30)), (0, (5, 9)), (50, (1, 3))])
def test_age_cut_finds_the_boundary_across_gaps(tmp_path: Path, old_upto: int, gap: tuple[int, int]) -> None:
    """The age cut is a binary search over seq: deleted ranges (earlier sweeps) must not fool it."""
    db = tmp_path / "j.sqlite"
    j = Journal(db, keep_events=True,
                retention=Retention(events_max_rows=None, events_max_age_s=86400.0, sweep_every=10**6))
    for k in range(50):
        j.record("order", f"o{k}", "received", payload="{}")
    with sqlite3.connect(db) as other:
        other.execute("UPDATE events SET ts = ts - 31 * 86400 WHERE seq <= ?", (old_upto,))
        other.execute("DELETE FROM events WHERE seq BETWEEN ? AND ?", gap)
    j.sweep()
    with sqlite3.connect(db) as other:
        left = [r[0] for r in other.execute("SELECT seq FROM events ORDER BY seq")]
    assert left == [s for s in range(1, 51) if s > old_upto and not gap[0] <= s <= gap[1]]


def test_retention_keeps_open_orders_records_and_drops_finished_details(tmp_path: Path) -> None:
    db = tmp_path / "j.sqlite"
    j = Journal(db, retention=Retention(events_max_rows=0, events_max_age_s=0.0, sweep_every=10**6))
    _order(j, "open-1")
    _order(j, "done-1", finish="complete")
    _order(j, "failed-1", finish="failed")
    _order(j, "open-2")
    before = {oid: (j.done_trips(oid), j.sorted_units(oid), j.items_on_line(oid))
              for oid in ("open-1", "open-2")}
    held_before = j.held_trips()
    gone = j.sweep()
    assert gone == {"events": 4 * 8 + 2, "trips": 4, "units": 2, "items": 2}
    assert j.event_count() == 0
    j.close()

    again = Journal(db)  # a restart reads exactly what it read before the sweep, for open orders
    assert [oid for oid, _, _ in again.open_orders()] == ["open-1", "open-2"]
    assert all(payload for _, _, payload in again.open_orders())
    for oid, (done, units, items) in before.items():
        assert again.done_trips(oid) == done == {f"{oid}#0"}
        assert again.sorted_units(oid) == units == {f"{oid}/0/0"}
        assert again.items_on_line(oid) == items == [("sorter-1", f"itm-{oid}", f"{oid}/1/0")]
    assert again.held_trips() == {k: v for k, v in held_before.items() if k.startswith("open-")}
    assert set(again.held_trips()) == {"open-1#1", "open-2#1"}
    # finished orders: still known (a replayed orderId is refused) and counted; their details gone
    assert again.has_order("done-1")
    assert again.has_order("failed-1")
    assert again.status_counts() == {"complete": 1, "failed": 1, "received": 2}
    assert again.done_trips("done-1") == set()
    assert again.sorted_units("done-1") == set()
    with sqlite3.connect(db) as other:
        payloads = dict(other.execute("SELECT order_id, payload FROM orders").fetchall())
    assert payloads["done-1"] is None
    assert payloads["failed-1"] is None


def test_a_journal_written_before_retention_opens_and_sweeps(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite"
    with sqlite3.connect(db) as old:  # the events table as it was, without a time stamp
        old.execute("CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT, key TEXT, "
                    "status TEXT)")
        old.executemany("INSERT INTO events (kind, key, status) VALUES ('order', ?, 'received')",
                        [(f"o{k}",) for k in range(5)])
    j = Journal(db, retention=Retention(events_max_rows=None, events_max_age_s=86400.0))
    j.record("order", "o9", "received", payload="{}")
    assert j.sweep()["events"] == 5  # unstamped rows count as old
    assert j.event_count() == 1


def test_bad_retention_is_refused() -> None:
    with pytest.raises(ValueError, match="events_max_rows"):
        Retention(events_max_rows=-1)
    with pytest.raises(ValueError, match="sweep_every"):
        Retention(sweep_every=0)


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_hot_query_uses_an_index(tmp_path: Path, name: str) -> None:
    """EXPLAIN QUERY PLAN of every query the controller runs: no full scan of a table.

    The journal holds a long history (many finished orders, few open) as at a site after months;
    every step of the plan must search or scan an index, never the table itself.
    """
    j = Journal(tmp_path / "j.sqlite", keep_events=False,
                retention=Retention(events_max_rows=None, events_max_age_s=None, sweep_every=10**6))
    for k in range(300):
        _order(j, f"o{k}", finish="complete" if k % 10 else None)
    plan = j.query_plan(name)
    assert plan, name
    for step in plan:
        if step.startswith(("SEARCH", "SCAN")):
            uses_index = "USING" in step and ("INDEX" in step or "PRIMARY KEY" in step)
            assert uses_index, f"{name}: {step!r} reads a table without an index ({plan})"
