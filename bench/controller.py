"""Controller service benchmarks: reaction time under load, and exactly-once through repeated kills.

Both run the deployment as ``bulletyard up`` does (a generated secure Mosquitto with TLS, passwords
and ACLs; ``bulletyard serve``, the simulated fleet and the WMS feeder as separate processes) and
watch the bus with the read-only ``monitor`` login.

``reaction`` (default 200 robots on ``fc``): how long from a vehicle's ``state`` to the
controller's next ``order`` for that vehicle, two ways. The controller's own metric
(``bulletyard_reaction_seconds``) runs from its MQTT adapter receiving a state (time queued behind
other messages included) to the orders that state caused being handed to the network. The
monitor's view pairs each state that reports progress (``lastNodeSequenceId`` advanced) with the
next order update to the same vehicle before that vehicle's next state, both as they arrive at the
monitor; it includes releases that had to wait for another robot to move first (the action
dependency graph), so its tail is not the controller's reaction alone. CPU and peak memory of the
controller process are reported next to them.

``kills``: the controller is SIGKILLed at random moments (``--kills`` times) while orders flow
and restarted on the same journal each time; every order must end ``complete`` exactly once,
counted from the ``orderStatus`` topic.

    python bench/controller.py reaction                  # 200 robots on fc, 120 s measured
    python bench/controller.py reaction --robots 50 --duration 30
    python bench/controller.py kills                     # 10 kills, small-fc, 8 robots, 30 orders

``delays``: the delay-injection hour of the 2026 League of Robot Runners style (each robot, each
simulated second, is delayed with probability P for a uniform 1 to 200 s) at 100 robots on ``fc``,
in the lock-step simulator where collisions are checked independently from the trace and by
PyBullet contacts. One run without delays is the peer; throughput lost is the difference in order
lines per hour. A deadlock shows as work that never finishes: the run reports robots with work that
stood still longer than 120 s (``stuck``; behind a robot delayed for up to 200 s this is expected)
and the order lines completed in the last 10 simulated minutes (zero would mean the fleet locked up).

    python bench/controller.py delays                    # P = 0.0005 and 0.02, one simulated hour each
    python bench/controller.py delays --sim-s 600 --p 0.02
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.figures import FigureTable, add_figures_option  # noqa: E402
from bench.load import cpu_s, rss_mb  # noqa: E402
from bulletyard.secure_broker import generate_secure_broker  # noqa: E402
from bulletyard.supervisor import ProcessSupervisor, free_port  # noqa: E402
from bulletyard.system import System  # noqa: E402
from bus.mqtt import MqttTransport  # noqa: E402
from controller.stats import percentile  # noqa: E402

TERMINAL = ("complete", "failed", "cancelled", "refused")


def _monitor(system: System, topics: list[tuple[str, int]]) -> MqttTransport:
    setup = system.setup
    t = MqttTransport(setup.tls_url, "bench-monitor", username="monitor",
                      password=setup.account("monitor").password, ca_file=str(setup.ca_file))
    t.connect()
    for topic, qos in topics:
        t.subscribe(topic, qos=qos)
    t.wait_ready(10.0)
    return t


def _system(folder: Path, layout: str, robots: int, orders: int, rate: float, metrics_port: int) -> System:
    setup = generate_secure_broker(folder / "broker", robots=robots, tls_port=free_port())
    return System(setup, folder, layout=layout, robots=robots, orders=orders, rate_per_s=rate,
                  parts=("broker", "controller", "fleet", "feeder"), ready_timeout_s=120,
                  fleet_args=["--visualization-interval", "0"],
                  controller_args=["--metrics-port", str(metrics_port)])


class ReactionMeter:
    """Pairs each progress state with the next order update to the same vehicle (see module doc)."""

    def __init__(self) -> None:
        self.pending: dict[str, tuple[float, int]] = {}  # serial -> (state arrival s, its seq)
        self.last_seq: dict[str, int] = {}
        self.last_update: dict[str, tuple[str, int]] = {}
        self.samples_ms: list[float] = []
        self.states = 0
        self.orders = 0

    def take(self, topic: str, payload: bytes, arrival_s: float) -> None:
        serial, kind = topic.split("/")[3], topic.split("/")[4]
        data = json.loads(payload)
        if kind == "state":
            self.states += 1
            seq = int(data["lastNodeSequenceId"])
            advanced = seq > self.last_seq.get(serial, -1)
            self.last_seq[serial] = seq
            if advanced:
                self.pending[serial] = (arrival_s, seq)
            else:
                self.pending.pop(serial, None)
        elif kind == "order":
            self.orders += 1
            update = (data["orderId"], int(data["orderUpdateId"]))
            if self.last_update.get(serial) == update:
                return  # a resend, not a reaction
            self.last_update[serial] = update
            if serial in self.pending:
                state_s, _ = self.pending.pop(serial)
                self.samples_ms.append((arrival_s - state_s) * 1e3)


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return float("nan")


def reaction(args: argparse.Namespace) -> None:
    """Reaction time of the controller service at ``--robots`` robots."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="by-bench-ctrl-") as tmp:
        system = _system(Path(tmp), args.layout, args.robots, args.orders, args.rate, port)
        supervisor = ProcessSupervisor()
        try:
            system.start(supervisor, log=lambda line: print(line, flush=True))
            monitor = _monitor(system, [("uagv/v2/+/+/state", 0), ("uagv/v2/+/+/order", 0)])
            meter = ReactionMeter()
            pid = system.child("controller").pid
            cpu0, t0 = cpu_s(pid), time.monotonic()
            peak_rss = 0.0
            next_sample = t0
            while time.monotonic() - t0 < args.duration:
                monitor.wait(0.05)
                for msg in monitor.drain():
                    meter.take(msg.topic, msg.payload, time.time())
                if time.monotonic() >= next_sample:
                    peak_rss = max(peak_rss, rss_mb(pid))
                    next_sample += 1.0
            cpu = (cpu_s(pid) - cpu0) / (time.monotonic() - t0) * 100
            text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
            monitor.close()
        finally:
            system.close()
            supervisor.stop_all(20)
    s = meter.samples_ms

    def ms(name: str, q: str) -> float:
        return _metric(text, f'{name}{{quantile="{q}"}}') * 1e3

    rs = "bulletyard_reaction_seconds"
    table = FigureTable(
        f"controller-reaction-{args.robots}", "Controller service reaction time (bulletyard serve over MQTT)",
        ["measure", "value"],
        {"robots": args.robots, "layout": args.layout, "measured s": args.duration, "orders": args.orders,
         "rate": args.rate},
    )
    table.add("states seen / orders seen", f"{meter.states} / {meter.orders}")
    table.add("reactions paired", len(s))
    table.add("progress state -> next order to it, p50 / p99 / max (ms, monitor's view; includes waits "
              "for other robots)", f"{percentile(s, 50):.1f} / {percentile(s, 99):.1f} / "
              f"{max(s, default=float('nan')):.1f}")
    table.add("state received -> orders sent, p50 / p99 (ms, controller's metric)",
              f"{ms(rs, '0.5'):.2f} / {ms(rs, '0.99'):.2f}")
    table.add("controller tick p50 / p99 (ms)",
              f"{ms('bulletyard_plan_seconds', '0.5'):.2f} / {ms('bulletyard_plan_seconds', '0.99'):.2f}")
    table.add("controller CPU (% of one core) / peak RSS (MiB)", f"{cpu:.0f} / {peak_rss:.0f}")
    held = "holds" if ms(rs, "0.99") <= 50 else "does not hold"
    table.add("target p99 <= 50 ms (controller's metric)", held)
    table.emit(args.figures)


def kills(args: argparse.Namespace) -> None:
    """Kill the controller ``--kills`` times at random moments; count terminal statuses per order."""
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory(prefix="by-bench-kill-") as tmp:
        system = _system(Path(tmp), args.layout, args.robots, args.orders, args.rate, free_port())
        supervisor = ProcessSupervisor()
        terminal: dict[str, list[str]] = {}
        done_kills = 0
        t0 = time.monotonic()
        try:
            system.start(supervisor, log=lambda line: print(line, flush=True))
            site = system.setup.site
            monitor = _monitor(system, [(f"bulletyard/v1/{site}/orderStatus", 1)])
            gaps = rng.uniform(args.min_gap, args.max_gap, size=args.kills)
            next_kill = time.monotonic() + gaps[0]
            while len(terminal) < args.orders and time.monotonic() - t0 < args.timeout:
                if done_kills < args.kills and time.monotonic() >= next_kill:
                    controller = system.child("controller")
                    controller.kill()
                    controller.start()
                    done_kills += 1
                    elapsed = time.monotonic() - t0
                    print(f"kill {done_kills} at {elapsed:.1f} s; {len(terminal)} orders ended", flush=True)
                    if done_kills < args.kills:
                        next_kill = time.monotonic() + gaps[done_kills]
                monitor.wait(0.2)
                for msg in monitor.drain():
                    data = json.loads(msg.payload)
                    if data["status"] in TERMINAL:
                        terminal.setdefault(data["orderId"], []).append(data["status"])
            monitor.wait(2.0)
            for msg in monitor.drain():  # late duplicates would show here
                data = json.loads(msg.payload)
                if data["status"] in TERMINAL:
                    terminal.setdefault(data["orderId"], []).append(data["status"])
            monitor.close()
        finally:
            system.close()
            supervisor.stop_all(20)
    once = sum(1 for v in terminal.values() if v == ["complete"])
    twice = sum(1 for v in terminal.values() if len(v) > 1)
    table = FigureTable("controller-kills", "Controller killed repeatedly: every order ends exactly once",
                        ["measure", "value"],
                        {"robots": args.robots, "layout": args.layout, "orders": args.orders,
                         "kills": args.kills, "seed": args.seed})
    table.add("kills done", done_kills)
    table.add("orders complete exactly once", f"{once} / {args.orders}")
    table.add("orders with more than one terminal status", twice)
    table.add("orders never finished", args.orders - len(terminal))
    table.add("wall time (s)", f"{time.monotonic() - t0:.0f}")
    table.emit(args.figures)
    if once != args.orders:
        raise SystemExit(1)


def delays(args: argparse.Namespace) -> None:
    """One simulated run per delay probability (and one without) at ``--robots`` robots."""
    from bulletyard.runtime.sim_setup import SimOptions, Simulation
    from sim.faults import fault_plan

    rows = []
    for p in [0.0, *args.p]:
        with tempfile.TemporaryDirectory(prefix="by-bench-delay-") as tmp:
            plan = fault_plan(delays=f"{p},1,200") if p > 0 else fault_plan()
            opts = SimOptions(layout=args.layout, robots=args.robots, orders=args.robots * 40,
                              rate_per_h=args.robots * 12.0, seed=args.seed, out=Path(tmp),
                              until_s=args.sim_s, trace_dt_s=0.5, faults=plan)
            sim = Simulation(opts)
            done_at: list[tuple[float, int]] = []
            kpi = sim.kpi

            def progress(t_s: float, kpi=kpi, done_at=done_at) -> None:
                done_at.append((t_s, kpi.completed_lines))

            result = sim.run(on_progress=progress)
            sim.close()
            s = result.summary
            tail = [n for t, n in done_at if t >= args.sim_s - 600]
            rows.append((p, s, (tail[-1] - tail[0]) if tail else 0))
            print(f"P={p}: {s['orders_completed']} orders, {s['order_lines_per_hour']} lines/h", flush=True)
    base = rows[0][1]["order_lines_per_hour"] or 0.0
    table = FigureTable(
        "controller-delays", "LoRR-style delay injection in the simulator",
        ["P (per robot per s)", "orders done", "lines/h", "throughput lost", "collisions (trace/contacts)",
         "min distance (m)", "stuck > 120 s", "lines in last 10 min", "real-time factor"],
        {"robots": args.robots, "layout": args.layout, "simulated s": args.sim_s, "seed": args.seed},
    )
    for p, s, tail in rows:
        lost = 1 - (s["order_lines_per_hour"] or 0.0) / base if base else float("nan")
        table.add(p, s["orders_completed"], s["order_lines_per_hour"], f"{lost:.1%}",
                  f"{s['collisions']}/{s.get('pybullet_contacts', '-')}", s.get("min_robot_distance_m", "-"),
                  s["deadlocks"], tail, s["real_time_factor"])
    table.emit(args.figures)


def main() -> None:
    """Parse the command line and run one benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="which", required=True)
    r = sub.add_parser("reaction", help="state -> order reaction time under load")
    r.add_argument("--layout", default="fc")
    r.add_argument("--robots", type=int, default=200)
    r.add_argument("--orders", type=int, default=2000)
    r.add_argument("--rate", type=float, default=2.0, help="orders per second from the feeder")
    r.add_argument("--duration", type=float, default=120.0, help="seconds measured after start-up")
    r.set_defaults(func=reaction)
    k = sub.add_parser("kills", help="kill the controller repeatedly; every order exactly once")
    k.add_argument("--layout", default="small-fc")
    k.add_argument("--robots", type=int, default=8)
    k.add_argument("--orders", type=int, default=30)
    k.add_argument("--rate", type=float, default=0.5)
    k.add_argument("--kills", type=int, default=10)
    k.add_argument("--min-gap", type=float, default=5.0, help="shortest time between kills (s)")
    k.add_argument("--max-gap", type=float, default=25.0, help="longest time between kills (s)")
    k.add_argument("--seed", type=int, default=1)
    k.add_argument("--timeout", type=float, default=1800.0)
    k.set_defaults(func=kills)
    d = sub.add_parser("delays", help="LoRR-style delay injection in the simulator")
    d.add_argument("--layout", default="fc")
    d.add_argument("--robots", type=int, default=100)
    d.add_argument("--sim-s", type=float, default=3600.0, help="simulated seconds per run")
    d.add_argument("--p", type=float, nargs="+", default=[0.0005, 0.02], help="delay probabilities")
    d.add_argument("--seed", type=int, default=1)
    d.set_defaults(func=delays)
    for command in (r, k, d):
        add_figures_option(command)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
