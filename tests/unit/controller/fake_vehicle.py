"""A minimal VDA 5050 vehicle for controller tests (one cell per ``step_s``, actions take ``action_s``).

Why: controller tests need a vehicle that follows released base nodes, runs node actions,
acknowledges orders in its state and rejects inconsistent updates, without depending on the
robots package. It is pure and clock-injected like every agent: ``handle``, ``tick``,
``next_wakeup``, ``on_connect``.
"""

from __future__ import annotations

import json

from bus.clock import Instant, iso_timestamp, seconds
from bus.header import HeaderIds
from bus.topics import VdaTopic, vda_topic
from bus.transport import Envelope


class FakeVehicle:
    """Follows VDA orders on a grid; ``position`` is its current node's (x, y) metres."""

    def __init__(
        self,
        serial: str,
        position_m: tuple[float, float],
        *,
        step_s: float = 1.0,
        action_s: float = 2.0,
        map_id: str = "test",
        manufacturer: str = "bulletyard",
        version: str = "2.1.0",
    ) -> None:
        self.serial = serial
        self.manufacturer = manufacturer
        self.version = version
        self.position_m = position_m
        self.step = seconds(step_s)
        self.action_time = seconds(action_s)
        self.map_id = map_id
        self.headers = HeaderIds()
        self.order_id = ""
        self.update_id = 0
        self.nodes: list[dict] = []  # base nodes in order, including reached ones
        self.index = -1  # index in nodes of the last reached node
        self.last_node_id = ""
        self.last_seq = 0
        self.action_states: dict[str, dict] = {}
        self.running: tuple[str, Instant] | None = None
        self.moving_until: Instant | None = None
        self.errors: list[dict] = []
        self.battery_pct = 100.0
        self.charging = False
        self.fatal = False
        self.delay_until: Instant = 0
        self.orders_received = 0
        self.cancel_pending: str | None = None
        self.reject_next = False
        self._last_state: Instant = 0
        self._dirty = True

    def topic(self, kind: VdaTopic) -> str:
        return vda_topic(self.manufacturer, self.serial, kind)

    def will(self) -> Envelope:
        body = {
            "headerId": 0,
            "timestamp": iso_timestamp(0),
            "version": self.version,
            "manufacturer": self.manufacturer,
            "serialNumber": self.serial,
            "connectionState": "CONNECTIONBROKEN",
        }
        return Envelope(self.topic(VdaTopic.CONNECTION), json.dumps(body).encode(), 1, True)

    def held_cells(self) -> list[tuple[int, int]]:
        """Cells (1 m grid) the vehicle stands on, plus the one it drives into."""
        cells = [(int(self.position_m[0] // 1), int(-self.position_m[1] // 1))]
        if self.moving_until is not None and self.index + 1 < len(self.nodes):
            p = self.nodes[self.index + 1]["nodePosition"]
            cells.append((int(p["x"] // 1), int(-p["y"] // 1)))
        return cells

    def on_connect(self, now: Instant) -> list[Envelope]:
        body = {
            "headerId": self.headers.next("c"),
            "timestamp": iso_timestamp(now),
            "version": self.version,
            "manufacturer": self.manufacturer,
            "serialNumber": self.serial,
            "connectionState": "ONLINE",
        }
        return [
            Envelope(self.topic(VdaTopic.CONNECTION), json.dumps(body).encode(), 1, True),
            self.state(now),
        ]

    # -- inbound ----------------------------------------------------------------------------------
    def handle(self, now: Instant, msg: Envelope) -> list[Envelope]:
        data = json.loads(msg.payload)
        if msg.topic.endswith("/order"):
            self._order(data)
        elif msg.topic.endswith("/instantActions"):
            for a in data["actions"]:
                if a["actionType"] == "stateRequest":
                    self._dirty = True
                    continue
                status = "FINISHED"
                if a["actionType"] == "cancelOrder":
                    moving = self.moving_until is not None
                    self.nodes = self.nodes[: self.index + (2 if moving else 1)]
                    self.running = None
                    if moving:  # finished once stopped on the next node
                        status = "RUNNING"
                        self.cancel_pending = a["actionId"]
                self.action_states[a["actionId"]] = {
                    "actionId": a["actionId"],
                    "actionType": a["actionType"],
                    "actionStatus": status,
                }
            self._dirty = True
        return self.tick(now)

    def _reject(self, error_type: str, order_id: str) -> None:
        self.errors = [
            {
                "errorType": error_type,
                "errorLevel": "WARNING",
                "errorReferences": [{"referenceKey": "orderId", "referenceValue": order_id}],
            }
        ]

    def _order(self, d: dict) -> None:
        self.orders_received += 1
        self._dirty = True
        nodes = [n for n in d["nodes"] if n["released"]]
        if d["orderId"] == self.order_id:
            if self.reject_next and d["orderUpdateId"] > self.update_id:
                self.reject_next = False
                self._reject("orderUpdateError", d["orderId"])
                return
            if d["orderUpdateId"] == self.update_id:
                return  # duplicate
            if d["orderUpdateId"] < self.update_id:
                self._reject("orderUpdateError", d["orderId"])
                return
            last = self.nodes[-1]
            if nodes[0]["nodeId"] != last["nodeId"] or nodes[0]["sequenceId"] != last["sequenceId"]:
                self._reject("orderUpdateError", d["orderId"])
                return
            self.nodes.extend(nodes[1:])
        else:
            busy = self.index < len(self.nodes) - 1 or self.moving_until is not None
            if busy or self.running is not None:  # like robots.VehicleAgent: no new order mid-action
                self._reject("orderError", d["orderId"])
                return
            self.nodes = nodes
            self.index = 0
            self.last_node_id = nodes[0]["nodeId"]
            self.last_seq = nodes[0]["sequenceId"]
            self.action_states = {}
            self._start_actions(nodes[0])
        self.errors = []
        self.order_id = d["orderId"]
        self.update_id = d["orderUpdateId"]
        for n in nodes:
            for a in n["actions"]:
                self.action_states.setdefault(
                    a["actionId"],
                    {"actionId": a["actionId"], "actionType": a["actionType"], "actionStatus": "WAITING"},
                )

    def _start_actions(self, node: dict) -> None:
        for a in node["actions"]:
            st = self.action_states.setdefault(
                a["actionId"], {"actionId": a["actionId"], "actionType": a["actionType"]}
            )
            st["actionStatus"] = "RUNNING"
            self.running = (a["actionId"], 0)

    # -- time -------------------------------------------------------------------------------------
    def tick(self, now: Instant) -> list[Envelope]:
        if self.fatal:
            return self._maybe_state(now)
        if self.running is not None:
            aid, until = self.running
            if until == 0:
                self.running = (aid, now + self.action_time)
            elif now >= until:
                self.action_states[aid]["actionStatus"] = "FINISHED"
                self.running = None
                self._dirty = True
        if self.running is None and now >= self.delay_until:
            if self.moving_until is None and self.index + 1 < len(self.nodes):
                self.moving_until = now + self.step
                self._dirty = True
            elif self.moving_until is not None and now >= self.moving_until:
                self.moving_until = None
                self.index += 1
                node = self.nodes[self.index]
                self.position_m = (node["nodePosition"]["x"], node["nodePosition"]["y"])
                self.last_node_id, self.last_seq = node["nodeId"], node["sequenceId"]
                self._start_actions(node)
                self._dirty = True
                if self.cancel_pending is not None:
                    self.action_states[self.cancel_pending]["actionStatus"] = "FINISHED"
                    self.cancel_pending = None
        return self._maybe_state(now)

    def next_wakeup(self) -> Instant | None:
        times = []
        if self.running is not None and self.running[1]:
            times.append(self.running[1])
        if self.moving_until is not None:
            times.append(self.moving_until)
        return min(times) if times else None

    def _maybe_state(self, now: Instant) -> list[Envelope]:
        if not self._dirty and now < self._last_state + seconds(10):
            return []
        self._dirty = False
        self._last_state = now
        return [self.state(now)]

    def state(self, now: Instant) -> Envelope:
        errors = list(self.errors)
        if self.fatal:
            errors.append({"errorType": "driveFailure", "errorLevel": "FATAL"})
        body = {
            "headerId": self.headers.next("s"),
            "timestamp": iso_timestamp(now),
            "version": self.version,
            "manufacturer": self.manufacturer,
            "serialNumber": self.serial,
            "orderId": self.order_id,
            "orderUpdateId": self.update_id,
            "lastNodeId": self.last_node_id,
            "lastNodeSequenceId": self.last_seq,
            "nodeStates": [
                {"nodeId": n["nodeId"], "sequenceId": n["sequenceId"], "released": True}
                for n in self.nodes[self.index + 1 :]
            ],
            "edgeStates": [],
            "driving": self.moving_until is not None,
            "actionStates": list(self.action_states.values()),
            "batteryState": {"batteryCharge": self.battery_pct, "charging": self.charging},
            "operatingMode": "AUTOMATIC",
            "errors": errors,
            "safetyState": {"eStop": "NONE", "fieldViolation": False},
            "agvPosition": {
                "x": self.position_m[0],
                "y": self.position_m[1],
                "theta": 0.0,
                "mapId": self.map_id,
                "positionInitialized": True,
            },
        }
        return Envelope(self.topic(VdaTopic.STATE), json.dumps(body).encode(), 0, False)
