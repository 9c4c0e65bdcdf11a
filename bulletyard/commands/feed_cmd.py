"""``bulletyard feed``: a stand-in WMS that sends seeded orders at a rate and counts statuses back.

It publishes ``--orders`` orders on ``bulletyard/v1/{site}/orders`` (QoS 1), ``--rate`` per second,
subscribes to ``orderStatus`` and ends when every order has a terminal status (exit 0), after
``--timeout`` seconds (exit 1), or on Ctrl-C/SIGTERM (exit 1 unless everything was done). Its last
line on stdout is the summary as one JSON object, which ``bulletyard up`` and the tests read.
"""

from __future__ import annotations

import argparse
import json
import signal
import time

from bulletyard.broker_login import add_login_options, password
from bulletyard.errors import UsageError
from bulletyard.inputs.options import count_option, positive_number, seconds_option, seed_option, topic_level


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``feed``."""
    p = sub.add_parser("feed", help="send seeded WMS orders to the controller and count their statuses")
    p.add_argument("--broker", required=True, help="mqtt[s]://host:port")
    p.add_argument("--layout", required=True, help="layout the orders pick from (bundled name or file)")
    p.add_argument("--orders", type=count_option(bound="orders"), default=20,
                   help="how many orders (default 20)")
    p.add_argument("--rate", type=positive_number, default=1.0, help="orders per second (default 1)")
    p.add_argument("--max-lines", type=count_option(bound="order_lines"), default=2,
                   help="lines per order, 1 to this, seeded (default 2)")
    p.add_argument("--site", default="site1", type=topic_level,
                   help="site level of the WMS topics (default site1)")
    p.add_argument("--seed", type=seed_option, default=1, help="seed of the order stream (default 1)")
    p.add_argument("--timeout", type=seconds_option(0, above=True), default=None, metavar="S",
                   help="give up after S seconds")
    p.add_argument("--ca-file", default=None, help="CA bundle for mqtts://")
    p.add_argument("--client-id", default="wms", help="MQTT client id (default wms)")
    add_login_options(p)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import numpy as np

    from bulletyard.feeder import OrderFeeder, make_orders
    from bulletyard.runtime.realtime import RealtimeRunner
    from bus.clock import WallClock
    from bus.mqtt import MqttTransport
    from warehouse_maps import load_layout

    if args.orders < 0 or args.rate <= 0 or args.max_lines < 1:
        raise UsageError("--orders must be >= 0, --rate > 0 and --max-lines >= 1")
    layout = load_layout(args.layout)
    clock = WallClock()
    try:
        orders = make_orders(layout, args.orders, np.random.default_rng(args.seed), rate_per_s=args.rate,
                             max_lines=args.max_lines)
    except ValueError as err:
        raise UsageError(str(err)) from None
    feeder = OrderFeeder(args.site, orders, clock.now())
    transport = MqttTransport(args.broker, args.client_id, ca_file=args.ca_file, username=args.username,
                              password=password(args))
    runner = RealtimeRunner(feeder, transport, clock)
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    last_report = time.monotonic()

    def after_cycle() -> None:
        """Stop once every order is done or the timeout passed; report progress every 10 s."""
        nonlocal last_report
        if feeder.done() or (deadline is not None and time.monotonic() > deadline):
            runner.stop()
        if time.monotonic() - last_report > 10:
            last_report = time.monotonic()
            print(f"sent {feeder.sent}/{len(orders)}, terminal {len(feeder.terminal)}", flush=True)

    runner.on_cycle = after_cycle
    signal.signal(signal.SIGTERM, lambda _signum, _frame: runner.stop())
    runner.start()
    print(f"feeding {len(orders)} orders at {args.rate}/s to {feeder.orders_topic}", flush=True)
    try:
        if not feeder.done():
            runner.run()
    except KeyboardInterrupt:
        pass
    finally:
        runner.close()
    print(json.dumps(feeder.summary()), flush=True)
    return 0 if feeder.done() else 1
