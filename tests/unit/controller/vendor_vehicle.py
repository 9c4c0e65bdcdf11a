"""A strict vendor-style VDA 5050 vehicle for controller tests: its own version, manufacturer and
action set, and the checks a vehicle we did not write makes.

Why: the controller must drive vehicles it did not write. This one behaves like the third-party
implementations met in the field: it checks the header ``version`` against its own (a 2.0
vehicle refuses 2.1 messages), refuses an order with an action its factsheet does not list
(``orderError`` naming the action), refuses repeated edge ids within an order, and answers a
``cancelOrder`` while it has no order with only a ``noOrderToCancel`` error (no action state).
It records every message it receives, so tests can validate them against the schemas of its
version.
"""

from __future__ import annotations

import json

from bus.clock import Instant, iso_timestamp
from bus.topics import VdaTopic
from bus.transport import Envelope
from tests.unit.controller.fake_vehicle import FakeVehicle

INSTANT = ("cancelOrder", "stateRequest", "startPause", "stopPause")


class VendorVehicle(FakeVehicle):
    """A :class:`FakeVehicle` with a vendor's dialect (see the module docstring).

    Args:
        node_actions: the node actions its factsheet lists (None: it publishes no factsheet and
            accepts any action).
        lying_factsheet: extra actions its factsheet lists but it refuses (a wrong factsheet).
    """

    def __init__(
        self,
        serial: str,
        position_m: tuple[float, float],
        *,
        manufacturer: str = "acme",
        version: str = "2.0.0",
        node_actions: tuple[str, ...] | None = ("pick", "drop", "startCharging", "stopCharging"),
        lying_factsheet: tuple[str, ...] = (),
        **kwargs,
    ) -> None:
        super().__init__(serial, position_m, manufacturer=manufacturer, version=version, **kwargs)
        self.node_actions = node_actions
        self.lying_factsheet = lying_factsheet
        self.received: list[tuple[str, dict]] = []  # (topic kind, message) in arrival order
        self.rejections: list[tuple[Instant, str]] = []  # (when, errorDescription)
        self.cancels_answered_by_error = 0
        self._charges_seen: set[str] = set()
        self._charge_from: Instant = 0

    # -- announce ---------------------------------------------------------------------------------
    def on_connect(self, now: Instant) -> list[Envelope]:
        out = super().on_connect(now)
        if self.node_actions is None:
            return out
        listed = list(self.node_actions) + list(self.lying_factsheet)
        body = {
            "headerId": self.headers.next("f"),
            "timestamp": iso_timestamp(now),
            "version": self.version,
            "manufacturer": self.manufacturer,
            "serialNumber": self.serial,
            "typeSpecification": {"seriesName": "vendor", "agvKinematic": "DIFF", "agvClass": "CARRIER",
                                  "maxLoadMass": 500, "localizationTypes": ["NATURAL"],
                                  "navigationTypes": ["AUTONOMOUS"]},
            "physicalParameters": {"speedMin": 0.0, "speedMax": 1.5, "accelerationMax": 1.0,
                                   "decelerationMax": 1.0, "heightMax": 0.4, "width": 0.7, "length": 0.9},
            "protocolFeatures": {
                "optionalParameters": [],
                "agvActions": [{"actionType": a, "actionScopes": ["NODE", "INSTANT"] if "Charging" in a
                                else ["NODE"]} for a in listed]
                + [{"actionType": a, "actionScopes": ["INSTANT"]} for a in INSTANT],
            },
        }
        factsheet = Envelope(self.topic(VdaTopic.FACTSHEET), json.dumps(body).encode(), 0, True)
        return [out[0], factsheet, *out[1:]]

    # -- inbound ----------------------------------------------------------------------------------
    def handle(self, now: Instant, msg: Envelope) -> list[Envelope]:
        data = json.loads(msg.payload)
        kind = msg.topic.rsplit("/", 1)[-1]
        self.received.append((kind, data))
        if data.get("version", "").split(".")[:2] != self.version.split(".")[:2]:
            return self._refuse(now, "validationError", data.get("orderId", ""),
                                f"version {data.get('version')!r} is not {self.version}")
        if kind == "order":
            problem = self._order_problem(data)
            if problem is not None:
                return self._refuse(now, *problem)
        if kind == "instantActions":
            return self._instant(now, msg, data)
        return super().handle(now, msg)

    def _order_problem(self, data: dict) -> tuple[str, str, str] | None:
        edge_ids = [e["edgeId"] for e in data["edges"]]
        if len(set(edge_ids)) != len(edge_ids):
            return "validationError", data["orderId"], "edgeId values must be unique within an order"
        for n in data["nodes"]:
            for a in n["actions"]:
                if self.node_actions is not None and a["actionType"] not in self.node_actions:
                    return "orderError", data["orderId"], f"action '{a['actionType']}' is not supported"
        return None

    def _instant(self, now: Instant, msg: Envelope, data: dict) -> list[Envelope]:
        idle = self.index >= len(self.nodes) - 1 and self.moving_until is None and self.running is None
        cancels = [a for a in data["actions"] if a["actionType"] == "cancelOrder"]
        for a in data["actions"]:
            if a["actionType"] == "stopCharging":
                self.charging = False
                self.action_states[a["actionId"]] = {"actionId": a["actionId"], "actionType": "stopCharging",
                                                     "actionStatus": "FINISHED"}
                self._dirty = True
        if any(a["actionType"] == "stopCharging" for a in data["actions"]):
            return self.tick(now)
        if cancels and idle:
            self.cancels_answered_by_error += 1
            self.errors = [{
                "errorType": "noOrderToCancel",
                "errorLevel": "WARNING",
                "errorDescription": "no order to cancel",
                "errorReferences": [{"referenceKey": "actionId", "referenceValue": cancels[0]["actionId"]}],
            }]
            self._dirty = True
            return self.tick(now)
        return super().handle(now, msg)

    def tick(self, now: Instant) -> list[Envelope]:
        """As the fake vehicle; ``startCharging`` finishes as the charge starts (the same state shows
        both), then the battery gains 1 % a second until ``stopCharging`` (VDA 5050 6.8.2)."""
        if self.charging:
            gained = (now - self._charge_from) / 1e9
            if gained >= 1.0:
                self.battery_pct = min(100.0, self.battery_pct + gained)
                self._charge_from = now
                self._dirty = True
        out = super().tick(now)
        for st in self.action_states.values():
            started = st["actionType"] == "startCharging" and st["actionStatus"] == "FINISHED"
            if started and st["actionId"] not in self._charges_seen:
                self._charges_seen.add(st["actionId"])
                self.charging, self._charge_from = True, now
                out = [self.state(now)]  # the state that says FINISHED says charging too
        return out

    def _refuse(self, now: Instant, error_type: str, order_id: str, text: str) -> list[Envelope]:
        self.rejections.append((now, text))
        self._reject(error_type, order_id)
        self.errors[0]["errorDescription"] = text
        self._dirty = True
        return self.tick(now)

    def sent_to_me(self, kind: str) -> list[dict]:
        """Every message of ``kind`` (order, instantActions) the controller sent this vehicle."""
        return [m for k, m in self.received if k == kind]
