"""Stock files (``--inventory FILE``): CSV and JSON load; a bad row is one clear error naming the
file and the line, and ``bulletyard sim`` exits 2 without a traceback. The default mixed stock
puts many SKUs on each pod and each SKU on several pods, the same for the same seed."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from bulletyard.cli import main
from controller.orders.stock import StockFileError, load_stock, mixed_stock
from warehouse_maps.catalog import load_layout
from warehouse_maps.layout import PlaceKind

LAYOUT = load_layout("small-fc")
PLACES = sorted(p.id for p in LAYOUT.of_kind(PlaceKind.STORAGE))


def test_csv_and_json_give_the_same_stock(tmp_path: Path) -> None:
    rows = [("pod-a", PLACES[0], "X", 5), ("pod-a", PLACES[0], "Y", 2), ("pod-b", PLACES[1], "X", 1)]
    csv_path = tmp_path / "stock.csv"
    csv_path.write_text("pod,place,sku,units\n" + "".join(f"{a},{b},{c},{d}\n" for a, b, c, d in rows))
    json_path = tmp_path / "stock.json"
    keys = ("pod", "place", "sku", "units")
    json_path.write_text(json.dumps([dict(zip(keys, r, strict=True)) for r in rows]))
    for path in (csv_path, json_path):
        inv = load_stock(path, LAYOUT)
        assert inv.contents("pod-a") == {"X": 5, "Y": 2}
        assert inv.pods_with("X") == ("pod-a", "pod-b")
        assert inv.pod("pod-b").home == next(p.cell for p in LAYOUT.places if p.id == PLACES[1])


@pytest.mark.parametrize(
    ("body", "where", "what"),
    [
        ("pod,place,sku,units\np1,{p0},X,3\np1,{p0},Y,-2\n", ":3:", "units must be a whole number"),
        ("pod,place,sku,units\np1,nowhere,X,3\n", ":2:", "not a storage place"),
        ("pod,place,sku,units\np1,{p0},X,3\np2,{p0},X,3\n", ":3:", "already holds pod p1"),
        ("pod,place,sku,units\np1,{p0},X,3\np1,{p0},X,4\n", ":3:", "lists SKU X twice"),
        ("pod,place,sku\np1,{p0},X\n", ":1:", "header"),
        ("pod,place,sku,units\np1,{p0},,3\n", ":2:", "missing sku"),
        ('[{{"pod": "p1", "place": "{p0}", "sku": "X", "units": 2.5}}]', ": entry 1:", "whole number"),
        ('[{{"pod": "p1"', ":1:", "not JSON"),
    ],
)
def test_a_bad_row_names_file_and_line(tmp_path: Path, body: str, where: str, what: str) -> None:
    path = tmp_path / "stock.txt"
    path.write_text(body.format(p0=PLACES[0]))
    with pytest.raises(StockFileError) as err:
        load_stock(path, LAYOUT)
    assert f"{path}{where}" in str(err.value)
    assert what in str(err.value)


def test_sim_with_a_bad_inventory_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "stock.csv"
    path.write_text(f"pod,place,sku,units\np1,{PLACES[0]},X,many\n")
    code = main(["sim", "--layout", "small-fc", "--robots", "1", "--orders", "1", "--quiet",
                 "--inventory", str(path), "--out", str(tmp_path / "run")])
    assert code == 2
    err = capsys.readouterr().err
    assert f"{path}:2: units must be a whole number" in err
    assert "Traceback" not in err


def test_mixed_stock_spreads_skus_over_pods_and_is_seeded() -> None:
    a = mixed_stock(LAYOUT, np.random.default_rng(3))
    b = mixed_stock(LAYOUT, np.random.default_rng(3))
    c = mixed_stock(LAYOUT, np.random.default_rng(4))
    contents = [a.contents(p.id) for p in a.pods]
    assert contents == [b.contents(p.id) for p in b.pods]
    assert contents != [c.contents(p.id) for p in c.pods]
    assert set(a.skus()) == set(PLACES)  # as many SKUs as places, named after them
    per_pod = Counter(len(x) for x in contents)
    assert sum(n for k, n in per_pod.items() if k >= 8) >= 0.9 * len(contents)  # many SKUs a pod
    copies = Counter(len(a.pods_with(s)) for s in a.skus())
    assert sum(n for k, n in copies.items() if k >= 5) >= 0.9 * len(PLACES)  # each SKU on several pods
