"""Import orders from CSV or JSON files, refusing bad records with the file and line named.

CSV: a header row, then one row per order line::

    order_id,sku,quantity,destination,priority,due_s,created_s
    O1,SKU00001,2,CH001,0,14400,0
    O1,SKU00042,1,CH001,0,14400,0

Rows of one order are consecutive; ``priority``, ``due_s`` and ``created_s`` (seconds after the
stream start) may be empty. JSON: a list of objects ``{"id", "lines": [{"sku", "quantity"}],
"destination", "priority"?, "due_s"?, "created_s"?}``; ``.jsonl`` holds one such object a line.

A malformed file as a whole (unreadable, no header, not JSON) raises :class:`OrderFileError`.
A bad record (missing field, quantity not a whole number or below 1, an order id seen before)
becomes one :class:`FileIssue` naming the line; the rest of the file is still imported.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bus.clock import Instant, seconds
from controller.orders.model import Order, OrderLine
from warehouse_maps.errors import InputError
from warehouse_maps.limits import limit
from warehouse_maps.safe_load import read_text_capped, safe_json_loads

CSV_COLUMNS = ("order_id", "sku", "quantity", "destination", "priority", "due_s", "created_s")
REQUIRED_COLUMNS = CSV_COLUMNS[:4]


class OrderFileError(ValueError):
    """A file that cannot be read as orders at all; str is ``file:line: message``."""

    def __init__(self, source: Path | str, message: str, line: int | None = None) -> None:
        self.source, self.message, self.line = str(source), message, line
        where = f"{source}:{line}" if line is not None else str(source)
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class FileIssue:
    """One refused record: where it is and why."""

    source: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.message}"


@dataclass
class ImportResult:
    """Orders read from a file, the records refused, and the first line of each order."""

    orders: list[Order] = field(default_factory=list)
    issues: list[FileIssue] = field(default_factory=list)
    line_of: dict[str, int] = field(default_factory=dict)


def load_orders(path: Path | str, start: Instant) -> ImportResult:
    """Read ``.csv``, ``.json`` or ``.jsonl`` orders; times are offsets from ``start``."""
    path = Path(path)
    try:
        text = read_text_capped(path)  # a regular file within the size limit (not /dev/zero)
    except InputError as exc:
        raise OrderFileError(path, f"cannot read: {exc.message}", exc.line) from None
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _from_csv(path, text, start)
    if suffix == ".json":
        return _from_json_array(path, text, start)
    if suffix == ".jsonl":
        return _from_json_lines(path, text, start)
    raise OrderFileError(
        path, f"unknown order file type {suffix or '(none)'!r} (expected .csv, .json, .jsonl)"
    )


# -- CSV ----------------------------------------------------------------------------------------


def _from_csv(path: Path, text: str, start: Instant) -> ImportResult:
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if header is None:
        raise OrderFileError(path, "empty file (expected a header row)", 1)
    header = [h.strip() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise OrderFileError(path, f"header lacks column(s) {', '.join(missing)}", 1)
    col = {name: header.index(name) for name in CSV_COLUMNS if name in header}
    result = ImportResult()
    current: dict[str, Any] | None = None
    bad_ids: set[str] = set()

    def close() -> None:
        if current is not None and current["id"] not in bad_ids:
            _add(result, path, current, start)

    for lineno, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        get = {name: (row[i].strip() if i < len(row) else "") for name, i in col.items()}
        order_id = get["order_id"]
        if not order_id:
            result.issues.append(FileIssue(str(path), lineno, "order_id is empty"))
            continue
        if current is None or current["id"] != order_id:
            close()
            if order_id in result.line_of or order_id in bad_ids:
                first = result.line_of.get(order_id, "?")
                result.issues.append(
                    FileIssue(str(path), lineno, f"duplicate order id {order_id!r} (first at line {first})")
                )
                current = None
                continue
            current = {
                "id": order_id,
                "line": lineno,
                "lines": [],
                "destination": get["destination"],
                "priority": get.get("priority", ""),
                "due_s": get.get("due_s", ""),
                "created_s": get.get("created_s", ""),
            }
            result.line_of[order_id] = lineno
        problem = _line_problem(get["sku"], get["quantity"])
        if problem:
            result.issues.append(FileIssue(str(path), lineno, f"order {order_id}: {problem}"))
            bad_ids.add(order_id)
            continue
        current["lines"].append(OrderLine(get["sku"], int(get["quantity"])))
    close()
    for order_id in bad_ids:
        result.line_of.pop(order_id, None)
    return result


def _line_problem(sku: Any, quantity: Any) -> str:
    if not isinstance(sku, str) or not sku.strip():
        return "sku is missing"
    try:
        qty = int(str(quantity))
    except ValueError:
        return f"quantity {quantity!r} is not a whole number"
    if qty < 1:
        return f"quantity {qty} of {sku} must be at least 1"
    if qty > limit("quantity"):
        return (f"quantity {qty} of {sku} exceeds the limit {limit('quantity'):,} "
                "(raise it with BULLETYARD_MAX_QUANTITY)")
    return ""


def _checked_offset_s(name: str, value: Any) -> float:
    """Seconds after the stream start: finite, >= 0 and within the ``seconds`` limit."""
    offset = float(value)
    if not 0 <= offset <= limit("seconds"):  # False for NaN too
        raise ValueError(f"{name} {value!r} must be a finite number of seconds in [0, {limit('seconds'):g}]")
    return offset


def _add(result: ImportResult, path: Path, rec: dict[str, Any], start: Instant) -> None:
    """Turn a parsed record into an Order, or an issue naming its line."""
    line = rec["line"]
    try:
        if not rec.get("destination"):
            raise ValueError("destination is missing")
        priority = int(rec["priority"]) if rec.get("priority") not in ("", None) else 0
        due = (
            Instant(start + seconds(_checked_offset_s("due_s", rec["due_s"])))
            if rec.get("due_s") not in ("", None)
            else None
        )
        created = (
            Instant(start + seconds(_checked_offset_s("created_s", rec["created_s"])))
            if rec.get("created_s") not in ("", None)
            else None
        )
    except (TypeError, ValueError, OverflowError) as exc:
        result.issues.append(FileIssue(str(path), line, f"order {rec['id']}: {exc}"))
        result.line_of.pop(rec["id"], None)
        return
    result.orders.append(
        Order(str(rec["id"]), tuple(rec["lines"]), str(rec["destination"]), priority, due, created)
    )


# -- JSON ---------------------------------------------------------------------------------------


def _from_json_array(path: Path, text: str, start: Instant) -> ImportResult:
    try:  # the file as a whole first: nesting, duplicate keys, non-finite numbers (issue 25)
        safe_json_loads(text, path)
    except InputError as exc:
        if not exc.message.startswith("not valid JSON"):  # plain syntax: the reader below says it better
            raise OrderFileError(path, exc.message, exc.line) from None
    decoder = json.JSONDecoder()
    pos = _skip_ws(text, 0)
    if pos >= len(text) or text[pos] != "[":
        raise OrderFileError(path, "expected a JSON list of orders", _line_at(text, pos))
    pos = _skip_ws(text, pos + 1)
    records: list[tuple[int, Any]] = []
    while pos < len(text) and text[pos] != "]":
        try:
            obj, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise OrderFileError(path, f"not valid JSON: {exc.msg}", exc.lineno) from None
        records.append((_line_at(text, pos), obj))
        pos = _skip_ws(text, end)
        if pos < len(text) and text[pos] == ",":
            pos = _skip_ws(text, pos + 1)
        elif pos < len(text) and text[pos] != "]":
            raise OrderFileError(path, "expected ',' or ']' between orders", _line_at(text, pos))
    if pos >= len(text):
        raise OrderFileError(path, "the list of orders is not closed with ']'", _line_at(text, pos))
    return _from_records(path, records, start)


def _from_json_lines(path: Path, text: str, start: Instant) -> ImportResult:
    records: list[tuple[int, Any]] = []
    issues: list[FileIssue] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            records.append((lineno, safe_json_loads(raw, path)))
        except InputError as exc:
            issues.append(FileIssue(str(path), lineno, exc.message))
    result = _from_records(path, records, start)
    result.issues[:0] = issues
    return result


def _from_records(path: Path, records: list[tuple[int, Any]], start: Instant) -> ImportResult:
    result = ImportResult()
    seen: dict[str, int] = {}  # every id met so far (good or bad) -> its line, for duplicate checks
    for lineno, obj in records:
        issue = _record_problem(obj, seen)
        if issue:
            result.issues.append(FileIssue(str(path), lineno, issue))
            if isinstance(obj, dict) and isinstance(obj.get("id"), str):
                seen.setdefault(obj["id"], lineno)
            continue
        seen[obj["id"]] = lineno
        result.line_of[obj["id"]] = lineno
        lines = [OrderLine(ln["sku"], int(ln["quantity"])) for ln in obj["lines"]]
        _add(
            result,
            path,
            {
                "id": obj["id"],
                "line": lineno,
                "lines": lines,
                "destination": obj.get("destination"),
                "priority": obj.get("priority"),
                "due_s": obj.get("due_s"),
                "created_s": obj.get("created_s"),
            },
            start,
        )
    return result


def _record_problem(obj: Any, seen: dict[str, int]) -> str:
    if not isinstance(obj, dict):
        return "an order must be a JSON object"
    order_id = obj.get("id")
    if not isinstance(order_id, str) or not order_id:
        return "order id is missing or not a string"
    if order_id in seen:
        return f"duplicate order id {order_id!r} (first at line {seen[order_id]})"
    raw_lines = obj.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        return f"order {order_id}: lines missing or empty"
    for i, ln in enumerate(raw_lines):
        problem = "a line must be an object" if not isinstance(ln, dict) else _json_line_problem(ln)
        if problem:
            return f"order {order_id} line {i}: {problem}"
    return ""


def _json_line_problem(ln: dict[str, Any]) -> str:
    qty = ln.get("quantity")
    if isinstance(qty, bool) or not isinstance(qty, int):
        return f"quantity {qty!r} is not a whole number"
    return _line_problem(ln.get("sku"), qty)


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _line_at(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def orders_csv(orders: list[Order], start: Instant) -> str:
    """CSV text in the import format (one row per line; times as seconds after ``start``)."""
    rows = [",".join(CSV_COLUMNS)]
    for order in orders:
        due = _offset_s(order.due, start)
        created = _offset_s(order.created, start)
        for line in order.lines:
            rows.append(",".join([order.id, line.sku, str(line.quantity), order.destination or "",
                                  str(order.priority), due, created]))
    return "\n".join(rows) + "\n"


def _offset_s(instant: Instant | None, start: Instant) -> str:
    """Seconds after ``start`` written exactly to the nanosecond ("" for no time)."""
    if instant is None:
        return ""
    span = int(instant - start)
    whole, ns = divmod(abs(span), 1_000_000_000)
    return ("-" if span < 0 else "") + f"{whole}.{ns:09d}".rstrip("0").rstrip(".")
