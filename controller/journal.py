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

A site runs for months, so the file must not grow without end (:class:`Retention`). Every
``sweep_every`` records the journal deletes ``events`` rows beyond the newest ``events_max_rows``
and those older than ``events_max_age_s`` (stamped with the database's UTC clock, found by a
binary search over the sequence number; the audit trail is the only thing that reads it), and
drops what only a restart of an *open* order needs from orders that reached a final status: their
trips, units and items rows and their payload. The ``orders`` row itself (id, status, reason:
some 100 bytes) stays, so an old ``orderId`` sent again is still refused as a duplicate and the
status counts stay exact. Open orders keep every
record: the sweep never touches them.

Every query the controller runs is served by an index (``tests/unit/controller/
test_journal_retention.py`` reads the query plans), so a restart after months of history reads
only the open orders' rows.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

FINAL = "('complete', 'failed', 'refused')"
"""The order statuses after which nothing about the order is read back (SQL list)."""

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

MIGRATIONS = (
    # events of journals written before retention have no time stamp: they count as old as the file
    ("events", "ts", "ALTER TABLE events ADD COLUMN ts REAL NOT NULL DEFAULT 0"),
)

INDEXES = f"""
CREATE INDEX IF NOT EXISTS orders_open ON orders (seq, order_id) WHERE status NOT IN {FINAL};
CREATE INDEX IF NOT EXISTS orders_by_status ON orders (status);
CREATE INDEX IF NOT EXISTS trips_by_order ON trips (order_id, status);
CREATE INDEX IF NOT EXISTS trips_by_status ON trips (status, stops_done);
CREATE INDEX IF NOT EXISTS units_by_order ON units (order_id, label);
"""

QUERIES = {
    "has_order": "SELECT 1 FROM orders WHERE order_id = ?",
    "open_orders": "SELECT order_id, status, COALESCE(payload, '') FROM orders "
    f"WHERE status NOT IN {FINAL} ORDER BY seq, order_id",
    "done_trips": "SELECT trip_id FROM trips WHERE order_id = ? AND status = 'done'",
    "held_trips": "SELECT trip_id, robot, stops_done FROM trips WHERE status = 'assigned' AND stops_done > 0",
    "sorted_units": "SELECT label FROM units WHERE order_id = ?",
    "items_on_line": "SELECT sorter_id, item_id, label FROM items WHERE order_id = ? "
    "AND label NOT IN (SELECT label FROM units WHERE order_id = ?) ORDER BY item_id",
    "status_counts": "SELECT status, COUNT(*) FROM orders GROUP BY status ORDER BY status",
}
"""The queries a controller runs on the journal, by method (each served by an index)."""

NOW_S = "(julianday('now') - 2440587.5) * 86400.0"
"""SQLite's UTC clock in Unix seconds: stamps audit events for age-based retention only."""


@dataclass(frozen=True, slots=True)
class Retention:
    """How much history the journal keeps (see the module docstring).

    The default keeps 30 days and at most two million events (about 150 MB with their index):
    a month of audit trail at a busy site, while the file stays bounded at any order rate.

    Attributes:
        events_max_rows: newest events kept (None: no limit by count).
        events_max_age_s: events younger than this kept, in seconds (None: no limit by age).
        sweep_every: records between two sweeps (a sweep is a few indexed deletes).
    """

    events_max_rows: int | None = 2_000_000
    events_max_age_s: float | None = 30 * 86400.0
    sweep_every: int = 1000

    def __post_init__(self) -> None:
        if self.events_max_rows is not None and self.events_max_rows < 0:
            raise ValueError(f"events_max_rows must be >= 0 (got {self.events_max_rows})")
        if self.events_max_age_s is not None and self.events_max_age_s < 0:
            raise ValueError(f"events_max_age_s must be >= 0 (got {self.events_max_age_s})")
        if self.sweep_every < 1:
            raise ValueError(f"sweep_every must be >= 1 (got {self.sweep_every})")


class Journal:
    """An open journal database.

    Args:
        path: the SQLite file (created if missing); ``":memory:"`` for tests.
        keep_events: also append every record to an ``events`` table (audit trail).
        retention: how much history to keep (default :class:`Retention`).
    """

    def __init__(
        self, path: str | Path, *, keep_events: bool = True, retention: Retention | None = None
    ) -> None:
        self.path = str(path)
        self._db = sqlite3.connect(self.path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        for table, column, ddl in MIGRATIONS:
            if column not in {r[1] for r in self._db.execute(f"PRAGMA table_info({table})")}:
                self._db.execute(ddl)
        self._db.executescript(INDEXES)
        self.keep_events = keep_events
        self.retention = retention or Retention()
        self._since_sweep = 0
        self._seq = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM orders").fetchone()[0]
        cur = self._db.execute("INSERT INTO runs (started) VALUES (datetime('now'))")
        if cur.lastrowid is None:  # sqlite3 sets it after every INSERT
            raise RuntimeError("SQLite gave no row id for the new run")
        self.epoch = cur.lastrowid

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
                    "reason = excluded.reason, "
                    # a finished order's payload is never read again (a restart reads open ones)
                    f"payload = CASE WHEN excluded.status IN {FINAL} THEN NULL "
                    "ELSE COALESCE(excluded.payload, orders.payload) END",
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
                db.execute(f"INSERT INTO events (kind, key, status, ts) VALUES (?, ?, ?, {NOW_S})",
                           (kind, key, status))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._since_sweep += 1
        if self._since_sweep >= self.retention.sweep_every:
            self.sweep()

    def sweep(self) -> dict[str, int]:
        """Apply :attr:`retention` now (``record`` calls this every ``sweep_every`` records).

        Returns:
            rows deleted (or payloads dropped) per table, for logs and tests.
        """
        r, db = self.retention, self._db
        self._since_sweep = 0
        gone: dict[str, int] = {}
        open_ids = f"SELECT order_id FROM orders WHERE status NOT IN {FINAL}"
        db.execute("BEGIN")
        try:
            if r.events_max_rows is not None:
                cur = db.execute("DELETE FROM events WHERE seq <= (SELECT MAX(seq) FROM events) - ?",
                                 (r.events_max_rows,))
                gone["events"] = cur.rowcount
            if r.events_max_age_s is not None:
                cutoff = db.execute(f"SELECT {NOW_S} - ?", (r.events_max_age_s,)).fetchone()[0]
                cur = db.execute("DELETE FROM events WHERE seq < ?", (self._first_event_since(cutoff),))
                gone["events"] = gone.get("events", 0) + cur.rowcount
            # what only a restart of an open order reads: these tables hold open orders' rows only
            for table in ("trips", "units", "items"):
                cur = db.execute(f"DELETE FROM {table} WHERE order_id NOT IN ({open_ids})")
                gone[table] = cur.rowcount
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return gone

    def _first_event_since(self, cutoff_s: float) -> int:
        """The lowest ``seq`` whose event is stamped at or after ``cutoff_s`` (Unix seconds).

        Stamps grow with ``seq`` (one clock, appended in order), so a binary search over the
        primary key finds it in some 20 lookups: no index on the stamp to update on every record.
        A clock stepped back makes the bound approximate, never unsafe for open orders (events
        are an audit trail; nothing is recovered from them)."""
        db = self._db
        lo, hi = db.execute("SELECT COALESCE(MIN(seq), 0), COALESCE(MAX(seq), 0) + 1 FROM events").fetchone()
        while lo < hi:  # invariant: every event below lo is older than cutoff_s; hi is newer or past the end
            mid = (lo + hi) // 2
            row = db.execute("SELECT seq, ts FROM events WHERE seq >= ? ORDER BY seq LIMIT 1",
                             (mid,)).fetchone()
            if row is None or row[1] >= cutoff_s:
                hi = mid
            else:
                lo = row[0] + 1
        return int(lo)

    def open_orders(self) -> list[tuple[str, str, str]]:
        """(order_id, status, payload) of the orders not yet complete, failed or refused, in
        acceptance order (a restart reads these only, however long the site has run)."""
        return [(r[0], r[1], r[2]) for r in self._db.execute(QUERIES["open_orders"])]

    def has_order(self, order_id: str) -> bool:
        """True when ``order_id`` was ever received (duplicate check of old orders)."""
        return self._db.execute(QUERIES["has_order"], (order_id,)).fetchone() is not None

    def sorted_units(self, order_id: str) -> set[str]:
        """Labels of ``order_id``'s units already sorted into a chute."""
        return {r[0] for r in self._db.execute(QUERIES["sorted_units"], (order_id,))}

    def items_on_line(self, order_id: str) -> list[tuple[str, str, str]]:
        """(sorter_id, item_id, label) of ``order_id``'s items put on the line whose label is not
        sorted yet: the ones a previous controller may have answered and the sorter will confirm."""
        rows = self._db.execute(QUERIES["items_on_line"], (order_id, order_id))
        return [(r[0], r[1], r[2]) for r in rows]

    def done_trips(self, order_id: str) -> set[str]:
        """Trip ids of ``order_id`` that are done."""
        return {r[0] for r in self._db.execute(QUERIES["done_trips"], (order_id,))}

    def held_trips(self) -> dict[str, tuple[str, int]]:
        """trip_id -> (robot, stops done) for assigned trips with at least one stop done."""
        return {r[0]: (r[1], int(r[2])) for r in self._db.execute(QUERIES["held_trips"])}

    def status_counts(self) -> dict[str, int]:
        """Orders by status."""
        return {r[0]: int(r[1]) for r in self._db.execute(QUERIES["status_counts"])}

    def event_count(self) -> int:
        """Rows in the audit trail now (bounded by :attr:`retention`)."""
        return int(self._db.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    def query_plan(self, name: str) -> list[str]:
        """SQLite's ``EXPLAIN QUERY PLAN`` lines of the query ``QUERIES[name]`` (parameters unbound)."""
        sql = QUERIES[name]
        return [str(r[3]) for r in self._db.execute(f"EXPLAIN QUERY PLAN {sql}", (None,) * sql.count("?"))]

    def close(self) -> None:
        """Close the database (a killed process simply never calls this)."""
        self._db.close()
