"""Bus throughput and latency: in-process and MQTT (real Mosquitto on loopback), QoS 0 and 1.

Run from the repository root::

    python bench/bus.py            # default sizes, 3 repeats, medians
    python bench/bus.py --quick    # smaller runs for a smoke check

For 1, 100 and 1,000 distinct ``uagv/v2/bulletyard/agv-NNNN/state`` topics, one publisher sends
VDA 5050-sized state messages (about 700 bytes) to one subscriber on ``uagv/v2/+/+/state``.

The subscriber (the controller's side) drains on the main thread of this process; the publisher
(the fleet's side) runs in a child process, as vehicles do, so the two ends do not share a GIL.

- ``msg/s``: messages received per second, first publish to last receipt, publisher flat out.
- ``p50/p99``: publish-to-drain latency of those same messages (at saturation this is mostly
  queueing); for MQTT a second, paced run at ``--paced-rate`` msg/s shows latency at that load.
- ``lost``: messages published but never received (QoS 1 must be 0).

Every figure is the median over ``--repeats`` runs. Loops are bounded; loopback only.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.figures import FigureTable, add_figures_option  # noqa: E402
from bus.inproc import InProcBroker  # noqa: E402
from bus.mqtt import MqttTransport  # noqa: E402
from bus.topics import vda_filter, vda_topic  # noqa: E402
from controller.stats import percentile  # noqa: E402
from tests.broker import MosquittoBroker  # noqa: E402

STATE_BODY = (
    b'"headerId":0,"timestamp":"2026-11-11T00:00:00.000Z","version":"2.1.0","manufacturer":"bulletyard",'
    b'"serialNumber":"agv-0001","orderId":"o-000123","orderUpdateId":4,"lastNodeId":"n12_7",'
    b'"lastNodeSequenceId":6,"nodeStates":[{"nodeId":"n13_7","sequenceId":8,"released":true}],'
    b'"edgeStates":[{"edgeId":"e12_7-13_7","sequenceId":7,"released":true}],"driving":true,'
    b'"agvPosition":{"x":12.5,"y":-7.5,"theta":0.0,"mapId":"fc","positionInitialized":true},'
    b'"velocity":{"vx":1.2,"vy":0.0,"omega":0.0},"loads":[],"actionStates":[],'
    b'"batteryState":{"batteryCharge":81.5,"charging":false},"operatingMode":"AUTOMATIC",'
    b'"errors":[],"information":[],"safetyState":{"eStop":"NONE","fieldViolation":false}}'
)


def state_payload(seq: int, sent_ns: int) -> bytes:
    """A state-sized JSON payload carrying its sequence number and send time first."""
    return b'{"seq":%d,"sent_ns":%d,' % (seq, sent_ns) + STATE_BODY


def read_stamp(payload: bytes) -> tuple[int, int]:
    """(seq, sent_ns) from :func:`state_payload` without a JSON parse."""
    head = payload[:64].split(b",", 2)
    return int(head[0][7:]), int(head[1][10:])


@dataclass(frozen=True)
class Result:
    """One measured configuration (medians over repeats)."""

    transport: str
    topics: int
    qos: int
    rate_mps: float
    p50_ms: float
    p99_ms: float
    lost: int
    paced_p50_ms: float | None = None
    paced_p99_ms: float | None = None


def topics_for(count: int) -> list[str]:
    return [vda_topic("bulletyard", f"agv-{k:04d}", "state") for k in range(1, count + 1)]


def inproc_once(n_topics: int, qos: int, messages: int, batch: int = 100) -> tuple[float, list[float], int]:
    """Publish ``messages`` in batches, draining after each batch; returns (msg/s, latencies ms, lost)."""
    broker = InProcBroker()
    sub = broker.client("controller")
    sub.connect()
    sub.subscribe(vda_filter("state"), qos=1)
    pub = broker.client("fleet")
    pub.connect()
    topics = topics_for(n_topics)
    payload = state_payload(0, 0)
    # throughput pass: no timestamps in the loop
    received = 0
    clock = time.perf_counter
    start = clock()
    for base in range(0, messages, batch):
        for i in range(base, min(base + batch, messages)):
            pub.publish(topics[i % n_topics], payload, qos)
        received += len(sub.drain())
    elapsed = clock() - start
    # latency pass: stamp every publish, measure when the batch is drained
    latencies: list[float] = []
    now_ns = time.perf_counter_ns
    for base in range(0, min(messages, 50_000), batch):
        sent = []
        for i in range(base, base + batch):
            sent.append(now_ns())
            pub.publish(topics[i % n_topics], payload, qos)
        got = sub.drain()
        done = now_ns()
        latencies += [(done - t) / 1e6 for t in sent[: len(got)]]
    return received / elapsed, latencies, messages - received


def publisher_process(url: str, client_id: str, n_topics: int, qos: int, messages: int,
                      rate_mps: float | None, ready: Any, go: Any, report: Any) -> None:
    """The fleet side, in its own process as vehicles are: publish ``messages`` state messages."""
    pub = MqttTransport(url, client_id)
    pub.connect()
    topics = topics_for(n_topics)
    ready.set()
    go.wait(60)
    now_ns = time.monotonic_ns
    start = now_ns()
    period_ns = int(1e9 / rate_mps) if rate_mps else 0
    for i in range(messages):
        if period_ns:
            due = start + i * period_ns
            while (ahead_ns := due - now_ns()) > 0:
                time.sleep(ahead_ns / 1e9)
        pub.publish(topics[i % n_topics], state_payload(i, now_ns()), qos)
    acked = pub.flush(120)
    report.put((start, now_ns(), acked))
    pub.close()


def mqtt_once(url: str, n_topics: int, qos: int, messages: int, rate_mps: float | None, tag: str
              ) -> tuple[float, list[float], int]:
    """One MQTT run, publisher in a child process; ``rate_mps`` paces it (None: flat out).

    The subscriber drains on this thread as a runner would and records publish-to-drain latency
    (both processes stamp with the same monotonic clock).
    """
    ctx = mp.get_context("spawn")
    ready, go, report = ctx.Event(), ctx.Event(), ctx.Queue()
    sub = MqttTransport(url, f"controller-{tag}")
    sub.connect()
    child = None
    try:
        sub.subscribe(vda_filter("state"), qos=1)
        child = ctx.Process(target=publisher_process, args=(url, f"fleet-{tag}", n_topics, qos, messages,
                                                            rate_mps, ready, go, report))
        child.start()
        if not ready.wait(60):
            raise RuntimeError("publisher process did not connect")
        go.set()
        seen: set[int] = set()
        latencies_ms: list[float] = []
        last_ns = time.monotonic_ns()
        deadline = time.monotonic() + 120
        while len(seen) < messages and time.monotonic() < deadline:
            if not sub.wait(min(2.0, deadline - time.monotonic())):
                if not child.is_alive():
                    break  # the publisher is done: whatever has not arrived is lost
                continue
            got = sub.drain()
            last_ns = time.monotonic_ns()
            for message in got:
                seq, sent = read_stamp(message.payload)
                seen.add(seq)
                latencies_ms.append((last_ns - sent) / 1e6)
        start_ns, _, _ = report.get(timeout=120)
        received = len(seen)
        return received / max(1e-9, (last_ns - start_ns) / 1e9), latencies_ms, messages - received
    finally:
        if child is not None:
            child.join(timeout=60)
        sub.close()


def mqtt_receive_only(url: str, port: int, qos: int, messages: int, tag: str) -> tuple[float, int]:
    """The controller side alone: the C ``mosquitto_pub -l`` feeds ``messages`` states on one topic.

    Shows what the adapter can take in when the publishers are not Python processes on the same
    two cores. Returns (msg/s from the first line written to the last message drained, lost).
    """
    binary = shutil.which("mosquitto_pub")
    if binary is None:
        raise RuntimeError("mosquitto_pub is not installed (mosquitto-clients)")
    lines = b"".join(state_payload(i, 0) + b"\n" for i in range(messages))
    sub = MqttTransport(url, f"controller-{tag}")
    sub.connect()
    try:
        sub.subscribe(vda_filter("state"), qos=1)
        topic = vda_topic("bulletyard", "agv-0001", "state")
        feeder = subprocess.Popen([binary, "-p", str(port), "-q", str(qos), "-l", "-t", topic],
                                  stdin=subprocess.PIPE)
        start = time.monotonic()
        assert feeder.stdin is not None
        feeder.stdin.write(lines)
        feeder.stdin.close()
        seen: set[int] = set()
        last = start
        while len(seen) < messages and sub.wait(5.0):
            for message in sub.drain():
                seen.add(read_stamp(message.payload)[0])
            last = time.monotonic()
        feeder.wait(timeout=60)
        return len(seen) / max(1e-9, last - start), messages - len(seen)
    finally:
        sub.close()


def measure(args: argparse.Namespace) -> list[Result]:
    results: list[Result] = []
    for n_topics in (1, 100, 1000):
        for qos in (0, 1):
            runs = [inproc_once(n_topics, qos, args.inproc_messages) for _ in range(args.repeats)]
            results.append(Result(
                "inproc", n_topics, qos, statistics.median(r[0] for r in runs),
                statistics.median(percentile(r[1], 50) for r in runs),
                statistics.median(percentile(r[1], 99) for r in runs), max(r[2] for r in runs)))
    with tempfile.TemporaryDirectory(prefix="bulletyard-bench-") as tmp:
        broker = MosquittoBroker(Path(tmp) / "broker", extra_config=args.broker_config)
        broker.start()
        try:
            tag = 0
            for n_topics in (1, 100, 1000):
                for qos in (0, 1):
                    runs, paced = [], []
                    for _ in range(args.repeats):
                        tag += 1
                        runs.append(mqtt_once(broker.url, n_topics, qos, args.mqtt_messages, None, f"b{tag}"))
                        paced.append(mqtt_once(
                            broker.url, n_topics, qos, args.paced_messages, args.paced_rate, f"p{tag}"))
                    results.append(Result(
                        "mqtt", n_topics, qos, statistics.median(r[0] for r in runs),
                        statistics.median(percentile(r[1], 50) for r in runs),
                        statistics.median(percentile(r[1], 99) for r in runs), max(r[2] for r in runs),
                        statistics.median(percentile(r[1], 50) for r in paced),
                        statistics.median(percentile(r[1], 99) for r in paced)))
            for qos in (0, 1):
                runs = []
                for _ in range(args.repeats):
                    tag += 1
                    runs.append(mqtt_receive_only(
                        broker.url, broker.port, qos, args.mqtt_messages, f"r{tag}"))
                results.append(Result("mqtt-recv", 1, qos, statistics.median(r[0] for r in runs),
                                      float("nan"), float("nan"), max(r[1] for r in runs)))
        finally:
            broker.stop()
    return results


def table(results: list[Result], args: argparse.Namespace) -> FigureTable:
    """The results as a figure table, with the targets in its notes."""
    out = FigureTable(
        "bus", "Bus throughput and latency per transport, topic count and QoS (medians over repeats)",
        ["transport", "topics", "qos", "msg/s", "p50 ms", "p99 ms", "lost", "paced p50 ms", "paced p99 ms"],
        {"repeats": args.repeats, "inproc msgs/run": args.inproc_messages,
         "mqtt msgs/run": args.mqtt_messages, "paced msgs": args.paced_messages,
         "paced rate /s": args.paced_rate, "payload B": len(state_payload(0, time.perf_counter_ns())),
         "broker config": repr(args.broker_config)},
    )
    for r in results:
        paced = ((f"{r.paced_p50_ms:.3f}", f"{r.paced_p99_ms:.3f}") if r.paced_p50_ms is not None
                 else ("-", "-"))
        out.add(r.transport, r.topics, r.qos, f"{r.rate_mps:,.0f}", f"{r.p50_ms:.3f}", f"{r.p99_ms:.3f}",
                r.lost, *paced)
    notes = ["mqtt-recv = the subscribing adapter alone, fed by the C mosquitto_pub -l (no stamps)."]
    inproc_min = min(r.rate_mps for r in results if r.transport == "inproc")
    notes.append(f"Target inproc >= 200,000 msg/s: {'met' if inproc_min >= 200_000 else 'NOT met'} "
                 f"(lowest {inproc_min:,.0f}).")
    for kind in ("mqtt", "mqtt-recv"):
        q1 = [r for r in results if r.transport == kind and r.qos == 1]
        ok = all(r.rate_mps >= 5000 and r.lost == 0 for r in q1)
        notes.append(f"Target {kind} QoS 1 >= 5,000 msg/s, no loss: {'met' if ok else 'NOT met'} "
                     f"(lowest {min(r.rate_mps for r in q1):,.0f}, lost {sum(r.lost for r in q1)}).")
    out.notes = " ".join(notes)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--inproc-messages", type=int, default=200_000)
    parser.add_argument("--mqtt-messages", type=int, default=20_000)
    parser.add_argument("--paced-messages", type=int, default=5_000)
    parser.add_argument("--paced-rate", type=float, default=5_000.0)
    parser.add_argument("--broker-config", default="set_tcp_nodelay true",
                        help="extra mosquitto.conf lines (docs/bus.md advises set_tcp_nodelay)")
    parser.add_argument("--quick", action="store_true", help="small runs, one repeat")
    add_figures_option(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.inproc_messages, args.mqtt_messages, args.paced_messages = 1, 20_000, 2_000, 1_000
    table(measure(args), args).emit(args.figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
