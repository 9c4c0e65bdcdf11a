"""A tiny lock-step loop for controller tests: controller and fake vehicles over an InProcBroker.

Every ``dt_s`` of simulated time each participant drains its transport, handles the messages,
ticks, and publishes what it returned. Deterministic for a seed (the broker's fault generator).
"""

from __future__ import annotations

from bus.clock import SIM_EPOCH, Instant, seconds
from bus.inproc import InProcBroker
from bus.topics import VdaTopic, vda_topic
from controller.core import Controller
from tests.unit.controller.fake_vehicle import FakeVehicle


class LockStep:
    """Runs a controller and vehicles together on one broker."""

    def __init__(
        self, broker: InProcBroker, controller: Controller, vehicles: list[FakeVehicle], dt_s: float = 0.25
    ) -> None:
        self.broker = broker
        self.controller = controller
        self.vehicles = {v.serial: v for v in vehicles}
        self.dt = seconds(dt_s)
        self.now: Instant = SIM_EPOCH
        self.ctl_t = broker.client("controller")
        self.ctl_t.connect()
        for topic_filter, qos in controller.subscriptions():
            self.ctl_t.subscribe(topic_filter, qos=qos)
        self.vt = {}
        self.collisions = 0
        self.min_separation_ok = True
        for v in vehicles:
            self.add_vehicle(v)
        self._publish(self.ctl_t, controller.on_connect(self.now))

    def add_vehicle(self, v: FakeVehicle) -> None:
        self.vehicles[v.serial] = v
        t = self.broker.client(v.serial)
        t.connect(will=v.will())
        t.subscribe(vda_topic("bulletyard", v.serial, VdaTopic.ORDER))
        t.subscribe(vda_topic("bulletyard", v.serial, VdaTopic.INSTANT_ACTIONS))
        self.vt[v.serial] = t
        self._publish(t, v.on_connect(self.now))

    @staticmethod
    def _publish(transport, envelopes) -> None:
        for e in envelopes:
            transport.publish(e.topic, e.payload, e.qos, e.retain)

    def step(self) -> None:
        self.now = Instant(self.now + self.dt)
        self.broker.advance_to(self.now)
        for serial in sorted(self.vehicles):
            v, t = self.vehicles[serial], self.vt[serial]
            if not t.connected:
                continue
            for msg in t.drain():
                self._publish(t, v.handle(self.now, msg))
            self._publish(t, v.tick(self.now))
        self._check_safety()
        for msg in self.ctl_t.drain():
            self._publish(self.ctl_t, self.controller.handle(self.now, msg))
        self._publish(self.ctl_t, self.controller.tick(self.now))

    def _check_safety(self) -> None:
        """Count moments where two vehicles hold (stand on or drive into) the same cell."""
        held: dict = {}
        for serial in sorted(self.vehicles):
            for cell in self.vehicles[serial].held_cells():
                if cell in held:
                    self.collisions += 1
                held[cell] = serial

    def run_until(self, done, max_s: float) -> bool:
        end = self.now + seconds(max_s)
        while self.now < end:
            self.step()
            if done():
                return True
        return False
