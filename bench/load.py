"""Load run: N simulated robots and the sorter at full induct rate over loopback Mosquitto with TLS.

Everything is as ``bulletyard up`` runs it: a generated secure broker (TLS, passwords, ACLs), the
fleet as one process with one TLS login per vehicle (``bulletyard robots --credentials``), the sorter as
its own process. This script plays the controller's bus role with the ``controller`` login:

* it answers every ``destinationRequest`` (QoS 1) with a ``destination`` (QoS 1, chutes round robin);
* every ``--probe-interval`` seconds it sends one vehicle a ``stateRequest`` instant action and
  times the state that answers it (bus + broker + fleet round trip, as the controller sees it).

Measured: QoS 1 loss (every ``inducted`` and ``destinationRequest`` the sorter reports in its final
counters must have arrived here; every reply must have been applied in time, i.e. no late
replies), QoS 0 state messages received vs the rate asked, round-trip p50/p99, and CPU (percent of
one core, averaged) and peak memory (RSS) of the broker, fleet and sorter from ``/proc``.

The controller service itself (``bulletyard serve``) is not on this branch: its own reaction time
is measured by ``bench/controller.py`` on branch ``controller``.

    python bench/load.py                    # 500 robots, 600 s (10 minutes), state at 2 Hz
    python bench/load.py --robots 50 --duration 60
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.figures import FigureTable, add_figures_option  # noqa: E402
from bulletyard.secure_broker import generate_secure_broker  # noqa: E402
from bulletyard.supervisor import ProcessSupervisor, free_port  # noqa: E402
from bulletyard.system import System  # noqa: E402
from bus.clock import WallClock, iso_timestamp  # noqa: E402
from bus.mqtt import MqttTransport  # noqa: E402
from controller.stats import percentile  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of ``pid`` (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MiB."""
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE / 2**20


def run(
    robots: int, duration_s: float, state_interval_s: float, probe_interval_s: float, folder: Path
) -> dict:
    setup = generate_secure_broker(folder / "broker", robots=robots, tls_port=free_port())
    system = System(
        setup,
        folder,
        layout="fc",
        robots=robots,
        parts=("broker", "fleet", "sorter"),
        ready_timeout_s=120 + robots * 0.2,
        fleet_args=["--visualization-interval", "0", "--state-interval", str(state_interval_s)],
    )
    supervisor = ProcessSupervisor()
    site, sorter = setup.site, "sorter-1"
    prefix = f"bulletyard/v1/{site}/sorter/{sorter}"
    clock = WallClock()
    ctl = MqttTransport(
        setup.tls_url,
        "bench-controller",
        username="controller",
        password=setup.account("controller").password,
        ca_file=str(setup.ca_file),
    )
    counts: dict[str, int] = {}
    probes: dict[str, float] = {}
    rtt_ms: list[float] = []
    header = itertools.count()
    chutes = itertools.cycle([f"c{i:03d}" for i in range(1, 201)])
    serials = setup.robots()
    try:
        system.start(supervisor, log=lambda line: print(line, flush=True), only=["broker"])
        ctl.connect()  # before the sorter starts: every QoS 1 message it sends must arrive here
        ctl.subscribe(f"{prefix}/+", qos=1)
        ctl.subscribe("uagv/v2/bulletyard/+/state", qos=0)
        system.start(supervisor, log=lambda line: print(line, flush=True), only=["fleet", "sorter"])
        pids = {name: system.child(name).pid for name in ("broker", "fleet", "sorter")}
        cpu0 = {name: cpu_s(pid) for name, pid in pids.items()}
        peak = {name: rss_mb(pid) for name, pid in pids.items()}
        start = time.monotonic()
        next_probe = start
        next_sample = start
        probe_no = 0
        print(f"measuring for {duration_s:.0f} s", flush=True)
        while (now_m := time.monotonic()) < start + duration_s:
            if now_m >= next_probe:
                serial = serials[probe_no % len(serials)]
                action_id = f"probe-{probe_no}"
                probe_no += 1
                payload = {
                    "headerId": next(header),
                    "timestamp": iso_timestamp(clock.now()),
                    "version": "2.1.0",
                    "manufacturer": "bulletyard",
                    "serialNumber": serial,
                    "actions": [
                        {"actionType": "stateRequest", "actionId": action_id, "blockingType": "NONE"}
                    ],
                }
                probes[action_id] = time.monotonic()
                ctl.publish(f"uagv/v2/bulletyard/{serial}/instantActions", json.dumps(payload).encode())
                next_probe += probe_interval_s
            if now_m >= next_sample:
                for name, pid in pids.items():
                    peak[name] = max(peak[name], rss_mb(pid))
                next_sample += 5
            ctl.wait(0.05)
            for msg in ctl.drain():
                kind = msg.topic.rsplit("/", 1)[1]
                counts[kind] = counts.get(kind, 0) + 1
                if kind == "destinationRequest":
                    item = json.loads(msg.payload)["itemId"]
                    reply = {
                        "headerId": next(header),
                        "timestamp": iso_timestamp(clock.now()),
                        "version": "1.0.0",
                        "sorterId": sorter,
                        "itemId": item,
                        "chuteId": next(chutes),
                    }
                    ctl.publish(f"{prefix}/destination", json.dumps(reply).encode(), qos=1)
                elif kind == "state" and b"probe-" in msg.payload:
                    for action_id in re.findall(rb'"actionId":\s*"(probe-\d+)"', msg.payload):
                        sent = probes.pop(action_id.decode(), None)
                        if sent is not None:
                            rtt_ms.append((time.monotonic() - sent) * 1000)
        elapsed = time.monotonic() - start
        cpu = {name: 100 * (cpu_s(pid) - cpu0[name]) / elapsed for name, pid in pids.items()}
        for name, pid in pids.items():
            peak[name] = max(peak[name], rss_mb(pid))
        system.child("sorter").stop(20)  # its final counters, then whatever QoS 1 is still in flight
        quiet_until, hard_stop = time.monotonic() + 2, time.monotonic() + 15
        while time.monotonic() < min(quiet_until, hard_stop):  # vehicle states never stop: watch the sorter
            ctl.wait(0.2)
            for msg in ctl.drain():
                kind = msg.topic.rsplit("/", 1)[1]
                if "/sorter/" in msg.topic:
                    counts[kind] = counts.get(kind, 0) + 1
                    quiet_until = time.monotonic() + 2
    finally:
        ctl.close()
        system.close()
        supervisor.stop_all(20)
    sorter_line = next(
        (line for line in reversed(system.child("sorter").log_tail(10).splitlines()) if "stopped:" in line),
        "",
    )
    reported = {k: int(v) for k, v in re.findall(r"(\w+) (\d+)", sorter_line.split("stopped:", 1)[-1])}
    return {
        "robots": robots,
        "duration_s": round(elapsed, 1),
        "counts": counts,
        "sorter_final": reported,
        "probes_sent": probe_no,
        "probes_answered": len(rtt_ms),
        "rtt_p50_ms": round(statistics.median(rtt_ms), 1) if rtt_ms else None,
        "rtt_p99_ms": round(percentile(rtt_ms, 99), 1),
        "rtt_max_ms": round(max(rtt_ms, default=0), 1),
        "state_expected": round(robots * elapsed / state_interval_s),
        "cpu_pct": {k: round(v, 1) for k, v in cpu.items()},
        "rss_peak_mb": {k: round(v, 1) for k, v in peak.items()},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--robots", type=int, default=500)
    parser.add_argument("--duration", type=float, default=600.0, help="measured seconds (default 600)")
    parser.add_argument(
        "--state-interval", type=float, default=0.5, help="vehicle state period, s (default 0.5)"
    )
    parser.add_argument("--probe-interval", type=float, default=0.2, help="stateRequest round trips, s")
    parser.add_argument("--keep", type=Path, default=None, help="keep the run folder here (logs)")
    add_figures_option(parser)
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bulletyard-load-"))
    result = run(args.robots, args.duration, args.state_interval, args.probe_interval, folder)
    print(json.dumps(result, indent=1))
    c, s = result["counts"], result["sorter_final"]
    table = FigureTable(
        f"load-{args.robots}", "The whole bus under load over TLS: vehicles, sorter, probes",
        ["figure", "value"],
        {"robots": args.robots, "measured s": args.duration, "state period s": args.state_interval,
         "probe period s": args.probe_interval},
    )
    table.add("robots / measured s", f"{result['robots']} / {result['duration_s']}")
    table.add("state msgs received / asked (QoS 0)", f"{c.get('state', 0)} / {result['state_expected']}")
    table.add("inducted received here / sorter total (QoS 1)",
              f"{c.get('inducted', 0)} / {s.get('inducted')}")
    table.add("destinationRequest received (QoS 1)", c.get("destinationRequest", 0))
    table.add("divertConfirm received (QoS 1)", c.get("divertConfirm", 0))
    table.add("sorter late replies (no destination in time)", s.get("late"))
    table.add("stateRequest round trip p50 / p99 / max ms",
              f"{result['rtt_p50_ms']} / {result['rtt_p99_ms']} / {result['rtt_max_ms']} "
              f"({result['probes_answered']}/{result['probes_sent']} answered)")
    for name in ("broker", "fleet", "sorter"):
        table.add(f"{name} CPU % of a core / peak RSS MiB",
                  f"{result['cpu_pct'][name]} / {result['rss_peak_mb'][name]}")
    table.emit(args.figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
