"""What a :class:`~robots.agent.VehicleAgent` says: state, visualization, connection, factsheet envelopes.

A mixin holding the outbound half of the agent: topic, QoS and retain per message kind (spec 6.2),
``headerId`` per topic, and the ``state`` message assembled from the agent's bookkeeping. Node and
edge state entries are built once per node (nodes never change once ordered), which keeps a
state with a long order cheap at the 2 Hz a benchmark fleet sends.
"""

from __future__ import annotations

from bus.clock import Instant, iso_timestamp, seconds
from bus.transport import Envelope
from bus.vda5050 import (
    QOS,
    RETAIN,
    BatteryState,
    Edge,
    EdgeState,
    Node,
    NodeState,
    SafetyState,
    State,
    StateNodePosition,
    to_payload,
)
from robots import messages


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

    def _node_state(self, n: Node) -> NodeState:
        """The ``nodeStates`` entry of a node, built once per node (nodes never change)."""
        key = (n.node_id, n.sequence_id, n.released)
        wire = self._wire_cache.get(key)
        if wire is None:
            p = n.node_position
            pos = None if p is None else StateNodePosition(x=p.x, y=p.y, theta=p.theta, map_id=p.map_id)
            wire = NodeState(node_id=n.node_id, sequence_id=n.sequence_id, released=n.released,
                             node_position=pos)
            self._wire_cache[key] = wire
        return wire

    def _edge_state(self, e: Edge) -> EdgeState:
        """The ``edgeStates`` entry of an edge, built once per edge."""
        key = (e.edge_id, e.sequence_id, e.released)
        wire = self._wire_cache.get(key)
        if wire is None:
            wire = EdgeState(edge_id=e.edge_id, sequence_id=e.sequence_id, released=e.released)
            self._wire_cache[key] = wire
        return wire

    def build_state(self, now: Instant, header_id: int = 0) -> State:
        """The current ``state`` message (also used by tests to look inside)."""
        battery = self.drive.battery(now)
        v, omega = self.drive.velocity(now)
        return State(
            header_id=header_id, timestamp=iso_timestamp(now), manufacturer=self.manufacturer,
            serial_number=self.serial_number, order_id=self.order_id, order_update_id=self.order_update_id,
            last_node_id=self.last_node_id, last_node_sequence_id=self.last_node_sequence_id,
            node_states=[self._node_state(n) for n in self._nodes],
            edge_states=[self._edge_state(e) for e in self._edges],
            driving=self.drive.is_moving(now), paused=self._paused,
            action_states=[r.wire() for r in self._actions.values()],
            battery_state=BatteryState(battery_charge=battery.charge_percent, charging=battery.charging,
                                       battery_voltage=battery.voltage_v),
            operating_mode="AUTOMATIC",
            errors=self._order_errors + list(self._condition_errors.values()),
            safety_state=SafetyState(e_stop=self._e_stop, field_violation=self._field_violation),
            agv_position=messages.agv_position(self.drive.pose(now), self.map_id),
            velocity=messages.Velocity(vx=round(v, 3), vy=0.0, omega=round(omega, 3)),
            loads=list(self._loads), new_base_request=False,
            distance_since_last_node=None,
        )

    def _state(self, now: Instant) -> Envelope:
        self._dirty = False
        self._was_driving = self.drive.is_moving(now)
        self._next_state = Instant(now + seconds(self.config.state_interval_s))
        return self._envelope("state", to_payload(self.build_state(now, self._headers.next("state"))))
