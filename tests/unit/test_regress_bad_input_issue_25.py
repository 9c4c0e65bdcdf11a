"""Issue 25: one test per kind of hostile input the issue lists; each failed before the fix.

Before: a traceback (non-finite numbers reaching ``bus.clock.seconds``, a 10^12-cell map
allocated, deep JSON recursing), a hang (``--trace-dt 0``, ``--orders 10^8``, ``/dev/zero``), or
silent acceptance (duplicate YAML keys, ``cell_size_m: .nan``, fractional quantities,
``--until -5``). After: one error line naming the file and line or the option, exit status 2,
before any run starts (the harness's stand-ins make "started the run" a failure here).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_harness import DEAD_BROKER, assert_refused, run_cli

TINY = 'format: bulletyard-layout/1\nname: t\nrows:\n  - "@@@@@"\n  - "@S.K@"\n  - "@@@@@"\n'
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)
DEEP = "[" * 100_000 + "]" * 100_000
ORDER = {"orderId": "o1", "t_s": 1.0, "lines": [{"sku": "P1", "quantity": 1}]}
HISTORY = [{"id": f"o{i}", "lines": [{"sku": "P1", "quantity": 1}], "destination": "S1", "created_s": i * 60}
           for i in range(50)]
SIM = ["sim", "--robots", "2", "--quiet", "--out", "{d}/run"]
ROBOTS = ["robots", "--broker", DEAD_BROKER, "--layout", "small-fc", "--count"]
SERVE = ["serve", "--broker", DEAD_BROKER, "--layout", "small-fc"]
CHECK = "scenarios:\n  - name: a\n    robots: 2\n    expect: [collisions == 0]\n"
SUMMARY = {"r/summary.json": json.dumps({"manifest": {"layout": "small-fc"}})}


def _orders(**fields: object) -> str:
    return json.dumps([{**ORDER, **fields}])


def _lines(quantity: object) -> str:
    return json.dumps([{**ORDER, "lines": [{"sku": "P1", "quantity": quantity}]}])


# (id, files to write, argv ("{d}" is the temporary folder), words the error line must hold)
CASES: list[tuple[str, dict[str, str], list[str], tuple[str, ...]]] = [
    # -- non-finite and absurd numbers
    ("until-nan", {}, [*SIM, "--until", "nan"], ("--until",)),
    ("until-1e300", {}, [*SIM, "--until", "1e300"], ("--until",)),
    ("rate-nan", {}, [*SIM, "--rate", "nan"], ("--rate",)),
    ("delays-inf", {}, [*SIM, "--delays", "0.5,1,inf"], ("--delays",)),
    ("kill-robot-at-inf", {}, [*SIM, "--kill-robot", "agv-0001@inf"], ("--kill-robot",)),
    ("order-t-infinity", {"o.json": _orders(t_s=float("inf"))}, [*SIM, "--order-file", "{d}/o.json"],
     ("o.json:1", "Infinity")),
    ("order-quantity-infinity", {"o.json": _lines(float("inf"))}, [*SIM, "--order-file", "{d}/o.json"],
     ("o.json:1",)),
    ("sorter-timeout-inf", {"s.yaml": "kind: loop\nreply_timeout_s: .inf\n"},
     ["sorter", "--broker", DEAD_BROKER, "--config", "{d}/s.yaml"], ("s.yaml:2", "finite")),
    ("sorter-time-factor-nan", {}, ["sorter", "--broker", DEAD_BROKER, "--layout", "sort-center",
                                    "--time-factor", "nan"], ("--time-factor",)),
    ("inventory-units-infinity",
     {"i.json": json.dumps([{"pod": "p1", "place": "P1", "sku": "s", "units": float("inf")}])},
     [*SERVE, "--inventory", "{d}/i.json"], ("i.json:1",)),
    # -- sizes
    ("map-1e12-cells-wide", {"w.map": "type octile\nheight 1\nwidth 1000000000000\nmap\n....\n"},
     ["map", "show", "{d}/w.map"], ("w.map:2", "BULLETYARD_MAX_GRID_CELLS")),
    ("trace-dt-0", {}, [*SIM, "--trace-dt", "0"], ("--trace-dt",)),
    ("orders-1e8", {}, ["sim", "--robots", "2", "--orders", "100000000", "--out", "{d}/run"],
     ("--orders", "BULLETYARD_MAX_ORDERS")),
    ("sorter-1e8-chutes", {"s.yaml": "kind: loop\nchutes: {count: 100000000}\n"},
     ["sorter", "--broker", DEAD_BROKER, "--config", "{d}/s.yaml"], ("chutes.count",)),
    ("robots-count-1e8", {}, [*ROBOTS, "100000000"],
     ("--count", "BULLETYARD_MAX_ROBOTS")),
    ("check-robots-1e8", {"c.yaml": CHECK.replace("robots: 2", "robots: 100000000")},
     ["check", "{d}/c.yaml", "--out", "{d}/ck"], ("c.yaml:3", "robots")),
    # -- structure
    ("order-file-deep-json", {"o.json": DEEP}, [*SIM, "--order-file", "{d}/o.json"], ("o.json:1", "nested")),
    ("inventory-deep-json", {"i.json": DEEP},
     [*SERVE, "--inventory", "{d}/i.json"], ("i.json",)),
    ("lorr-instance-deep-json", {"x.json": DEEP}, ["map", "show", "{d}/x.json"], ("x.json:1", "nested")),
    ("sweep-spec-deep-yaml", {"s.yaml": "name: " + "[" * 5000 + "]" * 5000 + "\n"},
     ["sweep", "{d}/s.yaml", "--out", "{d}/sw"], ("s.yaml",)),
    ("layout-yaml-alias-bomb", {"b.yaml": TINY + "equipment:\n  " + BOMB.replace("\n", "\n  ")},
     ["map", "convert", "{d}/b.yaml", "-o", "{d}/c.yaml"], ("b.yaml:", "alias")),
    ("lorr-negative-width", {"n.map": "type octile\nheight 2\nwidth -4\nmap\nE...\n....\n", "a.txt": "1\n1\n",
                             "n.json": json.dumps({"mapFile": "n.map", "agentFile": "a.txt",
                                                   "taskFile": "a.txt", "teamSize": 1})},
     ["map", "show", "{d}/n.json"], ("n.map:2", "positive")),
    ("lorr-no-tasks", {"m.map": "type octile\nheight 2\nwidth 4\nmap\nE...\n....\n", "a.txt": "1\n1\n",
                       "t.txt": "0\n", "i.json": json.dumps({"mapFile": "m.map", "agentFile": "a.txt",
                                                             "taskFile": "t.txt", "teamSize": 1})},
     ["map", "show", "{d}/i.json"], ("i.json", "no tasks")),
    ("credentials-deep-json", {"c.json": DEEP},
     [*ROBOTS, "1", "--credentials", "{d}/c.json"],
     ("--credentials",)),
    # -- paths
    ("sim-out-is-a-file", {"f.txt": "x"}, [*SIM[:-2], "--out", "{d}/f.txt"], ("--out", "not a folder")),
    ("demo-out-is-a-file", {"f.txt": "x"}, ["demo", "--out", "{d}/f.txt"], ("--out",)),
    ("convert-output-below-a-file", {"f.txt": "x"}, ["map", "convert", "small-fc", "-o", "{d}/f.txt/x.yaml"],
     ("--output",)),
    ("convert-output-is-a-folder", {}, ["map", "convert", "small-fc", "-o", "{d}"], ("--output", "folder")),
    ("serve-db-is-a-folder", {}, [*SERVE, "--db", "{d}"],
     ("--db", "folder")),
    ("map-from-dev-zero", {}, ["mapf", "--map", "/dev/zero", "--scen", "/dev/zero", "--agents", "1",
                               "--out", "{d}/m.json"], ("/dev/zero", "regular file")),
    ("snapshot-summary-without-manifest", {"r/summary.json": "{}"},
     ["snapshot", "{d}/r", "--out", "{d}/f.png"], ("manifest",)),
    ("snapshot-1e10-pixels", SUMMARY, ["snapshot", "{d}/r", "--size", "100000x100000", "--out", "{d}/f.png"],
     ("--size", "BULLETYARD_MAX_PIXELS")),
    # -- accepted without a word before
    ("layout-duplicate-key", {"d.yaml": TINY + "name: u\n"}, ["map", "show", "{d}/d.yaml"],
     ("d.yaml:7", "duplicate key 'name'")),
    ("controller-config-duplicate-key", {"c.yaml": "assignment: {solver: pileon}\nassignment: {}\n"},
     [*SERVE, "--config", "{d}/c.yaml"],
     ("c.yaml:2", "duplicate key")),
    ("layout-cell-size-nan", {"n.yaml": TINY + "cell_size_m: .nan\n"}, ["map", "show", "{d}/n.yaml"],
     ("n.yaml:7",)),
    ("layout-cell-size-0-by-option", {}, ["map", "convert", "small-fc", "--cell-size-m", "0"],
     ("--cell-size-m",)),
    ("order-quantity-fractional", {"o.json": _lines(1.5)}, [*SIM, "--order-file", "{d}/o.json"],
     ("o.json", "quantity")),
    ("order-quantity-negative", {"o.json": _lines(-3)}, [*SIM, "--order-file", "{d}/o.json"],
     ("o.json", "quantity")),
    ("until-minus-5", {}, [*SIM, "--until", "-5"], ("--until",)),
    ("rate-inf", {}, [*SIM, "--rate", "inf"], ("--rate",)),
    # -- topic levels
    ("feed-site-with-slash", {}, ["feed", "--broker", DEAD_BROKER, "--layout", "small-fc", "--site", "a/b"],
     ("--site", "'/'")),
    ("up-site-with-slash", {}, ["up", "--layout", "small-fc", "--robots", "1", "--site", "a/b",
                                "--dir", "{d}/up"],
     ("--site",)),
]


@pytest.mark.parametrize(("files", "argv", "needles"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_refused_in_one_line(tmp_path: Path, files: dict[str, str], argv: list[str],
                             needles: tuple[str, ...]) -> None:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    outcome = run_cli([a.replace("{d}", str(tmp_path)) for a in argv], timeout_s=20.0)
    assert_refused(outcome, *needles)


def test_history_bucket_of_1e_10_s_is_refused(tmp_path: Path) -> None:
    """A real history with ``--bucket-s 1e-10`` asked for 10^12 buckets."""
    (tmp_path / "h.json").write_text(json.dumps(HISTORY))
    outcome = run_cli(["slot", "--layout", "small-fc", "--skus", "100", "--history", str(tmp_path / "h.json"),
                       "--out", str(tmp_path / "s.yaml"), "--bucket-s", "1e-10"], timeout_s=20.0)
    assert_refused(outcome, "--bucket-s")
