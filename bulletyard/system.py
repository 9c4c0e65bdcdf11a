"""The processes of a whole local system on a secured broker, started in order and watched on the bus.

``bulletyard up`` and the end-to-end tests both use :class:`System`: it builds each child's command
line (each logged in as its own account), starts them in the order broker, controller, fleet,
sorter, feeder, and decides readiness from retained ``connection`` messages seen by a read-only
``monitor`` login. The controller has no connection topic of its own; it counts as ready once it
has talked to a vehicle (the ``stateRequest``/order it sends every vehicle that comes online).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bulletyard.secure_broker import SecureBrokerSetup
from bulletyard.supervisor import (
    ManagedProcess,
    MosquittoProcess,
    ProcessSupervisor,
    SupervisorError,
    bulletyard_argv,
)
from bus import limits
from bus.mqtt import MqttTransport
from bus.topicmatch import topic_matches
from bus.topics import (
    SorterTopic,
    VdaTopic,
    sorter_filter,
    sorter_topic,
    vda_filter,
    vda_topic,
    wms_order_status_topic,
)
from bus.transport import Envelope

VEHICLE_CONNECTIONS = vda_filter(VdaTopic.CONNECTION)
VEHICLE_COMMANDS = (vda_filter(VdaTopic.ORDER), vda_filter(VdaTopic.INSTANT_ACTIONS))


class Readiness:
    """What the monitor login has seen: connection states by topic, controller activity."""

    def __init__(self, monitor: MqttTransport, site: str) -> None:
        self.monitor = monitor
        self.connection: dict[str, str] = {}
        self.controller_seen = False
        self.sorter_filter = sorter_filter(site, None, SorterTopic.CONNECTION)
        self.status_topic = wms_order_status_topic(site)
        self.status_messages = 0

    def subscribe(self) -> None:
        """Subscribe the monitor to connections, controller commands and order statuses."""
        self.monitor.subscribe(VEHICLE_CONNECTIONS, qos=1)
        self.monitor.subscribe(self.sorter_filter, qos=1)
        self.monitor.subscribe(self.status_topic, qos=1)
        for f in VEHICLE_COMMANDS:
            self.monitor.subscribe(f, qos=0)

    def take(self, msg: Envelope) -> None:
        """Record one message."""
        if msg.topic.endswith("/connection"):
            try:
                self.connection[msg.topic] = str(limits.loads(msg.payload).get("connectionState"))
            except (ValueError, AttributeError):
                self.connection[msg.topic] = "?"
        elif msg.topic == self.status_topic:
            self.status_messages += 1
        elif any(topic_matches(f, msg.topic) for f in VEHICLE_COMMANDS):
            self.controller_seen = True

    def pump(self, timeout_s: float) -> None:
        """Wait up to ``timeout_s`` for messages and record them."""
        self.monitor.wait(timeout_s)
        for msg in self.monitor.drain():
            self.take(msg)

    def online(self, topics: Sequence[str]) -> int:
        """How many of ``topics`` say ONLINE."""
        return sum(1 for t in topics if self.connection.get(t) == "ONLINE")


class System:
    """Children of one local system (see module docstring).

    Args:
        setup: generated broker setup (accounts, CA, ports).
        folder: run folder: logs in ``folder/logs``, controller journal ``folder/controller.sqlite``.
        layout: layout name or file for controller, fleet and feeder.
        robots: fleet size.
        parts: which of broker, controller, fleet, sorter, feeder to start, in that order.
        fleet_args, controller_args, feeder_args: extra options appended to that child's command.
        sorting_line: the sorter child is the layout's sorting line (``bulletyard sorter
            --layout``: the stations' conveyor puts picked units on the layout's sorter, which
            the controller drives); otherwise a sorter of its own with an automatic parcel supply.
        transit_s: with ``sorting_line``, seconds from an order picked to its first unit inducted.
    """

    def __init__(
        self,
        setup: SecureBrokerSetup,
        folder: Path,
        *,
        layout: str,
        robots: int,
        seed: int = 1,
        gui: bool = False,
        orders: int = 50,
        rate_per_s: float = 0.5,
        ready_timeout_s: float = 60.0,
        parts: Sequence[str] = ("broker", "controller", "fleet", "sorter", "feeder"),
        fleet_args: Sequence[str] = (),
        controller_args: Sequence[str] = (),
        feeder_args: Sequence[str] = (),
        env: dict[str, dict[str, str]] | None = None,
        sorting_line: bool = False,
        transit_s: float = 30.0,
    ) -> None:
        self.setup = setup
        self.folder = Path(folder)
        self.logs = self.folder / "logs"
        self.layout = layout
        self.robots = robots
        self.seed = seed
        self.gui = gui
        self.orders = orders
        self.rate_per_s = rate_per_s
        self.ready_timeout_s = ready_timeout_s
        self.parts = list(parts)
        self.fleet_args = list(fleet_args)
        self.controller_args = list(controller_args)
        self.feeder_args = list(feeder_args)
        self.env = dict(env or {})
        self.sorting_line = sorting_line
        self.transit_s = transit_s
        self.children: dict[str, ManagedProcess] = {}
        self.readiness: Readiness | None = None
        self._monitor: MqttTransport | None = None
        self._finished_feeder: ManagedProcess | None = None

    # -- command lines -------------------------------------------------------------------------

    def _login(self, user: str) -> list[str]:
        """``--broker URL --username U --password-file F``: the password stays off the command line."""
        return ["--broker", self.setup.tls_url, "--username", user,
                "--password-file", str(self.setup.password_file_for(user))]

    def commands(self) -> dict[str, list[str]]:
        """The command line of each child (each with its own login, no password in it)."""
        s, ca = self.setup, str(self.setup.ca_file)
        fleet = ["--layout", self.layout, "--count", str(self.robots), "--seed", str(self.seed)]
        if self.gui:
            fleet += ["--drive", "pybullet", "--gui"]
        sorter_config = ["--config", str(self.folder / "sorter.yaml")]
        if self.sorting_line:
            sorter_config = ["--layout", self.layout, "--transit-s", str(self.transit_s)]
        return {
            "controller": bulletyard_argv(
                "serve",
                *self._login("controller"),
                "--ca-file",
                ca,
                "--layout",
                self.layout,
                "--db",
                str(self.folder / "controller.sqlite"),
                "--metrics-port",
                "0",  # any free port: several systems may share a machine (controller_args may override)
                # without the sorting line nothing would ever put an order's units on the sorter
                *([] if "sorter" in self.parts else ["--sortation", "off"]),
                *self.controller_args,
            ),
            "fleet": bulletyard_argv(
                "robots",
                "--broker",
                s.tls_url,
                "--ca-file",
                ca,
                "--credentials",
                str(s.credentials_file),
                *fleet,
                *self.fleet_args,
            ),
            "sorter": bulletyard_argv(
                "sorter",
                *self._login("sorter-1"),
                "--ca-file",
                ca,
                *sorter_config,
                "--site",
                s.site,
                "--seed",
                str(self.seed),
            ),
            "feeder": bulletyard_argv(
                "feed",
                *self._login("wms"),
                "--ca-file",
                ca,
                "--layout",
                self.layout,
                "--orders",
                str(self.orders),
                "--rate",
                str(self.rate_per_s),
                "--site",
                s.site,
                "--seed",
                str(self.seed),
                *self.feeder_args,
            ),
        }

    def child(self, name: str) -> ManagedProcess:
        """A child process object (made on first use)."""
        if name not in self.children:
            if name == "broker":
                self.children[name] = MosquittoProcess(
                    self.setup.config_file,
                    self.setup.tls_port,
                    self.logs / "broker.log",
                    host=self.setup.host,
                )
            else:
                self.children[name] = ManagedProcess(
                    name,
                    self.commands()[name],
                    self.logs / f"{name}.log",
                    env=self.env.get(name),
                    stop_signal_name="SIGINT",
                )
        return self.children[name]

    # -- start ---------------------------------------------------------------------------------

    def start(
        self,
        supervisor: ProcessSupervisor,
        log: Callable[[str], None] = lambda line: None,
        only: Sequence[str] | None = None,
    ) -> None:
        """Start every part in order, each only once the one before is ready on the bus.

        ``only`` starts a subset of :attr:`parts` (call again for the rest, in order), e.g. to
        connect a client of your own between the broker and the others.
        """
        parts = [p for p in self.parts if only is None or p in only]
        started = time.monotonic()
        self.logs.mkdir(parents=True, exist_ok=True)
        self.logs.chmod(0o700)  # logs show orders and the site's layout: the operator's only
        if "broker" in parts:
            broker = supervisor.add(self.child("broker"))
            broker.start_and_wait()  # type: ignore[attr-defined]
            log(f"broker ready on {self.setup.tls_url} ({time.monotonic() - started:.1f} s)")
        if self._monitor is None and [p for p in parts if p != "broker"]:
            monitor = MqttTransport(
                self.setup.tls_url,
                "monitor-up",
                username="monitor",
                password=self.setup.account("monitor").password,
                ca_file=str(self.setup.ca_file),
            )
            monitor.connect()
            self._monitor = monitor
            self.readiness = Readiness(monitor, self.setup.site)
            self.readiness.subscribe()
        if "controller" in parts:
            supervisor.add(self.child("controller")).start()
            log("controller started")
        if "fleet" in parts:
            supervisor.add(self.child("fleet")).start()
            maker = self.setup.manufacturer
            topics = [vda_topic(maker, serial, VdaTopic.CONNECTION) for serial in self.setup.robots()]
            self._wait(
                supervisor,
                lambda r: r.online(topics) == len(topics),
                lambda r: f"{r.online(topics)}/{len(topics)} vehicles ONLINE",
            )
            log(f"fleet ready: {len(topics)} vehicles ONLINE ({time.monotonic() - started:.1f} s)")
            if "controller" in parts:
                self._wait(
                    supervisor, lambda r: r.controller_seen, lambda r: "no command from the controller yet"
                )
                log(f"controller ready: it talks to the vehicles ({time.monotonic() - started:.1f} s)")
        if "sorter" in parts:
            if not self.sorting_line:
                (self.folder / "sorter.yaml").write_text(
                    "# defaults: see docs/sorter.yaml\nsorter_id: sorter-1\n"
                )
            supervisor.add(self.child("sorter")).start()
            topic = sorter_topic(self.setup.site, "sorter-1", SorterTopic.CONNECTION)
            self._wait(supervisor, lambda r: r.online([topic]) == 1, lambda r: "sorter not ONLINE")
            log(f"sorter ready ({time.monotonic() - started:.1f} s)")
        if "feeder" in parts:
            supervisor.add(self.child("feeder")).start()
            log(f"feeder started: {self.orders} orders at {self.rate_per_s}/s")

    def _wait(
        self,
        supervisor: ProcessSupervisor,
        ready: Callable[[Readiness], bool],
        progress: Callable[[Readiness], str],
    ) -> None:
        readiness = self.readiness
        assert readiness is not None
        deadline = time.monotonic() + self.ready_timeout_s
        while not ready(readiness):
            supervisor.check()
            if time.monotonic() > deadline:
                raise SupervisorError(
                    f"not ready within {self.ready_timeout_s} s: {progress(readiness)} (logs in {self.logs})"
                )
            readiness.pump(0.2)

    # -- run -----------------------------------------------------------------------------------

    def watch(self, supervisor: ProcessSupervisor, *, exit_when_done: bool = False) -> int:
        """Keep reading the bus until a child fails (1), or the feeder is done and asked to exit (0)."""
        assert self.readiness is not None
        while True:
            feeder = self.children.get("feeder")
            if feeder is not None and not feeder.alive():
                code = feeder.returncode
                if exit_when_done:
                    return 0 if code == 0 else 1
                self.children.pop("feeder")  # its summary stays in the log; the rest keeps running
                self._finished_feeder = feeder
            for name, child in self.children.items():
                if name != "feeder" and child.proc is not None and not child.alive():
                    raise SupervisorError(
                        f"{name} exited with status {child.returncode}:\n{child.log_tail()}"
                    )
            self.readiness.pump(0.5)

    def feeder_summary(self) -> dict[str, object] | None:
        """The feeder's final JSON line, if it printed one."""
        feeder = self.children.get("feeder") or self._finished_feeder
        if feeder is None:
            return None
        for line in reversed(feeder.log_tail(5).splitlines()):
            if line.startswith("{"):
                try:
                    return json.loads(line)
                except ValueError:
                    return None
        return None

    def close(self) -> None:
        """Drop the monitor login."""
        if self._monitor is not None:
            self._monitor.close()
            self._monitor = None
