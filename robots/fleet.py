"""A fleet of vehicle agents in one process, each on its own bus connection with its own last will.

This is how simulated vehicles meet a real broker: every vehicle gets its own ``Transport``
(one MQTT client id ``{manufacturer}-{serial}``, its own CONNECTIONBROKEN will), exactly as
separate robots on a warehouse network would. One thread runs every agent: it drains each
transport, lets the agent handle what arrived, ticks the agents whose wakeups are due (a heap
keyed on ``next_wakeup()``), publishes what they return, and then waits until the earliest
wakeup, or at most ``poll_s`` so inbound orders are picked up promptly (the Transport port has
per-connection waits only, so one thread cannot block on hundreds of them at once). Given an
``inbound`` event that the network layer sets whenever data arrives (``SharedNetworkLoop(activity=...)``)
the loop instead sleeps until that event or the next wakeup, with no polling at all.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bus.clock import Clock, Instant, to_seconds
from bus.participant import join, publish_all
from bus.transport import Envelope, Transport
from robots.agent import VehicleAgent
from robots.config import VehicleConfig
from robots.drive import Drive, Pose
from warehouse_maps.grid import Cell
from warehouse_maps.layout import Layout, PlaceKind

#: Builds the drive for one vehicle: (index, serial number, start pose, start instant) -> Drive.
DriveFactory = Callable[[int, str, Pose, Instant], Drive]

#: Builds one bus connection for a client id.
TransportFactory = Callable[[str], Transport]


class FleetError(ValueError):
    """A fleet that cannot be set up as asked (the text says why)."""


def serial_number(index: int) -> str:
    """``agv-0001`` for index 0."""
    return f"agv-{index + 1:04d}"


def start_cells(layout: Layout, count: int) -> list[Cell]:
    """Where ``count`` vehicles start: parking cells first, then chargers, then other free floor.

    Raises:
        FleetError: the layout has fewer usable cells than ``count``.
    """
    chosen: list[Cell] = []
    seen: set[Cell] = set()
    for cell in [*layout.cells_of(PlaceKind.PARKING), *layout.cells_of(PlaceKind.CHARGER)]:
        if cell not in seen:
            chosen.append(cell)
            seen.add(cell)
    if len(chosen) < count:
        taken = {p.cell for p in layout.places}
        for cell in sorted(layout.grid.free_cells, key=lambda c: (c[1], c[0])):
            if cell not in seen and cell not in taken:
                chosen.append(cell)
                seen.add(cell)
                if len(chosen) >= count:
                    break
    if len(chosen) < count:
        raise FleetError(f"layout {layout.name} has room for {len(chosen)} vehicles, {count} asked")
    return chosen[:count]


def map_bounds_m(layout: Layout) -> tuple[float, float, float, float]:
    """The layout's extent in the map frame (min x, min y, max x, max y; metres): rows go south."""
    size = layout.cell_size_m
    return (0.0, -layout.grid.height * size, layout.grid.width * size, 0.0)


def build_agents(layout: Layout, count: int, *, start: Instant, drive_factory: DriveFactory,
                 config: VehicleConfig | None = None, manufacturer: str = "bulletyard") -> list[VehicleAgent]:
    """``count`` agents on the layout's parking cells, facing east, chargers and the map's extent
    taken from the layout."""
    chargers = tuple(layout.cell_centre_m(c) for c in layout.cells_of(PlaceKind.CHARGER))
    cfg = (config or VehicleConfig()).model_copy(
        update={"charger_positions_m": chargers, "map_bounds_m": map_bounds_m(layout)})
    agents = []
    for i, cell in enumerate(start_cells(layout, count)):
        x, y = layout.cell_centre_m(cell)
        pose = Pose(x, y, 0.0)
        serial = serial_number(i)
        drive = drive_factory(i, serial, pose, start)
        agents.append(VehicleAgent(serial, manufacturer=manufacturer, drive=drive, map_id=layout.name,
                                   initial_pose=pose, config=cfg))
    return agents


@dataclass
class FleetStats:
    """What the fleet loop did, for reports and the benchmark."""

    published: int = 0
    received: int = 0
    ticks: int = 0
    max_lag_s: float = 0.0
    lags_s: list[float] = field(default_factory=list)


class FleetRunner:
    """Runs agents against their transports on a clock (see the module docstring).

    Args:
        agents: the vehicles.
        transport_factory: one connection per vehicle, called with the client id.
        clock: wall clock for real time (a runner owns the clock; agents never see it).
        poll_s: longest wait before looking at the transports again, seconds.
        on_step: called after every loop pass (the PyBullet GUI syncs its bodies here).
        inbound: an event set by the network layer when data arrives; with it the loop waits on
            the event (up to the next wakeup, at most ``idle_s``) instead of polling every ``poll_s``.
        idle_s: longest sleep when ``inbound`` is given and nothing is scheduled.
    """

    def __init__(self, agents: Sequence[VehicleAgent], transport_factory: TransportFactory, clock: Clock,
                 *, poll_s: float = 0.02, on_step: Callable[[Instant], None] | None = None,
                 inbound: threading.Event | None = None, idle_s: float = 1.0) -> None:
        self.agents = list(agents)
        self.transports = [transport_factory(f"{a.manufacturer}-{a.serial_number}") for a in self.agents]
        self.clock = clock
        self.poll_s = poll_s
        self.on_step = on_step
        self.stats = FleetStats()
        self._heap: list[tuple[int, int]] = []
        self._wake: list[int | None] = [None] * len(self.agents)
        self.stop_event = threading.Event()
        self._connections: list[int] = [0] * len(self.agents)
        self.inbound = inbound
        self.idle_s = idle_s

    def _publish(self, transport: Transport, envelopes: list[Envelope]) -> None:
        self.stats.published += publish_all(transport, envelopes)

    def _schedule(self, i: int) -> None:
        wake = self.agents[i].next_wakeup()
        if wake != self._wake[i]:
            self._wake[i] = wake
            if wake is not None:
                heapq.heappush(self._heap, (wake, i))

    def start(self) -> None:
        """Connect every vehicle (with its will), subscribe, and announce it (ONLINE, factsheet, state)."""
        now = self.clock.now()
        for i, (agent, transport) in enumerate(zip(self.agents, self.transports)):
            join(transport, agent, [(topic, 0) for topic in agent.subscriptions()])
            self._publish(transport, agent.on_connect(now))
            self._connections[i] = getattr(transport, "connections", 0)
            self._schedule(i)

    def step(self) -> Instant:
        """One pass: inbound messages, due ticks, publishes; returns the instant used."""
        now = self.clock.now()
        for i, (agent, transport) in enumerate(zip(self.agents, self.transports)):
            connections = getattr(transport, "connections", 0)
            if connections != self._connections[i]:  # reconnected: announce again (ONLINE, factsheet)
                self._connections[i] = connections
                self._publish(transport, agent.on_connect(now))
                self._schedule(i)
            inbound = transport.drain()
            if inbound:
                self.stats.received += len(inbound)
                for msg in inbound:
                    self._publish(transport, agent.handle(now, msg))
                self._schedule(i)
        heap = self._heap
        while heap and heap[0][0] <= now:
            wake, i = heapq.heappop(heap)
            if wake != self._wake[i]:
                continue  # superseded by a later schedule
            lag = to_seconds(now - wake)
            self.stats.lags_s.append(lag)
            self.stats.max_lag_s = max(self.stats.max_lag_s, lag)
            self._wake[i] = None
            self._publish(self.transports[i], self.agents[i].tick(now))
            self.stats.ticks += 1
            self._schedule(i)
        if self.on_step is not None:
            self.on_step(now)
        return now

    def next_wakeup(self) -> Instant | None:
        """The earliest agent wakeup still scheduled (a simulation runner jumps its clock here)."""
        heap = self._heap
        while heap and heap[0][0] != self._wake[heap[0][1]]:
            heapq.heappop(heap)  # superseded entries
        return heap[0][0] if heap else None

    def wait_s(self) -> float:
        """How long the loop may sleep before the next due wakeup (capped by ``poll_s`` or ``idle_s``)."""
        cap = self.poll_s if self.inbound is None else self.idle_s
        if not self._heap:
            return cap
        return max(0.0, min(cap, to_seconds(self._heap[0][0] - self.clock.now())))

    def stop(self) -> None:
        """Ask :meth:`run` to return (thread-safe)."""
        self.stop_event.set()
        if self.inbound is not None:
            self.inbound.set()

    def run(self, until: Callable[[], bool] | None = None, duration_s: float | None = None) -> None:
        """Loop until ``stop_event`` is set, ``until()`` is true or ``duration_s`` has passed."""
        end = None if duration_s is None else self.clock.now() + int(duration_s * 1e9)
        while not self.stop_event.is_set():
            now = self.step()
            if until is not None and until():
                return
            if end is not None and now >= end:
                return
            if self.inbound is None:
                self.stop_event.wait(self.wait_s())
            else:
                self.inbound.wait(self.wait_s())
                self.inbound.clear()  # before the next drain: anything later sets it again

    def close(self, clean: bool = True) -> None:
        """Announce OFFLINE (clean) and disconnect every vehicle; ``clean=False`` lets the wills fire."""
        now = self.clock.now()
        for agent, transport in zip(self.agents, self.transports):
            if clean:
                self._publish(transport, agent.on_close(now))
            transport.close(clean=clean)
