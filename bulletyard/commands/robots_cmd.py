"""``bulletyard robots``: a fleet of simulated VDA 5050 vehicles on an MQTT broker.

Starts N vehicle agents placed on the layout's parking cells, each on its own MQTT connection
with its own last will (as real robots would be), all served by one fleet thread and one shared
network thread. ``--drive pybullet`` moves bodies in a PyBullet world (``--gui`` shows it);
the default ``kinematic`` drive needs no PyBullet at all. Runs until Ctrl-C (then every vehicle
says OFFLINE and disconnects cleanly) or for ``--duration`` seconds.
"""

from __future__ import annotations

import argparse

from bulletyard.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``robots``."""
    p = sub.add_parser("robots", help="run N simulated VDA 5050 vehicles against an MQTT broker")
    p.add_argument("--broker", required=True, help="broker URL, e.g. mqtt://127.0.0.1:1883")
    p.add_argument("--layout", required=True, help="bundled layout name or layout file")
    p.add_argument("--count", type=int, required=True, help="number of vehicles")
    p.add_argument("--drive", choices=("kinematic", "pybullet"), default="kinematic",
                   help="how bodies move (default kinematic)")
    p.add_argument("--gui", action="store_true", help="show the PyBullet window (with --drive pybullet)")
    p.add_argument("--seed", type=int, default=1, help="root seed for drive faults (default 1)")
    p.add_argument("--state-interval", type=float, default=30.0, metavar="S",
                   help="longest gap between state messages, seconds (default 30)")
    p.add_argument("--visualization-interval", type=float, default=1.0, metavar="S",
                   help="visualization period in seconds, 0 turns it off (default 1)")
    p.add_argument("--breakdown-probability", type=float, default=0.0, metavar="P",
                   help="chance that any one move breaks down (default 0)")
    p.add_argument("--duration", type=float, default=None, metavar="S", help="stop after S seconds")
    p.set_defaults(func=_run)


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
    fleet = FleetRunner(agents, lambda cid: net.attach(MqttTransport(args.broker, cid)), clock,
                        on_step=on_step, inbound=inbound, idle_s=1 / 30 if args.gui else 1.0)
    try:
        fleet.start()
    except Exception:
        net.close()
        if world is not None:
            world.close()
        raise
    print(f"{args.count} vehicles on {layout.name} connected to {args.broker} "
          f"(agv-0001 .. {agents[-1].serial_number}); Ctrl-C stops", flush=True)
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
