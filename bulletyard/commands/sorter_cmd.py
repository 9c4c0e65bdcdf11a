"""``bulletyard sorter --broker URL --config sorter.yaml | --layout L``: a simulated sorter on MQTT.

The composition root for one sorter: it loads the config, builds the model (loop or inline) and
the :class:`sorter.agent.SorterAgent`, connects an :class:`bus.mqtt.MqttTransport` with the
agent's last will, and runs the realtime loop: drain the inbound queue, ``handle`` each message,
``tick``, publish, then wait on ``transport.wait`` until the agent's next wakeup. SIGTERM or
Ctrl-C ends it cleanly with a retained OFFLINE connection.

``--plan auto|FILE`` also runs the controller's :class:`SortationPlanner` on the same broker (its
own client), so a single command shows the whole exchange; normally the controller does that.
``--time-factor`` runs simulated time faster than the wall clock (simulation only).

``--layout L`` runs the sorting line of the layout's ``equipment.sorter`` instead
(:class:`sim.station_conveyor.SortingLine`): the pick stations' conveyor puts each unit of an
order the controller reports ``picked`` on the sorter, labelled as ``docs/protocol-sorter.md``
says, so the orders of ``bulletyard up`` are sorted by the controller. It reads the WMS
``orders`` and ``orderStatus`` topics and its own ``divertConfirm``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time

import numpy as np

from bulletyard.broker_login import add_login_options, password
from bulletyard.errors import UsageError
from bulletyard.inputs.files import read_yaml_input
from bulletyard.inputs.options import finite_number, seconds_option, seed_option, topic_level
from bulletyard.inputs.paths import input_file_arg
from bus.clock import Instant, WallClock

log = logging.getLogger("bulletyard.sorter")


class ScaledClock:
    """Wall time since ``origin`` sped up by ``factor`` (factor 1 is the wall clock itself)."""

    def __init__(self, factor: float) -> None:
        self._wall = WallClock()
        self.factor = factor
        self.origin = self._wall.now()

    def now(self) -> Instant:
        """The simulated instant."""
        return Instant(self.origin + round((self._wall.now() - self.origin) * self.factor))


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``sorter``."""
    p = sub.add_parser("sorter", help="run a simulated sorter on an MQTT broker",
                       description="Run a simulated sorter (loop or inline) on an MQTT broker.")
    p.add_argument("--broker", required=True, help="mqtt://host:port or mqtts://host:port")
    p.add_argument("--config", type=input_file_arg, default=None, help="sorter YAML (see docs/sorter.yaml)")
    p.add_argument("--layout", default=None,
                   help="instead of --config: the sorting line of this layout's equipment.sorter")
    p.add_argument("--transit-s", type=seconds_option(0), default=30.0,
                   help="with --layout: seconds from an order picked to its first unit at an induct")
    p.add_argument("--site", default="site1", type=topic_level,
                   help="site segment of the topics (default site1)")
    p.add_argument("--seed", type=seed_option, default=1, help="root seed (default 1)")
    p.add_argument("--duration", type=seconds_option(0), default=None,
                   help="stop after this many wall seconds")
    p.add_argument("--time-factor", type=finite_number, default=1.0, help="simulated seconds per wall second")
    p.add_argument("--plan", default=None, help="also answer destinations here: 'auto' or a plan YAML")
    p.add_argument("--gui", action="store_true", help="show the loop in the PyBullet GUI")
    p.add_argument("--ca-file", default=None, help="CA bundle for mqtts://")
    p.add_argument("--cert-file", default=None, help="client certificate for mutual TLS")
    p.add_argument("--key-file", default=None, help="client key for mutual TLS")
    p.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    add_login_options(p)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from bus.mqtt import MqttTransport
    from bus.mqtt_url import redact_url
    from sorter.agent import SorterAgent
    from sorter.config import LoopConfig, config_from_mapping
    from sorter.inline import InlineSorter
    from sorter.loop import LoopSorter

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.time_factor <= 0:
        raise UsageError("--time-factor must be positive")
    if (args.config is None) == (args.layout is None):
        raise UsageError("give either --config (a sorter of its own) or --layout (a layout's sorting line)")
    clock = ScaledClock(args.time_factor)
    rng = np.random.default_rng(args.seed)
    start = clock.now()
    if args.layout is not None:
        participant = _sorting_line(args, rng, start)
        agent, config = participant.agent, participant.config
        model = agent.model
    else:
        config = config_from_mapping(read_yaml_input(args.config) or {}, str(args.config))
        is_loop = isinstance(config, LoopConfig)
        model = LoopSorter(config, rng, start) if is_loop else InlineSorter(config, rng, start)
        participant = agent = SorterAgent(config.sorter_id, args.site, model)
    tls = {"ca_file": args.ca_file, "cert_file": args.cert_file, "key_file": args.key_file,
           "username": args.username, "password": password(args)}
    transport = MqttTransport(args.broker, f"sorter-{config.sorter_id}", **tls)
    controller = _controller(args, config, tls) if args.plan else None
    transport.connect(will=participant.will())
    for sub in participant.subscriptions():
        transport.subscribe(sub if isinstance(sub, str) else sub[0], qos=1)

    world = None
    if args.gui and isinstance(model, LoopSorter):
        from sim.sorter_world import SorterWorld, connect

        world = SorterWorld(model, connect(gui=True))

    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGTERM, signal.SIGINT)}
    end_wall = time.monotonic() + args.duration if args.duration is not None else None
    where = redact_url(args.broker)
    log.info("sorter %s on %s (site %s), %s", config.sorter_id, where, args.site, config.kind)

    def publish(envelopes: list) -> None:
        for env in envelopes:
            transport.publish(env.topic, env.payload, env.qos, env.retain)

    try:
        publish(participant.on_connect(clock.now()))
        while not stop.is_set() and (end_wall is None or time.monotonic() < end_wall):
            for env in transport.drain():
                publish(participant.handle(clock.now(), env))
            if controller is not None:
                controller.step(clock.now())
            publish(participant.tick(clock.now()))
            if world is not None:
                world.sync(clock.now())
            wake = participant.next_wakeup()
            timeout_s = 0.2 if wake is None else max(0.0, (wake - clock.now()) / 1e9 / args.time_factor)
            # the local controller has its own client: poll it often so replies meet their deadlines
            cap_s = 0.005 if controller is not None else (1 / 30 if world is not None else 0.2)
            transport.wait(min(timeout_s, cap_s))
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        publish(agent.shutdown(clock.now()))
        transport.close(clean=True)
        if controller is not None:
            controller.close()
        c = agent.counters()
        print(f"sorter {config.sorter_id} stopped: inducted {c.inducted} sorted {c.sorted} rejected "
              f"{c.rejected} recirculated {c.recirculated} no_reads {c.no_reads} late {c.late_replies} "
              f"on_line {len(model.parcels)}", flush=True)
    model.check_conservation()
    return 0


def _sorting_line(args: argparse.Namespace, rng: np.random.Generator, start: Instant):  # noqa: ANN202
    """The stations' conveyor and the sorter of ``--layout`` (a clear error when it has none)."""
    from sim.station_conveyor import SortingLine
    from warehouse_maps import load_layout

    layout = load_layout(args.layout)
    equipment = (layout.equipment or {}).get("sorter")
    if not equipment:
        raise UsageError(f"--layout {args.layout}: the layout has no sorter (equipment.sorter)")
    if args.transit_s < 0:
        raise UsageError("--transit-s must be >= 0")
    return SortingLine(args.site, equipment, rng, start, transit_s=args.transit_s)


class _LocalController:
    """The controller's sortation on its own MQTT client (``--plan``)."""

    def __init__(self, transport, planner) -> None:  # noqa: ANN001
        self.transport = transport
        self.planner = planner

    def step(self, now: Instant) -> None:
        for env in self.transport.drain():
            for reply in self.planner.handle(now, env):
                self.transport.publish(reply.topic, reply.payload, reply.qos, reply.retain)

    def close(self) -> None:
        self.transport.close(clean=True)


def _controller(args: argparse.Namespace, config, tls: dict) -> _LocalController:  # noqa: ANN001
    from bus.mqtt import MqttTransport
    from controller.sortation.mapping import balanced_plan, load_plan
    from controller.sortation.planner import SortationPlanner
    from sorter.feed import destination_weights

    chutes = config.chutes.chute_ids()
    plan = (balanced_plan(destination_weights(config.feed), chutes) if args.plan == "auto"
            else load_plan(args.plan, chutes))
    planner = SortationPlanner(args.site, plan)
    transport = MqttTransport(args.broker, f"sortation-{config.sorter_id}", **tls)
    transport.connect()
    for topic_filter in planner.subscriptions():
        transport.subscribe(topic_filter, qos=1)
    return _LocalController(transport, planner)
