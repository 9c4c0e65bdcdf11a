"""A tiny lock-step loop for controller tests: controller and fake vehicles over an InProcBroker.

Every ``dt_s`` of simulated time each participant drains its transport, handles the messages,
ticks, and publishes what it returned. Deterministic for a seed (the broker's fault generator).
"""

from __future__ import annotations

import json

from bus.clock import SIM_EPOCH, Instant, seconds
from bus.inproc import InProcBroker
from bus.topics import VdaTopic, vda_topic, wms_order_status_topic
from controller.core import Controller
from tests.unit.controller.fake_vehicle import FakeVehicle


def serial_of(vehicle) -> str:
    """The serial number of a fake vehicle or a robots.VehicleAgent."""
    return getattr(vehicle, "serial", None) or vehicle.serial_number


class LockStep:
    """Runs a controller and vehicles together on one broker."""

    def __init__(
        self, broker: InProcBroker, controller: Controller, vehicles: list[FakeVehicle], dt_s: float = 0.25
    ) -> None:
        self.broker = broker
        self.controller = controller
        self.vehicles = {serial_of(v): v for v in vehicles}
        self.dt = seconds(dt_s)
        self.now: Instant = SIM_EPOCH
        self.ctl_t = broker.client("controller")
        self.ctl_t.connect()
        for topic_filter, qos in controller.subscriptions():
            self.ctl_t.subscribe(topic_filter, qos=qos)
        self.vt = {}
        self.collisions = 0
        self.min_gap_m = 0.8
        self.min_gap_seen = float("inf")
        self.min_separation_ok = True
        for v in vehicles:
            self.add_vehicle(v)
        self._publish(self.ctl_t, controller.on_connect(self.now))

    def add_vehicle(self, v: FakeVehicle) -> None:
        serial = serial_of(v)
        self.vehicles[serial] = v
        t = self.broker.client(serial)
        t.connect(will=v.will())
        maker = getattr(v, "manufacturer", "bulletyard")
        t.subscribe(vda_topic(maker, serial, VdaTopic.ORDER))
        t.subscribe(vda_topic(maker, serial, VdaTopic.INSTANT_ACTIONS))
        self.vt[serial] = t
        self._publish(t, v.on_connect(self.now))

    @staticmethod
    def _publish(transport, envelopes) -> None:
        for e in envelopes:
            transport.publish(e.topic, e.payload, e.qos, e.retain)

    def step(self) -> None:
        nxt = [self.now + self.dt]
        self.now = Instant(min(nxt))
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
        """Count moments where two vehicles collide: fake vehicles hold (stand on or drive into) the
        same cell; real agents' centres come closer than ``min_gap_m``."""
        held: dict = {}
        points = []
        for serial in sorted(self.vehicles):
            v = self.vehicles[serial]
            if hasattr(v, "held_cells"):
                for cell in v.held_cells():
                    if cell in held:
                        self.collisions += 1
                    held[cell] = serial
            else:
                pose = v.drive.pose(self.now)
                points.append((pose.x_m, pose.y_m))
        for i in range(len(points)):
            for j in range(i + 1, len(points)):
                gap = ((points[i][0] - points[j][0]) ** 2 + (points[i][1] - points[j][1]) ** 2) ** 0.5
                self.min_gap_seen = min(self.min_gap_seen, gap)
                if gap < self.min_gap_m:
                    self.collisions += 1

    def run_until(self, done, max_s: float) -> bool:
        end = self.now + seconds(max_s)
        while self.now < end:
            self.step()
            if done():
                return True
        return False


def with_wms(loop: LockStep, broker: InProcBroker, site: str = "site1") -> list[dict]:
    """Give ``loop`` a WMS client (``loop.wms``) and return the list its order statuses go to."""
    statuses: list[dict] = []
    wms = broker.client("wms")
    wms.connect()
    wms.subscribe(wms_order_status_topic(site), lambda e: statuses.append(json.loads(e.payload)), qos=1)
    loop.wms = wms
    return statuses
