"""A robot lost with a parcel on board (robotic sortation, issue 20): the parcel waits for it.

Regression: the parcel used to fail at once (``divertConfirm`` REJECTED) while the robot kept its
trip, so a robot that came back (a Wi-Fi dropout) still tipped it: the chute said SORTED for a
parcel the WMS had been told was rejected. Now a robot back within
``robotic_sortation.lost_parcel_timeout_s`` tips it and it is sorted once, never rejected; a robot
back later ends its trip without tipping (its fresh order carries no ``drop``).

Floor (I induct, O chute hole, H its drop cell, K parking where the one robot starts)::

    x 0123456789ab
    y0 @@@@@@@@@@@@
    y1 @I.........@
    y2 @..........@
    y3 @.......OH.@
    y4 @..........@
    y5 @KK........@
    y6 @@@@@@@@@@@@
"""

from __future__ import annotations

import json

import numpy as np

from bus.clock import seconds
from bus.inproc import InProcBroker
from bus.sorter_protocol import SorterOutbox
from bus.topics import sorter_topic
from bus.transport import Envelope
from controller.config import ControllerConfig
from controller.core import Controller
from tests.unit.controller.fake_vehicle import FakeVehicle
from tests.unit.controller.harness import LockStep
from warehouse_maps.layout_yaml import parse_layout_yaml

ROWS = ["@@@@@@@@@@@@", "@I.........@", "@..........@", "@.......OH.@", "@..........@", "@KK........@",
        "@@@@@@@@@@@@"]
SERIAL = "agv-0001"


class QuietVehicle(FakeVehicle):
    """A fake vehicle whose states can be kept off the bus while it drives on (a Wi-Fi dropout
    seen from the controller: silence, then the vehicle is back where its order took it)."""

    quiet = False

    def _maybe_state(self, now: int) -> list[Envelope]:
        self.tips = getattr(self, "tips", set()) | {  # every tip it ever ran (a new order forgets them)
            a["actionId"] for a in self.action_states.values()
            if a["actionType"] == "drop" and a["actionStatus"] == "FINISHED"}
        out = super()._maybe_state(now)  # type: ignore[arg-type]
        if self.quiet:
            self._dirty = True  # its first state once heard again tells all
            return []
        return out


class Site:
    """Controller, one vehicle, an induct operator (publishes ``inducted``) and a listener on the
    robotic sorter's ``divertConfirm`` and the vehicle's orders."""

    def __init__(self, timeout_s: float, **fleet: float) -> None:
        rows = "\n".join(f'  - "{r}"' for r in ROWS)
        text = f"format: bulletyard-layout/1\nname: lost\ncell_size_m: 1.0\nrows:\n{rows}\n"
        layout = parse_layout_yaml(text)
        config = ControllerConfig(
            robotic_sortation={"enabled": True, "destinations": 1, "lost_parcel_timeout_s": timeout_s},
            fleet=fleet,
        )
        self.controller = Controller(config, layout, np.random.default_rng(0))
        self.broker = InProcBroker()
        self.vehicle = QuietVehicle(SERIAL, layout.cell_centre_m((1, 5)))
        self.loop = LockStep(self.broker, self.controller, [self.vehicle])
        self.confirms: list[dict] = []
        self.orders: list[tuple[int, dict]] = []  # (time ns, order) sent to the vehicle
        spy = self.broker.client("spy")
        spy.connect()
        spy.subscribe(sorter_topic("site1", "robots", "divertConfirm"),
                      lambda e: self.confirms.append(json.loads(e.payload)), qos=1)
        spy.subscribe(f"uagv/v2/bulletyard/{SERIAL}/order", lambda e: self.orders.append(
            (self.loop.now, json.loads(e.payload))), qos=0)
        self.spy = spy
        self.induct = self.broker.client("induct")
        self.induct.connect()
        self.outbox = SorterOutbox("site1", "robots")

    def parcel(self, pid: str) -> None:
        e = self.outbox.envelope(self.loop.now, "inducted", item_id=pid, barcode=f"D001:{pid}",
                                 induct_id="I1", carriers=[])
        self.induct.publish(e.topic, e.payload, e.qos, e.retain)

    def run_until(self, done, max_s: float) -> bool:
        def check() -> bool:
            self.spy.dispatch()
            return bool(done())
        return self.loop.run_until(check, max_s)

    @property
    def flow(self):
        assert self.controller.parcels is not None
        return self.controller.parcels

    def loaded_on_the_way(self) -> bool:
        """The parcel is on the robot, which drives to the chute (not there yet)."""
        return self.flow.counts["loaded"] == 1 and self.vehicle.position_m[0] < 6.0

    def lose_on_the_way(self, pid: str) -> None:
        """Parcel ``pid`` comes; once it is on the robot, on the way to the chute, the vehicle's link
        drops (the broker publishes its will: CONNECTIONBROKEN) and it stands where it is."""
        self.parcel(pid)
        assert self.run_until(self.loaded_on_the_way, 60), self.flow.counts
        self.loop.vt[SERIAL].close(clean=False)
        assert self.run_until(lambda: self.controller.supervisor.is_lost(SERIAL), 10)

    def reconnect(self) -> None:
        t = self.broker.client(SERIAL)
        t.connect(will=self.vehicle.will())
        t.subscribe(f"uagv/v2/bulletyard/{SERIAL}/order")
        t.subscribe(f"uagv/v2/bulletyard/{SERIAL}/instantActions")
        self.loop.vt[SERIAL] = t
        for e in self.vehicle.on_connect(self.loop.now):
            t.publish(e.topic, e.payload, e.qos, e.retain)

    def drops(self, pid: str, after: int = 0) -> list[dict]:
        """``drop`` actions for parcel ``pid`` in orders sent to the vehicle after ``after`` ns."""
        return [a for t, o in self.orders if t > after for n in o["nodes"] for a in n["actions"]
                if a["actionType"] == "drop" and {"key": "parcelId", "value": pid} in a["actionParameters"]]

    def drop_released(self) -> bool:
        """The vehicle holds a base node with the tip (it will tip without another word)."""
        return any(a["actionType"] == "drop" for n in self.vehicle.nodes for a in n["actions"])

    def tipped(self) -> list[str]:
        """The ``drop`` actions the vehicle ran to the end, since it started."""
        return sorted(getattr(self.vehicle, "tips", ()))


def in_flight(site: Site) -> int:
    """Parcels the chutes expect (committed to them, not yet tipped)."""
    return sum(c.in_flight for c in site.flow.board.chutes.values())


def test_a_robot_back_before_the_timeout_tips_its_parcel_once_never_rejected() -> None:
    site = Site(timeout_s=60.0)
    site.lose_on_the_way("p-1")
    assert site.run_until(lambda: site.flow.counts["lost_with_robot"] == 1, 5)
    assert len(site.flow.lost_aboard) == 1  # reported as on a lost robot, its chute still committed
    assert in_flight(site) == 1  # its chute is still committed
    site.loop.run_until(lambda: False, 20)  # lost for 20 s of the 60
    assert site.flow.counts["failed"] == 0
    assert "p-1" in site.flow.parcels
    site.reconnect()
    assert site.run_until(lambda: site.flow.counts["sorted"] == 1, 60), site.flow.counts
    site.loop.run_until(lambda: False, 5)
    site.spy.dispatch()
    assert [c["result"] for c in site.confirms] == []  # the controller rejected nothing
    assert len(site.tipped()) == 1
    assert site.flow.counts["failed"] == 0
    assert site.flow.counts["back_with_robot"] == 1
    assert site.controller.counters["resynced"] == 1


def test_a_robot_back_after_the_timeout_does_not_tip_the_failed_parcel() -> None:
    site = Site(timeout_s=10.0)
    site.lose_on_the_way("p-1")
    lost_at = site.loop.now
    assert site.run_until(lambda: site.confirms, 30)
    (confirm,) = site.confirms
    assert confirm["itemId"] == "p-1"
    assert confirm["result"] == "REJECTED"
    assert confirm["reason"] == f"robot {SERIAL} was lost with the parcel on board, not back within 10 s"
    assert seconds(10.0) <= site.loop.now - lost_at <= seconds(12.0)
    assert site.flow.failed_reasons == {"robot lost with the parcel": 1}
    assert in_flight(site) == 0  # its chute is free again
    site.reconnect()
    back_at = site.loop.now
    assert site.run_until(lambda: site.controller.counters["resynced"] == 1, 30)
    robot = site.controller.executor.robots[SERIAL]
    assert robot.trip is None
    assert not robot.suspended
    site.loop.run_until(lambda: False, 20)
    site.spy.dispatch()
    assert site.drops("p-1", after=back_at) == []  # no order after its return carries the tip
    assert site.tipped() == []
    assert site.flow.counts["sorted"] == 0
    assert [c["result"] for c in site.confirms] == ["REJECTED"]
    site.parcel("p-2")  # and it sorts the next parcel
    assert site.run_until(lambda: site.flow.counts["sorted"] == 1, 90), site.flow.counts
    assert len(site.tipped()) == 1


def test_a_robot_that_drove_on_and_tipped_while_silent_is_credited_with_the_parcel() -> None:
    """No state for 4 s (``fleet.state_timeout_s``): lost; it drove on meanwhile and tipped. Its
    first states once heard show the tip; the resync's cancel does not lose it."""
    site = Site(timeout_s=60.0, state_timeout_s=4.0, supervision_period_s=1.0)
    site.parcel("p-1")
    assert site.run_until(lambda: site.drop_released() and not site.tipped(), 60), site.flow.counts
    site.vehicle.quiet = True
    assert site.run_until(lambda: site.controller.supervisor.is_lost(SERIAL), 10)
    assert site.run_until(lambda: bool(site.tipped()), 30)  # it tipped while nobody heard it
    assert site.flow.counts["sorted"] == 0
    assert len(site.flow.lost_aboard) == 1
    site.vehicle.quiet = False
    assert site.run_until(lambda: site.flow.counts["sorted"] == 1, 30), site.flow.counts
    site.spy.dispatch()
    assert site.confirms == []
    assert len(site.tipped()) == 1
    assert site.controller.executor.robots[SERIAL].trip is None
