"""Fuzz every input kind through the CLI entry point: success or one error line, exit 2 (issue 25).

Each test writes a mutated file of one kind (see :mod:`tests.property.fuzz_documents`) or draws
hostile option values, calls :func:`bulletyard.cli.main` in this process and accepts only three
outcomes: success, reaching the real work (a stand-in of :mod:`tests.cli_harness`), or exactly
one error line with exit status 2. No exception may escape, no case may run past its time limit
(10 s) and no case may allocate more than the memory bound. Seeded: ``derandomize=True`` gives
the same cases on every run. The default profile keeps the whole module to a few seconds per
kind; ``BULLETYARD_FUZZ_PROFILE=nightly`` runs 20 times as many cases per kind.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli_harness import DEAD_BROKER, assert_acceptable, run_cli
from tests.property.fuzz_documents import OPTION_VALUES, json_document, map_document, yaml_document

REPO = Path(__file__).resolve().parents[2]
_NIGHTLY = os.environ.get("BULLETYARD_FUZZ_PROFILE") == "nightly"
FUZZ = settings(
    max_examples=200 if _NIGHTLY else 10,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
CASE_S = 10.0

TINY_LAYOUT = {"format": "bulletyard-layout/1", "name": "t", "cell_size_m": 1.0,
               "rows": ["@@@@@@", "@S.KP@", "@....@", "@@@@@@"],
               "places": [{"id": "S9", "kind": "pick_station", "cell": [1, 1]}],
               "one_way": [[[2, 2], [3, 2]]], "edge_weights": [{"from": [3, 2], "to": [4, 2], "weight": 2}]}
ORDERS = [{"orderId": "o1", "t_s": 1.0, "lines": [{"sku": "P1", "quantity": 1}], "priority": 0},
          {"orderId": "o2", "t_s": 5, "lines": [{"sku": "P2", "quantity": 2}], "destination": "D001"}]
HISTORY = [{"id": f"h{i}", "lines": [{"sku": f"P{i % 5 + 1}", "quantity": 1}], "destination": "S1",
            "created_s": 600 * i, "due_s": 600 * i + 3600, "priority": 0} for i in range(4)]
STOCK = [{"pod": "p1", "place": "P1", "sku": "s1", "units": 5},
         {"pod": "p2", "place": "P2", "sku": "s2", "units": 1}]
CONTROLLER = {"site": "site1", "assign_period_s": 1.0, "resend": {"interval_s": 1.0, "max_interval_s": 8.0},
              "fleet": {"state_timeout_s": 65.0, "max_order_rejections": 3},
              "assignment": {"solver": "pileon"}}
SORTER = yaml.safe_load((REPO / "docs" / "sorter.yaml").read_text())
SWEEP = {"name": "f", "layouts": ["small-fc"], "robots": [2, 4], "seeds": {"from": 1, "to": 2},
         "profiles": ["steady", {"name": "peak", "multiplier": 3, "duration_s": 60}],
         "rate_per_h": 100, "until_s": 60, "trace_dt_s": 0.25}
CHECK = {"defaults": {"layout": "small-fc", "orders": 4, "seed": 1},
         "scenarios": [{"name": "a", "robots": 2, "until_s": 60, "faults": {"kill_robot": ["agv-0001@30"]},
                        "expect": ["collisions == 0"]}]}
LORR = {"mapFile": "m.map", "agentFile": "a.txt", "taskFile": "t.txt", "teamSize": 1}


def _check(argv_of: Callable[[Path], list[str]], files: dict[str, str]) -> None:
    """Write ``files`` into a fresh folder, run the CLI on them and check the outcome."""
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        d = Path(tmp)
        for name, text in files.items():
            (d / name).write_text(text, encoding="utf-8", errors="surrogatepass")
        outcome = run_cli(argv_of(d), timeout_s=CASE_S, measure_memory=True)
    assert_acceptable(outcome)


@FUZZ
@given(text=yaml_document(TINY_LAYOUT))
def test_layout_yaml(text: str) -> None:
    _check(lambda d: ["map", "show", str(d / "l.yaml"), "--stats-only"], {"l.yaml": text})


@FUZZ
@given(text=map_document(), scen=st.sampled_from(["version 1\n0\tm\t4\t3\t0\t0\t1\t0\t1\n", "version 1\n",
                                                  "version 1\n0 m 4 3 9 9 0 0 1\n", "v\n"]))
def test_movingai_map_and_scenario(text: str, scen: str) -> None:
    _check(lambda d: ["map", "show", str(d / "m.map"), "--scen", str(d / "m.scen")],
           {"m.map": text, "m.scen": scen})


@FUZZ
@given(text=json_document(LORR), tasks=st.sampled_from(["2\n1\n2\n", "0\n", "5\n1\n", "x\n", "1\n-3\n", ""]))
def test_lorr_instance(text: str, tasks: str) -> None:
    files = {"i.json": text, "m.map": "type octile\nheight 2\nwidth 4\nmap\nE...\n....\n", "a.txt": "1\n1\n",
             "t.txt": tasks}
    _check(lambda d: ["map", "show", str(d / "i.json"), "--stats-only"], files)


@FUZZ
@given(text=json_document(ORDERS), suffix=st.sampled_from([".json", ".jsonl"]))
def test_order_file(text: str, suffix: str) -> None:
    if suffix == ".jsonl":
        text = "\n".join(json.dumps(o) for o in ORDERS) + "\n" + text.replace("\n", " ")
    _check(lambda d: ["sim", "--robots", "2", "--order-file", str(d / f"o{suffix}"), "--out", str(d / "run"),
                      "--quiet"], {f"o{suffix}": text})


@FUZZ
@given(text=json_document(HISTORY))
def test_history(text: str) -> None:
    _check(lambda d: ["slot", "--layout", "small-fc", "--skus", "20", "--history", str(d / "h.json"),
                      "--out", str(d / "s.yaml")], {"h.json": text})


@FUZZ
@given(text=json_document(STOCK))
def test_inventory(text: str) -> None:
    _check(lambda d: ["serve", "--broker", DEAD_BROKER, "--layout", "small-fc", "--metrics-port", "-1",
                      "--inventory", str(d / "i.json")], {"i.json": text})


@FUZZ
@given(text=yaml_document(CONTROLLER))
def test_controller_config(text: str) -> None:
    _check(lambda d: ["serve", "--broker", DEAD_BROKER, "--layout", "small-fc", "--metrics-port", "-1",
                      "--config", str(d / "c.yaml")], {"c.yaml": text})


@FUZZ
@given(text=yaml_document(SORTER))
def test_sorter_config(text: str) -> None:
    _check(lambda d: ["sorter", "--broker", DEAD_BROKER, "--config", str(d / "s.yaml")], {"s.yaml": text})


@FUZZ
@given(text=yaml_document(SWEEP))
def test_sweep_spec(text: str) -> None:
    _check(lambda d: ["sweep", str(d / "s.yaml"), "--out", str(d / "sw"), "--quiet"], {"s.yaml": text})


@FUZZ
@given(text=yaml_document(CHECK))
def test_check_scenarios(text: str) -> None:
    _check(lambda d: ["check", str(d / "c.yaml"), "--out", str(d / "ck"), "--quiet"], {"c.yaml": text})


@FUZZ
@given(text=json_document({"agv-0001": "secret", "agv-0002": "other"}))
def test_vehicle_credentials(text: str) -> None:
    _check(lambda d: ["robots", "--broker", DEAD_BROKER, "--layout", "small-fc", "--count", "1",
                      "--credentials", str(d / "c.json")], {"c.json": text})


# (command line before the options, options that take a value); the network commands use a dead
# broker, so valid options end in "cannot reach the broker" (exit 2) within the time limit.
COMMANDS: dict[str, tuple[list[str], list[str]]] = {
    "sim": (["sim", "--quiet", "--out", "{d}/run"],
            ["--robots", "--orders", "--rate", "--until", "--trace-dt", "--delays", "--kill-robot",
             "--drop-rate", "--chute-close", "--real-time-factor", "--seed", "--peak-factor",
             "--peak-duration"]),
    "feed": (["feed", "--broker", DEAD_BROKER, "--layout", "small-fc"],
             ["--orders", "--rate", "--max-lines", "--site", "--seed", "--timeout"]),
    "robots": (["robots", "--broker", DEAD_BROKER, "--layout", "small-fc", "--count", "1"],
               ["--count", "--state-interval", "--visualization-interval", "--breakdown-probability",
                "--duration", "--keepalive", "--seed", "--route"]),
    "serve": (["serve", "--broker", DEAD_BROKER, "--layout", "small-fc", "--metrics-port", "-1"],
              ["--journal-keep-events", "--journal-keep-days", "--duration", "--seed", "--site"]),
    "sorter": (["sorter", "--broker", DEAD_BROKER, "--layout", "sort-center"],
               ["--transit-s", "--site", "--duration", "--time-factor", "--seed"]),
    "mapf": (["mapf", "--map", "{d}/m.map", "--scen", "{d}/m.scen", "--agents", "1", "--out", "{d}/r.json"],
             ["--agents", "--time-limit", "--seed"]),
    "map-convert": (["map", "convert", "small-fc", "-o", "{d}/c.yaml"], ["--cell-size-m", "--name"]),
}


@FUZZ
@given(command=st.sampled_from(sorted(COMMANDS)), data=st.data())
def test_options(command: str, data: Any) -> None:
    base, options = COMMANDS[command]
    chosen = data.draw(st.lists(st.sampled_from(options), min_size=1, max_size=3, unique=True))
    argv = list(base)
    for option in chosen:
        argv += [option, data.draw(OPTION_VALUES)]
    if "--peak-factor" in chosen or "--peak-duration" in chosen:
        argv += ["--profile", "peak"]
    files = {"m.map": "type octile\nheight 1\nwidth 4\nmap\n....\n",
             "m.scen": "version 1\n0\tm\t4\t1\t0\t0\t3\t0\t3\n"}
    _check(lambda d: [a.replace("{d}", str(d)) for a in argv], files)


@pytest.mark.parametrize("argv", [["sim", "--until", "--"], ["map"], ["sim", "--robots"], ["nosuchcommand"]])
def test_argparse_errors_are_one_line(argv: list[str]) -> None:
    outcome = run_cli(argv)
    assert outcome.clean_refusal, outcome.describe()
