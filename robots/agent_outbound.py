"""What a :class:`~robots.agent.VehicleAgent` says: state, visualization, connection, factsheet envelopes.

A mixin holding the outbound half of the agent: topic, QoS and retain per message kind (spec 6.2),
``headerId`` per topic, and the ``state`` message assembled from the agent's bookkeeping. Node and
edge state entries are built once per node (nodes never change once ordered), which keeps a
state with a long order cheap at the 2 Hz a benchmark fleet sends.
"""

from __future__ import annotations

from pydantic import BaseModel

from bus import wire_json
from bus.clock import Instant, iso_timestamp, seconds
from bus.transport import Envelope
from bus.vda5050 import QOS, RETAIN, VDA5050_VERSION, Edge, Node, State, to_payload
from robots import messages
from robots.drive import BatteryReading


class OutboundMixin:
    """The outbound side of the vehicle agent (see the module docstring)."""

    def _envelope(self, kind: str, payload: bytes) -> Envelope:
        return Envelope(self._topics[kind], payload, QOS[kind], RETAIN[kind])

    def _connection(self, now: Instant, state: str) -> Envelope:
        msg = messages.connection(self._headers.next("connection"), now, self.manufacturer,
                                  self.serial_number, state)  # type: ignore[arg-type]
        return self._envelope("connection", to_payload(msg))

    def _factsheet(self, now: Instant) -> Envelope:
        msg = messages.factsheet(self._headers.next("factsheet"), now, self.manufacturer, self.serial_number,
                                 self.config)
        return self._envelope("factsheet", to_payload(msg))

    def _visualization(self, now: Instant) -> Envelope:
        interval = self.config.visualization_interval_s or 1.0
        self._next_vis = Instant(now + seconds(interval))
        v, omega = self.drive.velocity(now)
        msg = messages.visualization(self._headers.next("visualization"), now, self.manufacturer,
                                     self.serial_number, self.drive.pose(now), self.map_id, v, omega)
        return self._envelope("visualization", to_payload(msg))

    def _node_state(self, n: Node) -> dict:
        """The ``nodeStates`` entry of a node (wire form), built once per node (nodes never change)."""
        key = (n.node_id, n.sequence_id, n.released)
        wire = self._wire_cache.get(key)
        if wire is None:
            wire = {"nodeId": n.node_id, "sequenceId": n.sequence_id, "released": n.released}
            p = n.node_position
            if p is not None:
                pos = {"x": float(p.x), "y": float(p.y), "mapId": p.map_id}
                if p.theta is not None:
                    pos["theta"] = float(p.theta)
                wire["nodePosition"] = pos
            self._wire_cache[key] = wire
        return wire

    def _edge_state(self, e: Edge) -> dict:
        """The ``edgeStates`` entry of an edge (wire form), built once per edge."""
        key = (e.edge_id, e.sequence_id, e.released)
        wire = self._wire_cache.get(key)
        if wire is None:
            wire = {"edgeId": e.edge_id, "sequenceId": e.sequence_id, "released": e.released}
            self._wire_cache[key] = wire
        return wire

    def _route_states(self) -> tuple[list[dict], list[dict]]:
        """The ``nodeStates`` and ``edgeStates`` lists, rebuilt only when the route changed.

        The route changes only by an accepted order or update, a node traversed (nodes and edges
        leave from the front) or a cancel (they empty), so the count of orders taken and the two
        lengths say whether the last lists still hold, or hold with their front cut off. The
        lists are shared between states: nothing may change them after they are built.
        """
        key = (self._orders_taken, len(self._nodes), len(self._edges))
        old = self._route_key
        if key == old:
            return self._route_wire
        nodes, edges = self._route_wire
        if old is not None and key[0] == old[0] and key[1] <= old[1] and key[2] <= old[2]:
            self._route_wire = (nodes[len(nodes) - key[1]:], edges[len(edges) - key[2]:])
        else:
            self._route_wire = ([self._node_state(n) for n in self._nodes],
                                [self._edge_state(e) for e in self._edges])
        self._route_key = key
        return self._route_wire

    def state_body(self, now: Instant, header_id: int = 0) -> dict:
        """The current ``state`` message as the JSON object that goes on the wire.

        Why a plain dict and not the :class:`State` model: a fleet of hundreds sends states many
        times a second and building the nested models cost more than the rest of the vehicle. Keys
        and their order are the model's (camelCase, ``None`` left out); the conformance tests parse
        it with the model and check it against the official schema.
        """
        battery = self.drive.battery(now)
        v, omega = self.drive.velocity(now)
        node_states, edge_states = self._route_states()
        return {
            "headerId": header_id, "timestamp": iso_timestamp(now), "version": VDA5050_VERSION,
            "manufacturer": self.manufacturer, "serialNumber": self.serial_number,
            "orderId": self.order_id, "orderUpdateId": self.order_update_id,
            "lastNodeId": self.last_node_id, "lastNodeSequenceId": self.last_node_sequence_id,
            "nodeStates": node_states,
            "edgeStates": edge_states,
            "driving": self.drive.is_moving(now),
            "actionStates": [r.wire_body() for r in self._actions.values()],
            "batteryState": _battery(battery),
            "operatingMode": "AUTOMATIC",
            "errors": [_dump(e) for e in (*self._order_errors, *self._condition_errors.values())],
            "safetyState": {"eStop": self._e_stop, "fieldViolation": self._field_violation},
            "paused": self._paused,
            "newBaseRequest": False,
            "agvPosition": messages.agv_position_body(self.drive.pose(now), self.map_id),
            "velocity": messages.velocity_body(v, omega),
            "loads": [_dump(load) for load in self._loads],
        }

    def build_state(self, now: Instant, header_id: int = 0) -> State:
        """The current ``state`` message as a model (tests look inside with it)."""
        return State.model_validate(self.state_body(now, header_id))

    def _state(self, now: Instant) -> Envelope:
        self._dirty = False
        self._was_driving = self.drive.is_moving(now)
        self._next_state = Instant(now + seconds(self.config.state_interval_s))
        body = self.state_body(now, self._headers.next("state"))
        return self._envelope("state", wire_json.dumps(body))


def _battery(battery: BatteryReading) -> dict:
    """The ``batteryState`` object (the voltage only when the drive knows it)."""
    body = {"batteryCharge": float(battery.charge_percent), "charging": battery.charging}
    if battery.voltage_v is not None:
        body["batteryVoltage"] = float(battery.voltage_v)
    return body


def _dump(model: BaseModel) -> dict:
    """A model's wire form (camelCase, ``None`` left out), for the rare errors and loads."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)
