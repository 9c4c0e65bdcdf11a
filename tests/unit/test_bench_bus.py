"""Keeps ``bench/bus.py`` working: its payload stamps round-trip and a tiny in-process run counts right.

Not a timing test: it only checks what the benchmark counts, never how fast.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bus.py"


def load_bench():  # noqa: ANN201 - the module
    spec = importlib.util.spec_from_file_location("bench_bus", BENCH)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_stamp_round_trip_and_payload_is_json() -> None:
    bench = load_bench()
    payload = bench.state_payload(1234, 987654321)
    assert bench.read_stamp(payload) == (1234, 987654321)
    assert json.loads(payload)["serialNumber"] == "agv-0001"


def test_inproc_run_delivers_everything() -> None:
    bench = load_bench()
    rate_mps, latencies_ms, lost = bench.inproc_once(100, 1, 2_000)
    assert lost == 0
    assert rate_mps > 0
    assert len(latencies_ms) == 2_000
