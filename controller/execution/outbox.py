"""Everything the executor sends to vehicles: orders, instant actions, and their resends.

Why one place: every VDA 5050 message to a vehicle needs the same things (its manufacturer's
topic, a fresh header id per topic, the vehicle's protocol version) and the acknowledgement
tracker must see every order and tracked instant action that goes out.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from bus import wire_json
from bus.clock import Instant, iso_timestamp
from bus.header import HeaderIds
from bus.topics import VdaTopic, vda_delivery, vda_topic
from bus.transport import Envelope
from controller.config import ControllerConfig
from controller.execution.adg import ActionDependencyGraph
from controller.execution.records import RobotRecord
from controller.execution.resend import ResendTracker
from controller.execution.vda_orders import NodeAction, for_version, instant_actions_body, with_header
from controller.fleet.profiles import VehicleProfile


class VdaOutbox:
    """Builds the envelopes to vehicles and tracks what awaits an acknowledgement.

    Args:
        robots: the executor's robot records (shared; their order streams).
        adg: the executor's action dependency graph (what is released).
        config: controller configuration (resend intervals).
        profile_of: a vehicle's profile (its protocol version).
        manufacturer_of: the manufacturer level of a vehicle's topics.
    """

    def __init__(
        self,
        robots: dict[str, RobotRecord],
        adg: ActionDependencyGraph,
        config: ControllerConfig,
        profile_of: Callable[[str], VehicleProfile],
        manufacturer_of: Callable[[str], str],
    ) -> None:
        self.robots = robots
        self.adg = adg
        self.profile_of = profile_of
        self.manufacturer_of = manufacturer_of
        self.resend = ResendTracker(config.resend.interval_s, config.resend.max_interval_s)
        self.headers = HeaderIds()

    def order_updates(self, now: Instant, serials: list[str]) -> list[Envelope]:
        """Order (update)s to the robots among ``serials`` whose released plan grew past what they
        were sent, each tracked until the vehicle's state acknowledges it; nothing to a robot that
        is lost, resynchronising or has an order unacknowledged."""
        out: list[Envelope] = []
        adg = self.adg
        for s in serials:
            r = self.robots[s]
            if r.suspended or r.resync_action is not None or self.resend.pending_order(s) is not None:
                continue
            released = adg.released_prefix(s)
            if r.holds:  # the vehicle is told nothing beyond a station it must wait at
                released = min(released, min(r.holds))
            if not r.stream.grows(released):
                continue  # the common case; skips copying the robot's whole plan
            if not r.stream.adds_node(partial(adg.cell_at, s), released):
                continue  # only waits released on the last node sent: nothing to tell the vehicle
            body = r.stream.extend(adg.cells(s), released, r.actions)
            if body is None:
                continue
            wire = for_version(body, self.profile_of(s).version)
            out.append(self._envelope(now, s, VdaTopic.ORDER, wire))  # (not via _order_envelope: a hop less)
            self.resend.sent_order(now, s, body)
        return out

    def instant_action(self, now: Instant, serial: str, action: NodeAction) -> Envelope:
        """An instantActions message with one action, tracked until it shows in actionStates."""
        body = instant_actions_body([action], self.profile_of(serial).version)
        self.resend.sent_instant_action(now, serial, action.action_id, body)
        return self._envelope(now, serial, VdaTopic.INSTANT_ACTIONS, body)

    def state_request(self, now: Instant, serial: str, action_id: str) -> Envelope:
        """A stateRequest instant action (not tracked: any later state answers it)."""
        body = instant_actions_body(
            [NodeAction(action_id, "stateRequest", (), "NONE")], self.profile_of(serial).version
        )
        return self._envelope(now, serial, VdaTopic.INSTANT_ACTIONS, body)

    def resends(self, now: Instant) -> list[Envelope]:
        """Messages whose acknowledgement is overdue, sent again with a fresh header."""
        out: list[Envelope] = []
        for p in self.resend.due(now):
            if p.kind == "order":
                out.append(self._order_envelope(now, p.serial_number, p.body))
            else:
                out.append(self._envelope(now, p.serial_number, VdaTopic.INSTANT_ACTIONS, p.body))
        return out

    def _order_envelope(self, now: Instant, serial: str, body: dict[str, Any]) -> Envelope:
        wire = for_version(body, self.profile_of(serial).version)
        return self._envelope(now, serial, VdaTopic.ORDER, wire)

    def _envelope(self, now: Instant, serial: str, kind: VdaTopic, body: dict[str, Any]) -> Envelope:
        """A VDA 5050 message to one vehicle at QoS 0, with a fresh header for its topic."""
        manufacturer = self.manufacturer_of(serial)
        topic = vda_topic(manufacturer, serial, kind)
        msg = with_header(
            body,
            header_id=self.headers.next(topic),
            timestamp=iso_timestamp(now),
            manufacturer=manufacturer,
            serial_number=serial,
            version=self.profile_of(serial).version,
        )
        return Envelope(topic, wire_json.dumps(msg), *vda_delivery(kind))
