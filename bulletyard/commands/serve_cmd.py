"""``bulletyard serve``: the master control as a service on an MQTT broker, with the real clock.

    bulletyard serve --broker mqtt[s]://host:port --layout L [--config controller.yaml] [--db path]
                     [--username U --password-file F] [--ca-file CA [--cert-file C --key-file K]]
                     [--sortation auto|on|off] [--journal-keep-events N] [--journal-keep-days D]
                     [--metrics-port 9108] [--log-format text|json] [--seed K]

The composition root for deployment: load the layout and config, open the SQLite journal
(``--db``; orders survive a restart), build the :class:`controller.core.Controller`, connect an
:class:`bus.mqtt.MqttTransport` (TLS and username/password as given; ``mqtts://`` never falls
back to plaintext), serve Prometheus metrics over HTTP, and run the
:class:`bulletyard.runtime.realtime.RealtimeRunner` until SIGTERM or Ctrl-C, which end the loop
after the current iteration and disconnect cleanly. Logs are text or JSON lines on stderr.

The layout's conveyor sorter is driven by default (``--sortation auto``, see
:func:`bulletyard.runtime.site.with_sortation`); the broker password comes from a file or the
environment, never the command line (:mod:`bulletyard.broker_login`).
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys

import numpy as np

from bulletyard.broker_login import add_login_options, password
from bulletyard.errors import UsageError
from bulletyard.inputs.options import seconds_option, seed_option
from bulletyard.inputs.paths import input_file_arg, output_file_arg
from bulletyard.runtime.site import add_site_options, retention, with_sortation

log = logging.getLogger("bulletyard.serve")


class JsonLineFormatter(logging.Formatter):
    """One JSON object per log record: ts (ISO 8601 UTC), level, logger, msg, and exc if any."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        entry = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, separators=(",", ":"))


def setup_logging(level: str, fmt: str) -> None:
    """Configure the root logger: text or JSON lines on stderr, UTC timestamps."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        formatter: logging.Formatter = JsonLineFormatter()
    else:
        formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    import time as _time

    formatter.converter = _time.gmtime
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``serve``."""
    p = sub.add_parser(
        "serve", help="run the master control on an MQTT broker", description=__doc__.splitlines()[0]
    )
    p.add_argument("--broker", required=True, help="mqtt://host:port or mqtts://host:port")
    p.add_argument("--layout", required=True, help="bundled layout name or layout file")
    p.add_argument("--config", type=input_file_arg, default=None,
                   help="controller.yaml (default: built-in defaults)")
    p.add_argument(
        "--db", type=output_file_arg, default=None,
        help="SQLite journal; orders survive restarts (default: none)",
    )
    p.add_argument("--client-id", default="bulletyard-controller", help="MQTT client id")
    add_login_options(p)
    add_site_options(p)
    p.add_argument("--ca-file", default=None, help="CA bundle for mqtts://")
    p.add_argument("--cert-file", default=None, help="client certificate for mutual TLS")
    p.add_argument("--key-file", default=None, help="client key for mutual TLS")
    p.add_argument("--metrics-host", default="127.0.0.1", help="metrics listen address (default 127.0.0.1)")
    p.add_argument("--metrics-port", type=int, default=9108, help="metrics port, 0 picks one, -1 disables")
    p.add_argument("--log-format", choices=("text", "json"), default="text", help="log lines as text or JSON")
    p.add_argument(
        "--log-level",
        default="INFO",
        type=str.upper,
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="logging level (default INFO)",
    )
    p.add_argument("--seed", type=seed_option, default=0, help="root seed of the controller's random stream")
    p.add_argument("--inventory", type=input_file_arg, default=None, metavar="FILE",
                   help="stock per pod and SKU, CSV or JSON (default: the layout's seeded mixed stock)")
    p.add_argument("--duration", type=seconds_option(0), default=None,
                   help="stop after this many seconds (tests)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the service until SIGTERM/SIGINT (or ``--duration``); exit status 0 on a clean stop."""
    from bulletyard.metrics import MetricsServer, render
    from bulletyard.runtime.realtime import RealtimeRunner
    from bus.clock import WallClock, seconds
    from bus.mqtt import MqttTransport
    from bus.mqtt_url import redact_url
    from controller.config import load_config
    from controller.core import Controller
    from controller.journal import Journal
    from controller.orders.stock import StockFileError, load_stock
    from warehouse_maps.catalog import load_layout

    setup_logging(args.log_level, args.log_format)
    layout = load_layout(args.layout)
    config = with_sortation(load_config(args.config), layout, args.sortation)
    if args.metrics_port < -1 or args.metrics_port > 65535:
        raise UsageError(f"--metrics-port {args.metrics_port} is not a port")
    try:  # every input checked before the broker is contacted
        stock = load_stock(args.inventory, layout) if args.inventory is not None else None
    except StockFileError as err:
        raise UsageError(str(err)) from None
    transport = MqttTransport(
        args.broker,
        args.client_id,
        username=args.username,
        password=password(args),
        ca_file=args.ca_file,
        cert_file=args.cert_file,
        key_file=args.key_file,
        clean_session=False,  # the broker keeps QoS 1 orders for us while we restart
    )
    journal = Journal(args.db, retention=retention(args)) if args.db is not None else None
    rng = np.random.default_rng(args.seed)
    controller = Controller(config, layout, rng, journal=journal, inventory=stock)
    runner = RealtimeRunner(controller, transport)
    metrics = None
    if args.metrics_port >= 0:

        def snapshot() -> str:
            with runner.lock:
                return render(controller, runner.stats)

        metrics = MetricsServer(snapshot, args.metrics_host, args.metrics_port)
        metrics.start()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda _signum, _frame: runner.stop())
    log.info(
        "serving layout %s on %s (journal %s, epoch %s, metrics port %s, sortation %s)",
        layout.name,
        redact_url(args.broker),
        args.db,
        journal.epoch if journal else "-",
        metrics.port if metrics else "off",
        "on" if controller.sortation is not None else "off",
    )
    runner.start()
    until = WallClock().now() + seconds(args.duration) if args.duration is not None else None
    try:
        runner.run(until=until)
    finally:
        runner.close()
        if metrics is not None:
            metrics.stop()
        if journal is not None:
            journal.close()
        log.info("stopped: orders %s", controller.order_counts())
    return 0
