"""A compact VDA 5050 vehicle used by the simulator until the robots package's ``VehicleAgent`` is wired.

Why it exists: the simulator must run end to end (controller, bus, vehicles, sorter) while the
full vehicle agent (``robots.VehicleAgent`` with ``PyBulletDrive``) is still being built on its
own branch. This stand-in implements the part of VDA 5050 2.1 the controller relies on: orders
and updates extending the base from the last base node, released base nodes followed in order
(horizon nodes never driven), node actions with WAITING/RUNNING/FINISHED, ``cancelOrder`` and
``stateRequest`` instant actions, retained ONLINE connection and a CONNECTIONBROKEN last will,
state on every change and every 30 s. Motion is a pure function of time: turn in place toward
the next node at ``turn_rate_rps``, then drive straight at ``speed_mps``; the pose between nodes
is interpolated, which is what the trace and the PyBullet bodies show.
"""

from __future__ import annotations

import json
import math

from bus.clock import Instant, iso_timestamp, seconds
from bus.header import HeaderIds
from bus.topics import VdaTopic, vda_topic
from bus.transport import Envelope
from sim.trace import Pose

STATE_PERIOD_NS = seconds(30.0)


class StandInVehicle:
    """One simulated vehicle; pure and clock-injected (``handle``, ``tick``, ``next_wakeup``)."""

    def __init__(
        self,
        serial: str,
        pose: Pose,
        *,
        map_id: str,
        speed_mps: float = 1.0,
        turn_rate_rps: float = math.pi,
        action_s: float = 2.0,
        manufacturer: str = "bulletyard",
    ) -> None:
        self.robot_id = serial
        self.serial = serial
        self.manufacturer = manufacturer
        self.map_id = map_id
        self.speed_mps = speed_mps
        self.turn_rate_rps = turn_rate_rps
        self.action_ns = seconds(action_s)
        self._pose = pose
        self.headers = HeaderIds()
        self.order_id = ""
        self.update_id = 0
        self.nodes: list[dict] = []
        self.index = -1
        self.last_node_id = ""
        self.last_seq = 0
        self.horizon = 0
        self.action_states: dict[str, dict] = {}
        self.pending_actions: list[str] = []
        self.running: tuple[str, Instant] | None = None
        self.motion: tuple[Instant, Pose, float, Instant, Pose, Instant] | None = None
        self.held_until: Instant = Instant(0)
        self.errors: list[dict] = []
        self.killed = False
        self._dirty = True
        self._next_state: Instant | None = None

    # -- identity and wills ---------------------------------------------------------------------

    def topic(self, kind: VdaTopic) -> str:
        """This vehicle's topic of one kind."""
        return vda_topic(self.manufacturer, self.serial, kind)

    def subscriptions(self) -> list[tuple[str, int]]:
        """Order and instant actions."""
        return [(self.topic(VdaTopic.ORDER), 0), (self.topic(VdaTopic.INSTANT_ACTIONS), 0)]

    def _connection(self, now: Instant, state: str) -> Envelope:
        body = {
            "headerId": self.headers.next("connection"),
            "timestamp": iso_timestamp(now),
            "version": "2.1.0",
            "manufacturer": self.manufacturer,
            "serialNumber": self.serial,
            "connectionState": state,
        }
        return Envelope(self.topic(VdaTopic.CONNECTION), json.dumps(body).encode(), 1, True)

    def will(self) -> Envelope | None:
        """CONNECTIONBROKEN, retained, QoS 1."""
        return self._connection(Instant(0), "CONNECTIONBROKEN")

    def on_connect(self, now: Instant) -> list[Envelope]:
        """Retained ONLINE, then a first state."""
        self._dirty = False
        self._next_state = Instant(now + STATE_PERIOD_NS)
        return [self._connection(now, "ONLINE"), self._state(now)]

    # -- inbound --------------------------------------------------------------------------------

    def handle(self, now: Instant, msg: Envelope) -> list[Envelope]:
        """An order or instant actions."""
        try:
            data = json.loads(msg.payload)
            if msg.topic.endswith("/order"):
                self._order(data)
            elif msg.topic.endswith("/instantActions"):
                self._instant(data)
        except (ValueError, KeyError, TypeError, IndexError):
            self.errors = [
                {
                    "errorType": "validationError",
                    "errorLevel": "WARNING",
                    "errorDescription": "malformed message",
                }
            ]
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
        self._dirty = True

    def _order(self, d: dict) -> None:
        released = [n for n in d["nodes"] if n["released"]]
        horizon = len(d["nodes"]) - len(released)
        self._dirty = True
        if d["orderId"] == self.order_id:
            if d["orderUpdateId"] == self.update_id:
                return
            if d["orderUpdateId"] < self.update_id or not released:
                self._reject("orderUpdateError", d["orderId"])
                return
            last = self.nodes[-1]
            if released[0]["nodeId"] != last["nodeId"] or released[0]["sequenceId"] != last["sequenceId"]:
                self._reject("orderUpdateError", d["orderId"])
                return
            self.nodes.extend(released[1:])
        else:
            if self.index < len(self.nodes) - 1 or self.running is not None or not released:
                self._reject("orderError", d["orderId"])
                return
            self.nodes = released
            self.index = 0
            self.last_node_id, self.last_seq = released[0]["nodeId"], released[0]["sequenceId"]
            self.action_states = {}
            self._queue_actions(released[0])
        self.errors = []
        self.order_id, self.update_id, self.horizon = d["orderId"], d["orderUpdateId"], horizon
        for n in released:
            for a in n.get("actions", []):
                self.action_states.setdefault(
                    a["actionId"],
                    {"actionId": a["actionId"], "actionType": a["actionType"], "actionStatus": "WAITING"},
                )

    def _instant(self, d: dict) -> None:
        for a in d["actions"]:
            if a["actionType"] == "cancelOrder":
                self.nodes = self.nodes[: self.index + 1]
                self.pending_actions.clear()
                self.running = None
                self.horizon = 0
            self.action_states[a["actionId"]] = {
                "actionId": a["actionId"],
                "actionType": a["actionType"],
                "actionStatus": "FINISHED",
            }
        self._dirty = True

    def _queue_actions(self, node: dict) -> None:
        self.pending_actions.extend(a["actionId"] for a in node.get("actions", []))

    # -- faults ---------------------------------------------------------------------------------

    def hold(self, now: Instant, span_ns: int) -> None:
        """A delay: no new motion or action starts before ``now + span_ns``."""
        self.held_until = Instant(max(self.held_until, now + span_ns))

    def kill(self) -> None:
        """The vehicle stops for good where it is (its connection is dropped by the runner)."""
        self.killed = True

    # -- time -----------------------------------------------------------------------------------

    def tick(self, now: Instant) -> list[Envelope]:
        """Finish what is due and start what can start."""
        if self.killed:
            return []
        if self.running is not None and now >= self.running[1]:
            self.action_states[self.running[0]]["actionStatus"] = "FINISHED"
            self.running = None
            self._dirty = True
        if self.motion is not None and now >= self.motion[5]:
            self._pose = self.motion[4]
            self.motion = None
            self.index += 1
            node = self.nodes[self.index]
            self.last_node_id, self.last_seq = node["nodeId"], node["sequenceId"]
            self._queue_actions(node)
            self._dirty = True
        if self.running is None and self.motion is None and now >= self.held_until:
            if self.pending_actions:
                aid = self.pending_actions.pop(0)
                self.action_states[aid]["actionStatus"] = "RUNNING"
                self.running = (aid, Instant(now + self.action_ns))
                self._dirty = True
            elif self.index + 1 < len(self.nodes):
                self._start_motion(now, self.nodes[self.index + 1])
                self._dirty = True
        out: list[Envelope] = []
        if self._dirty or (self._next_state is not None and now >= self._next_state):
            self._dirty = False
            self._next_state = Instant(now + STATE_PERIOD_NS)
            out.append(self._state(now))
        return out

    def _start_motion(self, now: Instant, node: dict) -> None:
        x0, y0, th0 = self._pose
        x1, y1 = float(node["nodePosition"]["x"]), float(node["nodePosition"]["y"])
        dist = math.hypot(x1 - x0, y1 - y0)
        th1 = math.atan2(y1 - y0, x1 - x0) if dist > 1e-6 else th0
        turn = abs(math.remainder(th1 - th0, math.tau))
        t_turn = Instant(now + seconds(turn / self.turn_rate_rps))
        t_end = Instant(t_turn + seconds(dist / self.speed_mps))
        self.motion = (now, (x0, y0, th0), th1, t_turn, (x1, y1, th1), t_end)

    def next_wakeup(self) -> Instant | None:
        """End of the running action or motion, end of a hold, or the periodic state."""
        if self.killed:
            return None
        times = [t for t in (self._next_state,) if t is not None]
        if self.running is not None:
            times.append(self.running[1])
        if self.motion is not None:
            times.append(self.motion[5])
        elif self.running is None and (self.pending_actions or self.index + 1 < len(self.nodes)):
            times.append(self.held_until)
        return min(times) if times else None

    # -- views ----------------------------------------------------------------------------------

    def pose(self, now: Instant) -> Pose:
        """Interpolated map-frame pose at ``now``."""
        if self.motion is None:
            return self._pose
        t0, (x0, y0, th0), th1, t_turn, (x1, y1, _), t_end = self.motion
        if now <= t_turn:
            f = (now - t0) / (t_turn - t0) if t_turn > t0 else 1.0
            return (x0, y0, th0 + math.remainder(th1 - th0, math.tau) * max(0.0, f))
        f = min(1.0, (now - t_turn) / (t_end - t_turn)) if t_end > t_turn else 1.0
        return (x0 + (x1 - x0) * f, y0 + (y1 - y0) * f, th1)

    def state_name(self) -> str:
        """offline, busy (action), driving, waiting (work ahead but stopped), idle."""
        if self.killed:
            return "offline"
        if self.running is not None:
            return "busy"
        if self.motion is not None:
            return "driving"
        if self.pending_actions or self.index + 1 < len(self.nodes) or self.horizon:
            return "waiting"
        return "idle"

    def planned_path(self) -> list[tuple[float, float]]:
        """Released nodes still ahead, as map points (for the GUI)."""
        return [
            (float(n["nodePosition"]["x"]), float(n["nodePosition"]["y"]))
            for n in self.nodes[self.index + 1 :]
        ]

    def _state(self, now: Instant) -> Envelope:
        x, y, th = self.pose(now)
        body = {
            "headerId": self.headers.next("state"),
            "timestamp": iso_timestamp(now),
            "version": "2.1.0",
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
            "driving": self.motion is not None,
            "actionStates": list(self.action_states.values()),
            "batteryState": {"batteryCharge": 100.0, "charging": False},
            "operatingMode": "AUTOMATIC",
            "errors": list(self.errors),
            "safetyState": {"eStop": "NONE", "fieldViolation": False},
            "agvPosition": {
                "x": round(x, 4),
                "y": round(y, 4),
                "theta": round(th, 4),
                "mapId": self.map_id,
                "positionInitialized": True,
            },
        }
        return Envelope(
            self.topic(VdaTopic.STATE), json.dumps(body, separators=(",", ":")).encode(), 0, False
        )
