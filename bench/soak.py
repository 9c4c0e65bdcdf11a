"""A long run of ``bulletyard up`` in real time: does memory stay flat?

It runs ``bulletyard up`` itself (generated secure Mosquitto, ``bulletyard serve``, the simulated
fleet, the layout's sorting line when the layout has a sorter, the WMS feeder), feeding orders at
``--rate`` for ``--minutes``, and every ``--every`` seconds scrapes the controller's Prometheus
endpoint (orders by state, messages, reaction time, ``process_resident_memory_bytes``) and reads
every child's resident memory from ``/proc``. Each sample is one JSON line in ``--out`` as it is
taken (a run stopped early keeps what it measured); the end prints a Markdown table and the
controller's memory slope over the second half of the run (MiB per hour, least squares).

    python bench/soak.py --layout fc --robots 500 --minutes 60
    python bench/soak.py --layout small-fc --robots 10 --minutes 5 --every 30
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.figures import FigureTable, add_figures_option  # noqa: E402
from bench.load import rss_mb  # noqa: E402
from bulletyard.supervisor import bulletyard_argv  # noqa: E402

COMMANDS = {"mosquitto": "broker", "serve": "controller", "robots": "fleet", "sorter": "sorter",
            "feed": "feeder"}


def scrape(port: int) -> dict[str, float]:
    """The controller's metrics as name{labels} -> value."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def children(pid: int) -> dict[str, int]:
    """The ``up`` process's children by part name (broker, controller, fleet, sorter, feeder)."""
    found: dict[str, int] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            words = [w.decode(errors="replace") for w in argv]
            for word, part in COMMANDS.items():
                if any(w == word or w.endswith("/" + word) for w in words[:4]):
                    found[part] = int(child)
    return found


def sample(up_pid: int, port: int, t0: float) -> dict[str, object]:
    """One row: elapsed minutes, every child's RSS (MiB) and the controller's metrics of interest."""
    m = scrape(port)
    rss = {name: round(rss_mb(pid), 1) for name, pid in sorted(children(up_pid).items())}
    orders = {k.split('"')[1]: int(v) for k, v in m.items() if k.startswith("bulletyard_orders{")}
    return {
        "minutes": round((time.monotonic() - t0) / 60, 2),
        "rss_mib": rss,
        "controller_rss_metric_mib": round(m.get("process_resident_memory_bytes", 0) / 2**20, 1),
        "orders": orders,
        "messages_in": int(m.get('bulletyard_messages_total{direction="in"}', 0)),
        "reaction_p99_ms": round(m.get('bulletyard_reaction_seconds{quantile="0.99"}', 0) * 1e3, 2),
        "controller_cpu_s": m.get("process_cpu_seconds_total", 0.0),
    }


def slope_mib_per_h(rows: list[dict], key: str = "controller_rss_metric_mib") -> float:
    """Least-squares slope of ``key`` over the second half of the rows, in MiB per hour."""
    half = rows[len(rows) // 2:]
    if len(half) < 2:
        return float("nan")
    xs = [r["minutes"] / 60 for r in half]
    ys = [r[key] for r in half]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else float("nan")


def main() -> None:
    """Run ``bulletyard up``, sample, stop it with SIGTERM, print the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--layout", default="fc")
    p.add_argument("--robots", type=int, default=500)
    p.add_argument("--minutes", type=float, default=60.0, help="how long to run after start-up")
    p.add_argument("--rate", type=float, default=0.5, help="orders per second from the feeder")
    p.add_argument("--every", type=float, default=60.0, help="seconds between samples")
    p.add_argument("--out", type=Path, default=Path("soak.jsonl"), help="JSON line per sample")
    add_figures_option(p)
    args = p.parse_args()
    rows: list[dict] = []

    def stop_early(signum, frame):  # noqa: ANN001, ANN202, ARG001
        raise KeyboardInterrupt  # SIGTERM too: stop sampling, stop up, still print the table

    signal.signal(signal.SIGTERM, stop_early)
    with tempfile.TemporaryDirectory(prefix="by-soak-") as tmp:
        orders = int(args.rate * args.minutes * 60) + 100
        up = subprocess.Popen(
            bulletyard_argv("up", "--layout", args.layout, "--robots", str(args.robots), "--dir", tmp,
                            "--orders", str(orders), "--rate", str(args.rate), "--ready-timeout", "180"),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            for line in up.stdout:  # type: ignore[union-attr]
                print(line, end="", flush=True)
                if line.startswith("up: "):
                    break
            else:
                raise SystemExit(f"bulletyard up ended with status {up.wait()}")
            serving = next(x for x in (Path(tmp) / "logs" / "controller.log").read_text().splitlines()
                           if "metrics port" in x)
            port = int(re.search(r"metrics port (\d+)", serving).group(1))  # type: ignore[union-attr]
            print(serving, flush=True)
            t0 = time.monotonic()
            with args.out.open("w") as out:
                while up.poll() is None:
                    row = sample(up.pid, port, t0)
                    rows.append(row)
                    out.write(json.dumps(row) + "\n")
                    out.flush()
                    print(json.dumps(row), flush=True)
                    if row["minutes"] >= args.minutes:
                        break
                    time.sleep(args.every)  # a benchmark's pacing, not a test's wait
        except KeyboardInterrupt:
            print("stopped early", flush=True)
        finally:
            up.send_signal(signal.SIGTERM)
            rest = up.communicate(timeout=120)[0]
            print(rest, flush=True)
    last = rows[-1] if rows else {"minutes": 0}
    table = FigureTable(
        f"soak-{args.robots}", "bulletyard up in real time: memory, orders and reaction over the run",
        ["min", "controller RSS (MiB, metric)", "fleet", "sorter", "broker", "orders complete", "open",
         "messages in", "reaction p99 (ms)"],
        {"robots": args.robots, "layout": args.layout, "minutes": f"{last['minutes']:.0f}",
         "orders per s": args.rate},
        notes=f"Controller RSS slope over the second half: {slope_mib_per_h(rows):+.1f} MiB/h.",
    )
    for r in rows:
        o = r["orders"]
        open_orders = sum(n for s, n in o.items() if s not in ("complete", "failed", "refused"))
        rss = r["rss_mib"]
        table.add(f"{r['minutes']:.0f}", r["controller_rss_metric_mib"], rss.get("fleet"),
                  rss.get("sorter"), rss.get("broker"), o.get("complete", 0), open_orders, r["messages_in"],
                  r["reaction_p99_ms"])
    table.emit(args.figures)


if __name__ == "__main__":
    main()
