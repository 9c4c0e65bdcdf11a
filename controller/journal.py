"""Crash-safe journal of orders and trips in SQLite (WAL mode).

Why: a controller killed at any moment and restarted on the same database must finish every
accepted order exactly once: none lost, none done twice. Every change that matters is written
(and committed) before the messages that announce it leave the controller:

* ``order`` rows: the accepted payload and the latest status (received ... complete, refused);
* ``trip`` rows: assigned robot, stops finished, done or returned;
* a ``run`` counter: each start gets a new epoch, so order ids sent to vehicles never repeat
  across restarts (a vehicle would refuse an old ``orderId`` with a lower ``orderUpdateId``).

On start the controller reads unfinished orders back, re-creates their trips, skips trips
already done, and gives trips whose pod is already on a robot back to that robot.

WAL mode with ``synchronous=NORMAL`` keeps commits cheap (no fsync per transaction; a power cut
can lose the last commits but never corrupts the file; a killed process loses nothing).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (epoch INTEGER PRIMARY KEY AUTOINCREMENT, started TEXT);
CREATE TABLE IF NOT EXISTS orders (
    order_id TEXT PRIMARY KEY, status TEXT NOT NULL, payload TEXT, reason TEXT, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS trips (
    trip_id TEXT PRIMARY KEY, order_id TEXT, status TEXT NOT NULL, robot TEXT,
    stops_done INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS units (label TEXT PRIMARY KEY, order_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    item_id TEXT PRIMARY KEY, sorter_id TEXT NOT NULL, label TEXT NOT NULL, order_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS items_by_order ON items (order_id);
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT, key TEXT, status TEXT);
"""


class Journal:
    """An open journal database.

    Args:
        path: the SQLite file (created if missing); ``":memory:"`` for tests.
        keep_events: also append every record to an ``events`` table (audit trail).
    """

    def __init__(self, path: str | Path, *, keep_events: bool = True) -> None:
        self.path = str(path)
        self._db = sqlite3.connect(self.path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self.keep_events = keep_events
        self._seq = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM orders").fetchone()[0]
        cur = self._db.execute("INSERT INTO runs (started) VALUES (datetime('now'))")
        self.epoch = int(cur.lastrowid)

    def journal_mode(self) -> str:
        """The SQLite journal mode in force (``wal``)."""
        return str(self._db.execute("PRAGMA journal_mode").fetchone()[0])

    def record(self, kind: str, key: str, status: str, **extra: str) -> None:
        """Write one change, committed before this returns.

        ``kind`` ``order``: status of an order (``payload`` on first acceptance, ``reason``).
        ``kind`` ``trip``: ``assigned:<robot>``, ``stop<k>`` (stop k finished), ``done``, ``returned``.
        ``kind`` ``unit``: a unit label (``order/line/unit``) sorted into a chute (``order_id`` given).
        ``kind`` ``item``: a sorter's item id carrying a unit label went on the line (``sorter_id``,
        ``label``, ``order_id`` given), so a restarted controller can credit its divert confirm.
        """
        db = self._db
        db.execute("BEGIN")
        try:
            if kind == "order":
                self._seq += 1
                db.execute(
                    "INSERT INTO orders (order_id, status, payload, reason, seq) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT(order_id) DO UPDATE SET status = excluded.status, "
                    "reason = excluded.reason, payload = COALESCE(excluded.payload, orders.payload)",
                    (key, status, extra.get("payload"), extra.get("reason", ""), self._seq),
                )
            elif kind == "unit":
                db.execute(
                    "INSERT OR IGNORE INTO units (label, order_id) VALUES (?, ?)", (key, extra["order_id"])
                )
            elif kind == "item":
                db.execute(
                    "INSERT OR REPLACE INTO items (item_id, sorter_id, label, order_id) VALUES (?, ?, ?, ?)",
                    (key, extra["sorter_id"], extra["label"], extra["order_id"]),
                )
            elif kind == "trip":
                order_id = key.split("#", 1)[0]
                db.execute(
                    "INSERT OR IGNORE INTO trips (trip_id, order_id, status) VALUES (?, ?, 'open')",
                    (key, order_id),
                )
                if status.startswith("assigned:"):
                    db.execute(
                        "UPDATE trips SET status = 'assigned', robot = ?, stops_done = 0 WHERE trip_id = ?",
                        (status.split(":", 1)[1], key),
                    )
                elif status.startswith("stop"):
                    db.execute(
                        "UPDATE trips SET stops_done = MAX(stops_done, ?) WHERE trip_id = ?",
                        (int(status[4:]) + 1, key),
                    )
                elif status in ("done", "returned"):
                    db.execute(
                        "UPDATE trips SET status = ?, robot = NULL, stops_done = "
                        "CASE WHEN ? = 'returned' THEN 0 ELSE stops_done END WHERE trip_id = ?",
                        (status, status, key),
                    )
            if self.keep_events:
                db.execute("INSERT INTO events (kind, key, status) VALUES (?, ?, ?)", (kind, key, status))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def open_orders(self) -> list[tuple[str, str, str]]:
        """(order_id, status, payload) of the orders not yet complete, failed or refused, in
        acceptance order (a restart reads these only, however long the site has run)."""
        rows = self._db.execute(
            "SELECT order_id, status, COALESCE(payload, '') FROM orders "
            "WHERE status NOT IN ('complete', 'failed', 'refused') ORDER BY seq, order_id"
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def has_order(self, order_id: str) -> bool:
        """True when ``order_id`` was ever received (duplicate check of old orders)."""
        row = self._db.execute("SELECT 1 FROM orders WHERE order_id = ?", (order_id,)).fetchone()
        return row is not None

    def sorted_units(self, order_id: str) -> set[str]:
        """Labels of ``order_id``'s units already sorted into a chute."""
        rows = self._db.execute("SELECT label FROM units WHERE order_id = ?", (order_id,))
        return {r[0] for r in rows}

    def items_on_line(self, order_id: str) -> list[tuple[str, str, str]]:
        """(sorter_id, item_id, label) of ``order_id``'s items put on the line whose label is not
        sorted yet: the ones a previous controller may have answered and the sorter will confirm."""
        rows = self._db.execute(
            "SELECT sorter_id, item_id, label FROM items WHERE order_id = ? "
            "AND label NOT IN (SELECT label FROM units WHERE order_id = ?) ORDER BY item_id",
            (order_id, order_id),
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def done_trips(self, order_id: str) -> set[str]:
        """Trip ids of ``order_id`` that are done."""
        rows = self._db.execute(
            "SELECT trip_id FROM trips WHERE order_id = ? AND status = 'done'", (order_id,)
        )
        return {r[0] for r in rows}

    def held_trips(self) -> dict[str, tuple[str, int]]:
        """trip_id -> (robot, stops done) for assigned trips with at least one stop done."""
        rows = self._db.execute(
            "SELECT trip_id, robot, stops_done FROM trips WHERE status = 'assigned' AND stops_done > 0"
        )
        return {r[0]: (r[1], int(r[2])) for r in rows}

    def status_counts(self) -> dict[str, int]:
        """Orders by status."""
        rows = self._db.execute("SELECT status, COUNT(*) FROM orders GROUP BY status ORDER BY status")
        return {r[0]: int(r[1]) for r in rows}

    def close(self) -> None:
        """Close the database (a killed process simply never calls this)."""
        self._db.close()
