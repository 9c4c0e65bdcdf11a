"""How many simulated vehicles one process serves in real time over Mosquitto at 2 Hz state.

Run from the repository root::

    python bench/robots.py                 # 100, 250, 500, 750 vehicles, 3 repeats, medians
    python bench/robots.py --counts 500 --seconds 10

For each fleet size N, one fleet process (this one) runs N ``VehicleAgent``s on
``KinematicDrive``s, each with its own ``MqttTransport`` (own client id and last will), with
``state_interval_s = 0.5`` (2 Hz) and visualization off. Every vehicle gets a hand-written order
up and down its aisle so it keeps driving (node arrivals add state messages on top of the 2 Hz).
A subscriber in a child process (as the controller would be) counts the ``state`` messages the
broker delivers in the measuring window.

Network layer (``net``): ``shared`` is what ``bulletyard robots`` uses, one epoll thread for every
client (``bus/vda5050/shared_loop.py``); ``threads`` is the peer, paho's own ``loop_start`` thread
per client (plain ``MqttTransport``), run for the sizes where it can work at all (paho's
``select()`` fails past about 330 clients in one process).

- ``state/s``: state messages received by the subscriber per second (target 2 N, more with arrivals).
- ``ratio``: state/s divided by 2 N; below 1.0 the fleet falls behind.
- ``lag p50/p99/max``: how late the fleet loop ran the agents' wakeups, milliseconds.
- ``cpu``: CPU seconds of the fleet process per wall second (1.0 = one core busy).
- ``real time``: yes when ratio >= 0.95 and lag p99 <= 100 ms.

Every figure is the median over ``--repeats`` runs, on loopback, on a shared machine (noisy).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.figures import FigureTable, add_figures_option  # noqa: E402
from bus.clock import WallClock  # noqa: E402
from bus.mqtt import MqttTransport  # noqa: E402
from bus.vda5050 import to_payload  # noqa: E402
from bus.vda5050.shared_loop import SharedNetworkLoop  # noqa: E402
from controller.stats import percentile  # noqa: E402
from robots.config import VehicleConfig  # noqa: E402
from robots.fleet import FleetRunner, build_agents  # noqa: E402
from robots.kinematic import KinematicDrive  # noqa: E402
from robots.script_orders import line_order  # noqa: E402
from tests.broker import MosquittoBroker  # noqa: E402
from warehouse_maps import load_layout  # noqa: E402


def subscriber(url: str, ready, start_at: float, end_at: float, out) -> None:  # noqa: ANN001
    """Child process: count state messages received between ``start_at`` and ``end_at`` (monotonic)."""
    sub = MqttTransport(url, "bench-controller")
    sub.connect()
    sub.subscribe("uagv/v2/+/+/state", qos=0)
    ready.set()
    count = 0
    while time.time() < end_at + 1.0:
        sub.wait(0.2)
        got = sub.drain()
        now = time.time()
        if start_at <= now <= end_at:
            count += len(got)
    sub.close()
    out.put(count)


def back_and_forth(layout, cell, legs: int = 40) -> list[tuple[str, float, float]]:  # noqa: ANN001
    """A long hand-written route: one cell on and back, ``legs`` times (keeps a vehicle busy)."""
    options = list(layout.grid.neighbors(cell))
    other = options[0] if options else cell
    cells = [cell if k % 2 == 0 else other for k in range(legs + 1)]
    return [(f"n{x}_{y}", *layout.cell_centre_m((x, y))) for x, y in cells]


def run_once(url: str, count: int, seconds: float, net_kind: str = "shared") -> dict[str, float]:
    """One fleet of ``count`` vehicles for ``seconds`` of measurement."""
    layout = load_layout("fc")
    clock = WallClock()
    config = VehicleConfig(state_interval_s=0.5, visualization_interval_s=None)
    agents = build_agents(layout, count, start=clock.now(), config=config,
                          drive_factory=lambda i, s, pose, t0: KinematicDrive(pose, start=t0))
    if net_kind == "shared":
        inbound = threading.Event()
        net = SharedNetworkLoop(activity=inbound)
        fleet = FleetRunner(agents, lambda cid: net.attach(MqttTransport(url, cid)), clock, inbound=inbound)
    else:
        net = None
        fleet = FleetRunner(agents, lambda cid: MqttTransport(url, cid), clock, poll_s=0.02)
    fleet.start()
    feeder = MqttTransport(url, "bench-orders")
    if net is not None:  # past 1024 descriptors paho's own select() loop cannot serve it either
        net.attach(feeder)
    feeder.connect()
    for agent in agents:
        cell = layout.cell_at_m(agent.initial_pose.x_m, agent.initial_pose.y_m)
        order = line_order(serial_number=agent.serial_number, order_id="bench", map_id=layout.name,
                           waypoints=back_and_forth(layout, cell), now=clock.now())
        feeder.publish(f"uagv/v2/bulletyard/{agent.serial_number}/order", to_payload(order))
    warmup_s = 2.0
    ctx = mp.get_context("spawn")
    ready, out = ctx.Event(), ctx.Queue()
    start_at = time.time() + warmup_s + 1.0
    end_at = start_at + seconds
    child = ctx.Process(target=subscriber, args=(url, ready, start_at, end_at, out))
    child.start()
    ready.wait(30)
    loop = threading.Thread(target=fleet.run, daemon=True)
    cpu0 = time.process_time()
    wall0 = time.time()
    loop.start()
    while time.time() < start_at:
        time.sleep(0.05)
    fleet.stats.lags_s.clear()
    cpu_start, wall_start = time.process_time(), time.time()
    while time.time() < end_at:
        time.sleep(0.05)
    cpu = (time.process_time() - cpu_start) / (time.time() - wall_start)
    lags = sorted(fleet.stats.lags_s)
    fleet.stop()
    loop.join(10)
    received = out.get(timeout=30)
    child.join(10)
    fleet.close(clean=True)
    feeder.close()
    if net is not None:
        net.close()
    del cpu0, wall0

    def pct(q: float) -> float:
        return percentile(lags, q * 100) * 1000 if lags else 0.0

    rate = received / seconds
    return {"state_per_s": rate, "ratio": rate / (2 * count), "lag_p50_ms": pct(0.5),
            "lag_p99_ms": pct(0.99), "lag_max_ms": (lags[-1] * 1000 if lags else 0.0), "cpu": cpu}


def main(argv: list[str] | None = None) -> int:
    """Measure each fleet size and print a table of medians."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[100, 250, 500, 750])
    parser.add_argument("--seconds", type=float, default=10.0, help="measuring window per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--peer-max", type=int, default=250,
                        help="also run the thread-per-client peer for sizes up to this (0: never)")
    add_figures_option(parser)
    args = parser.parse_args(argv)
    table = FigureTable(
        "robots-fleet", "Simulated vehicles on one shared network loop: state rate and loop lag (medians)",
        ["vehicles", "net", "state/s", "ratio", "lag p50 ms", "lag p99 ms", "lag max ms", "cpu", "real time"],
        {"counts": " ".join(map(str, args.counts)), "seconds": args.seconds, "repeats": args.repeats,
         "peer max": args.peer_max},
    )
    for count in args.counts:
        kinds = ["shared"] + (["threads"] if count <= args.peer_max else [])
        for net_kind in kinds:
            runs = []
            failure = ""
            for _ in range(args.repeats):
                with tempfile.TemporaryDirectory() as tmp:
                    broker = MosquittoBroker(Path(tmp))
                    broker.start()
                    try:
                        runs.append(run_once(broker.url, count, args.seconds, net_kind))
                    except ConnectionError as err:  # the peer's select() loop gives out
                        failure = str(err)
                        break
                    finally:
                        broker.stop()
            if failure:
                table.add(count, net_kind, f"fails: {failure}", "", "", "", "", "", "no")
                continue
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            ok = med["ratio"] >= 0.95 and med["lag_p99_ms"] <= 100
            table.add(count, net_kind, f"{med['state_per_s']:.0f}", f"{med['ratio']:.2f}",
                      f"{med['lag_p50_ms']:.1f}", f"{med['lag_p99_ms']:.1f}", f"{med['lag_max_ms']:.0f}",
                      f"{med['cpu']:.2f}", "yes" if ok else "no")
            print("  run:", table.rows[-1], flush=True)
    table.emit(args.figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
