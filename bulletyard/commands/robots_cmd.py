"""``bulletyard robots``: a fleet of simulated VDA 5050 vehicles on an MQTT broker.

Starts N vehicle agents placed on the layout's parking cells, each on its own MQTT connection
with its own last will (as real robots would be), all served by one fleet thread and one shared
network thread. On a secured broker each vehicle logs in as itself, as real vehicles do:
``--ca-file`` for TLS (``mqtts://``) and ``--credentials FILE``, a JSON object mapping each serial
number (the MQTT user name) to its password, as ``bulletyard broker-setup`` writes it; passwords
never appear on the command line or in the output. ``--drive pybullet`` moves bodies in a
PyBullet world (``--gui`` shows it); the default ``kinematic`` drive needs no PyBullet at all.
Runs until Ctrl-C (then every vehicle says OFFLINE and disconnects cleanly) or for ``--duration``
seconds.
"""

from __future__ import annotations

import argparse
import signal
from pathlib import Path

from bulletyard.errors import UsageError
from bulletyard.inputs.options import count_option, finite_number, seconds_option, seed_option
from bulletyard.inputs.paths import input_problem
from warehouse_maps.errors import InputError
from warehouse_maps.safe_load import safe_json_loads


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``robots``."""
    p = sub.add_parser("robots", help="run N simulated VDA 5050 vehicles against an MQTT broker")
    p.add_argument("--broker", required=True, help="broker URL, e.g. mqtt://127.0.0.1:1883")
    p.add_argument("--layout", required=True, help="bundled layout name or layout file")
    p.add_argument("--count", type=count_option(bound="robots"), required=True, help="number of vehicles")
    p.add_argument("--drive", choices=("kinematic", "pybullet"), default="kinematic",
                   help="how bodies move (default kinematic)")
    p.add_argument("--gui", action="store_true", help="show the PyBullet window (with --drive pybullet)")
    p.add_argument("--seed", type=seed_option, default=1, help="root seed for drive faults (default 1)")
    p.add_argument("--state-interval", type=seconds_option(0, above=True), default=30.0, metavar="S",
                   help="longest gap between state messages, seconds (default 30)")
    p.add_argument("--visualization-interval", type=seconds_option(0), default=1.0, metavar="S",
                   help="visualization period in seconds, 0 turns it off (default 1)")
    p.add_argument("--breakdown-probability", type=finite_number, default=0.0, metavar="P",
                   help="chance that any one move breaks down (default 0)")
    p.add_argument("--duration", type=seconds_option(0), default=None, metavar="S",
                   help="stop after S seconds")
    p.add_argument("--ca-file", default=None, help="CA bundle for mqtts://")
    p.add_argument("--credentials", type=Path, default=None, metavar="FILE",
                   help="JSON object serial -> password; each vehicle logs in as its serial number")
    p.add_argument("--keepalive", type=int, default=30, metavar="S",
                   help="MQTT keepalive, seconds (default 30)")
    p.add_argument("--route", action="append", default=[], metavar="SERIAL=HOST:PORT",
                   help="connect this vehicle through another address, e.g. a proxy (repeatable)")
    p.set_defaults(func=_run)


def load_credentials(path: Path, serials: list[str]) -> dict[str, str]:
    """Passwords by serial from ``path``; every vehicle to start must have one.

    Raises:
        UsageError: unreadable file, not a JSON object of strings, or a serial without a password.
    """
    if path.exists() and input_problem(path):  # a folder, a device such as /dev/zero, too large
        raise UsageError(f"--credentials {input_problem(path)}")
    try:
        data = safe_json_loads(path.read_text(encoding="utf-8"), path)
    except OSError as err:
        raise UsageError(f"--credentials {path}: {err.strerror}") from None
    except InputError as err:
        raise UsageError(f"--credentials {path}: not JSON ({err.message})") from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise UsageError(f"--credentials {path}: expected a JSON object of serial -> password strings")
    missing = [s for s in serials if s not in data]
    if missing:
        raise UsageError(f"--credentials {path}: no password for {missing[0]}"
                         + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    return {s: data[s] for s in serials}


def parse_routes(items: list[str]) -> dict[str, str]:
    """``SERIAL=HOST:PORT`` pairs from ``--route``."""
    routes: dict[str, str] = {}
    for item in items:
        serial, sep, where = item.partition("=")
        if not sep or not serial or ":" not in where:
            raise UsageError(f"--route {item!r}: expected SERIAL=HOST:PORT")
        routes[serial] = where
    return routes


def _run(args: argparse.Namespace) -> int:
    import threading

    import numpy as np

    from bus.clock import WallClock
    from bus.mqtt import MqttTransport
    from bus.vda5050.shared_loop import SharedNetworkLoop
    from robots.config import VehicleConfig
    from robots.fleet import FleetRunner, build_agents
    from robots.kinematic import FaultConfig, KinematicDrive
    from warehouse_maps import load_layout

    if args.count < 1:
        raise UsageError(f"--count must be at least 1 (got {args.count})")
    if args.gui and args.drive != "pybullet":
        raise UsageError("--gui needs --drive pybullet")
    if not 0.0 <= args.breakdown_probability <= 1.0:
        raise UsageError("--breakdown-probability must be within [0, 1]")
    if args.keepalive < 1:
        raise UsageError(f"--keepalive must be at least 1 s (got {args.keepalive})")
    if args.keepalive > 65535:  # the largest keep-alive an MQTT CONNECT packet can carry
        raise UsageError(f"--keepalive must be at most 65535 s (got {args.keepalive})")
    from bus.mqtt_url import parse_broker_url, redact_url

    address = parse_broker_url(args.broker)
    routes = parse_routes(args.route)
    layout = load_layout(args.layout)
    clock = WallClock()
    faults = FaultConfig(breakdown_probability=args.breakdown_probability)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(args.seed).spawn(args.count)]
    config = VehicleConfig(state_interval_s=args.state_interval,
                           visualization_interval_s=args.visualization_interval or None)
    world = None
    on_step = None
    if args.drive == "pybullet":
        from sim.pybullet_drive import PyBulletDrive, RobotWorld

        world = RobotWorld(gui=args.gui)
        world.add_floor(layout.grid.width * layout.cell_size_m, layout.grid.height * layout.cell_size_m)

        def make_drive(i, serial, pose, start):  # noqa: ANN001, ANN202
            body = world.add_robot(pose)
            return PyBulletDrive(world.client, body, pose, start=start, faults=faults, rng=streams[i])
    else:
        def make_drive(i, serial, pose, start):  # noqa: ANN001, ANN202
            return KinematicDrive(pose, start=start, faults=faults, rng=streams[i])

    agents = build_agents(layout, args.count, start=clock.now(), drive_factory=make_drive, config=config)
    serial_of = {f"{a.manufacturer}-{a.serial_number}": a.serial_number for a in agents}
    passwords = (load_credentials(args.credentials, list(serial_of.values()))
                 if args.credentials is not None else {})
    scheme = "mqtts" if address.tls else "mqtt"

    def connect(client_id: str) -> MqttTransport:
        """One vehicle's connection: its own login when credentials are given, its route if any."""
        serial = serial_of[client_id]
        url = f"{scheme}://{routes[serial]}" if serial in routes else args.broker
        login = {"username": serial, "password": passwords[serial]} if passwords else {}
        return net.attach(MqttTransport(url, client_id, ca_file=args.ca_file, keepalive_s=args.keepalive,
                                        **login))

    if world is not None:
        def on_step(now):  # noqa: ANN001, ANN202
            if args.gui:  # move every body to its current pose, not only at the agents' wakeups
                for agent in agents:
                    agent.drive.advance_to(now)
            world.detect_collisions()
            for agent in agents:
                agent.set_safety(field_violation=bool(agent.drive.contacts()))

    inbound = threading.Event()
    net = SharedNetworkLoop(activity=inbound)
    fleet = FleetRunner(agents, connect, clock,
                        on_step=on_step, inbound=inbound, idle_s=1 / 30 if args.gui else 1.0)
    try:
        fleet.start()
    except Exception:
        net.close()
        if world is not None:
            world.close()
        raise
    print(f"{args.count} vehicles on {layout.name} connected to {redact_url(args.broker)} "
          f"(agv-0001 .. {agents[-1].serial_number}); Ctrl-C stops", flush=True)

    def stop_on_sigterm(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt  # a service manager's stop: the same clean OFFLINE as Ctrl-C

    signal.signal(signal.SIGTERM, stop_on_sigterm)
    try:
        fleet.run(duration_s=args.duration)
    except KeyboardInterrupt:
        pass
    finally:
        fleet.close(clean=True)
        net.close()
        if world is not None:
            world.close()
    print(f"published {fleet.stats.published} messages, received {fleet.stats.received}", flush=True)
    return 0
