"""``bulletyard up --layout L --robots N [--gui]``: the whole system on one machine, secured like a site.

Generates a Mosquitto setup in ``--dir`` (TLS with a fresh CA, a password file, per-account
ACLs; see :mod:`bulletyard.secure_broker`), then starts, each as its own process and each logged
in as itself:

1. Mosquitto (ready when its TLS port listens),
2. the controller service (``bulletyard serve``),
3. the simulated fleet (``bulletyard robots``, every vehicle with its own login): ready when every
   vehicle's retained ``connection`` says ONLINE; the controller is ready when it talks to them,
4. the simulated sorter (``bulletyard sorter``): ready when its ``connection`` says ONLINE. On a
   layout with a conveyor sorter (``equipment.sorter``) it is that layout's sorting line: the
   stations' conveyor puts every picked unit on it and the controller, which drives a layout's
   sorter by default, answers it, so an order is complete once sorted; otherwise a sorter of its
   own with an automatic parcel supply,
5. the WMS order feeder (``bulletyard feed``).

Each process logs in with its own account; its password is in a 0600 file it is pointed at
(``--password-file``), never on a command line that ``ps`` shows. Readiness is read from the bus
with a read-only ``monitor`` login, never guessed with sleeps.
Ctrl-C or SIGTERM stops them in reverse order (SIGINT to our own processes so that each says
OFFLINE, SIGTERM to Mosquitto, SIGKILL after ``--stop-timeout``). Logs are in ``--dir``/logs.
"""

from __future__ import annotations

import argparse
import importlib
import json
import signal
from pathlib import Path

from bulletyard.errors import UsageError
from bulletyard.inputs.options import count_option, positive_number, seconds_option, seed_option, topic_level
from bulletyard.inputs.paths import output_folder_arg

ORDER_OF_START = ("broker", "controller", "fleet", "sorter", "feeder")


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``up``."""
    p = sub.add_parser(
        "up",
        help="start broker (TLS, ACLs), controller, fleet, sorter and order feeder",
        description=__doc__.splitlines()[0],
    )
    p.add_argument("--layout", required=True, help="bundled layout name or layout file")
    p.add_argument("--robots", type=count_option(bound="robots"), required=True,
                   help="number of simulated vehicles")
    p.add_argument("--gui", action="store_true", help="show the fleet in PyBullet's window")
    p.add_argument(
        "--dir",
        type=output_folder_arg,
        default=Path("bulletyard-up"),
        help="folder for certificates, passwords, journal and logs (default ./bulletyard-up)",
    )
    p.add_argument("--port", type=int, default=None, help="TLS port of the broker (default: a free one)")
    p.add_argument(
        "--plain-port",
        type=int,
        default=None,
        help="also listen in plaintext on this loopback port (same logins and ACLs)",
    )
    p.add_argument("--orders", type=count_option(bound="orders"), default=50,
                   help="orders the feeder sends (default 50)")
    p.add_argument("--rate", type=positive_number, default=0.5, help="orders per second (default 0.5)")
    p.add_argument("--seed", type=seed_option, default=1, help="root seed (default 1)")
    p.add_argument("--site", default="site1", type=topic_level,
                   help="site level of the bulletyard topics (default site1)")
    p.add_argument(
        "--without",
        action="append",
        default=[],
        choices=("controller", "sorter", "feeder"),
        help="leave one part out (repeatable), e.g. to run your own controller; without the sorter "
        "the controller does not sort (orders complete when picked)",
    )
    p.add_argument(
        "--exit-when-done",
        action="store_true",
        help="stop everything once the feeder has a final status for every order",
    )
    p.add_argument(
        "--ready-timeout",
        type=seconds_option(0, above=True),
        default=60.0,
        metavar="S",
        help="longest wait for each part to come up (default 60)",
    )
    p.add_argument(
        "--stop-timeout",
        type=seconds_option(0),
        default=10.0,
        metavar="S",
        help="grace before SIGKILL when stopping (default 10)",
    )
    p.set_defaults(func=_run)
    register_setup(sub)


def register_setup(sub: argparse._SubParsersAction) -> None:
    """Add ``broker-setup``: the secure Mosquitto files alone, for a real edge box."""
    p = sub.add_parser(
        "broker-setup", help="write a secure Mosquitto setup (CA, certificate, passwords, ACLs)"
    )
    p.add_argument("--dir", type=output_folder_arg, required=True,
                   help="folder to write (e.g. /etc/bulletyard/broker)")
    p.add_argument("--robots", type=count_option(bound="robots"), required=True,
                   help="vehicle accounts agv-0001 ... agv-NNNN")
    p.add_argument("--port", type=int, default=8883, help="TLS port (default 8883)")
    p.add_argument("--bind", default="127.0.0.1", help="address to listen on (default loopback)")
    p.add_argument("--hostname", action="append", default=[], help="extra certificate name (repeatable)")
    p.add_argument("--sorter", action="append", default=None, help="sorter id (repeatable; default sorter-1)")
    p.add_argument("--site", default="site1", type=topic_level,
                   help="site level of the bulletyard topics (default site1)")
    p.set_defaults(func=_run_setup)


def _run_setup(args: argparse.Namespace) -> int:
    from bulletyard.secure_broker import generate_secure_broker

    if args.robots < 0:
        raise UsageError("--robots must be >= 0")
    setup = generate_secure_broker(
        args.dir,
        robots=args.robots,
        tls_port=args.port,
        host=args.bind,
        hostnames=args.hostname,
        sorters=args.sorter or ["sorter-1"],
        site=args.site,
        persistence=True,
    )
    print(f"wrote {setup.config_file}, {setup.ca_file}, {setup.password_file}, {setup.acl_file}")
    print(f"passwords (give each device only its own): {setup.credentials_file}")
    print(f"start: mosquitto -c {setup.config_file}")
    return 0


def serve_available() -> bool:
    """True when this build has the controller service command (``bulletyard serve``)."""
    from bulletyard.cli import COMMAND_MODULES

    if "serve_cmd" not in COMMAND_MODULES:
        return False
    try:
        importlib.import_module("bulletyard.commands.serve_cmd")
    except ImportError:
        return False
    return True


def _run(args: argparse.Namespace) -> int:
    from bulletyard.runtime.site import has_sorter
    from bulletyard.secure_broker import generate_secure_broker
    from bulletyard.supervisor import ProcessSupervisor, free_port
    from bulletyard.system import System
    from warehouse_maps import load_layout

    if args.robots < 1:
        raise UsageError(f"--robots must be at least 1 (got {args.robots})")
    if "controller" not in args.without and not serve_available():
        raise UsageError(
            "this build has no controller service (bulletyard serve); "
            "use --without controller to run the rest against your own controller"
        )
    layout = load_layout(args.layout)  # fail early on a bad layout, before anything starts
    folder = args.dir.resolve()
    setup = generate_secure_broker(
        folder / "broker",
        robots=args.robots,
        tls_port=args.port or free_port(),
        plain_port=args.plain_port,
        site=args.site,
        persistence=True,
        station_line=has_sorter(layout),
    )
    print(f"broker setup in {setup.folder} (CA {setup.ca_file}); logs in {folder / 'logs'}", flush=True)
    system = System(
        setup,
        folder,
        layout=args.layout,
        robots=args.robots,
        seed=args.seed,
        gui=args.gui,
        orders=args.orders,
        rate_per_s=args.rate,
        ready_timeout_s=args.ready_timeout,
        parts=[p for p in ORDER_OF_START if p not in args.without],
        sorting_line=has_sorter(layout),
    )
    supervisor = ProcessSupervisor()
    stopping = {"signal": None}

    def on_signal(signum, frame):  # noqa: ANN001, ANN202, ARG001
        stopping["signal"] = signum
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, on_signal)
    status = 0
    try:
        system.start(supervisor, log=lambda line: print(line, flush=True))
        print(
            f"up: {layout.name}, {args.robots} robots, broker {setup.tls_url}; Ctrl-C stops everything",
            flush=True,
        )
        status = system.watch(supervisor, exit_when_done=args.exit_when_done)
    except KeyboardInterrupt:
        print("stopping (reverse order)...", flush=True)
    finally:
        signal.signal(signal.SIGTERM, old)
        system.close()
        codes = supervisor.stop_all(args.stop_timeout)
        print("stopped: " + ", ".join(f"{name} {code}" for name, code in codes.items()), flush=True)
        summary = system.feeder_summary()
        if summary is not None:
            print("feeder: " + json.dumps(summary), flush=True)
    return status
