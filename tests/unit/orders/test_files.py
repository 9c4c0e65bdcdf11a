"""Order import from CSV / JSON: refusals name the line, the rest is accepted, nothing twice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bus.clock import SIM_EPOCH
from controller.orders.files import OrderFileError, load_orders, orders_csv
from controller.orders.generator import OrderGenerator, StreamConfig, constant_profile

CSV = """order_id,sku,quantity,destination,priority,due_s,created_s
O1,SKU-1,2,CH001,0,3600,0
O1,SKU-2,1,CH001,0,3600,0
O2,SKU-3,0,CH002,,,
O3,SKU-4,x,CH002,,,
O4,SKU-5,1,CH003,1,,5
O1,SKU-6,1,CH001,0,3600,0
O5,NOPE,1,CH003,,,
O6,,1,CH003,,,
"""


def test_csv_bad_rows_are_named_and_the_rest_accepted(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(CSV)
    result = load_orders(path, SIM_EPOCH)
    assert [o.id for o in result.orders] == ["O1", "O4", "O5"]
    assert [len(o.lines) for o in result.orders] == [2, 1, 1]
    messages = [str(i) for i in result.issues]
    assert messages == [
        f"{path}:4: order O2: quantity 0 of SKU-3 must be at least 1",
        f"{path}:5: order O3: quantity 'x' is not a whole number",
        f"{path}:7: duplicate order id 'O1' (first at line 2)",
        f"{path}:9: order O6: sku is missing",
    ]
    assert result.line_of["O5"] == 8  # a refusal can be traced back to its line


def test_json_records_name_their_line(tmp_path: Path) -> None:
    path = tmp_path / "orders.json"
    path.write_text(
        '[\n'
        ' {"id": "A", "lines": [{"sku": "SKU-1", "quantity": 1}], "destination": "CH001"},\n'
        ' {"id": "B", "lines": [{"sku": "SKU-1", "quantity": -1}], "destination": "CH001"},\n'
        ' {"id": "A", "lines": [{"sku": "SKU-2", "quantity": 1}], "destination": "CH001"},\n'
        ' {"id": "C", "lines": [], "destination": "CH001"},\n'
        ' {"id": "D", "lines": [{"sku": "SKU-2", "quantity": 1}]}\n'
        ']\n')
    result = load_orders(path, SIM_EPOCH)
    assert [o.id for o in result.orders] == ["A"]
    assert [(i.line, i.message.split(":")[0]) for i in result.issues] == [
        (3, "order B line 0"), (4, "duplicate order id 'A' (first at line 2)"), (5, "order C"),
        (6, "order D")]


def test_jsonl_bad_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "orders.jsonl"
    path.write_text('{"id": "A", "lines": [{"sku": "S", "quantity": 1}], "destination": "CH1"}\n{oops\n')
    result = load_orders(path, SIM_EPOCH)
    assert [o.id for o in result.orders] == ["A"]
    assert result.issues[0].line == 2


@pytest.mark.parametrize(
    ("name", "text", "fragment"),
    [
        ("a.csv", "", ":1: empty file"),
        ("b.csv", "id,sku\n", ":1: header lacks column(s) order_id, quantity, destination"),
        ("c.json", '{"id": 1}', ":1: expected a JSON list"),
        ("d.json", '[\n {"id": "A"},\n {"id": ', ":3: not valid JSON"),
        ("e.json", '[\n {"id": "A"}\n', "not closed"),
        ("f.txt", "x", "unknown order file type '.txt'"),
    ],
)
def test_malformed_files_raise_one_error_naming_file_and_line(tmp_path: Path, name, text, fragment) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(OrderFileError) as err:
        load_orders(path, SIM_EPOCH)
    assert str(err.value).startswith(str(path))
    assert fragment in str(err.value)


def test_missing_file_is_an_order_file_error(tmp_path: Path) -> None:
    with pytest.raises(OrderFileError, match="cannot read"):
        load_orders(tmp_path / "nope.csv", SIM_EPOCH)


def test_generated_orders_round_trip_through_csv(tmp_path: Path) -> None:
    cfg = StreamConfig(n_skus=50, profile=constant_profile(600))
    orders = OrderGenerator(cfg, np.random.default_rng(9)).orders(SIM_EPOCH, 600)
    path = tmp_path / "o.csv"
    path.write_text(orders_csv(orders, SIM_EPOCH))
    result = load_orders(path, SIM_EPOCH)
    assert result.issues == []
    assert result.orders == orders
