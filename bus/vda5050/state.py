"""The ``state`` topic (vehicle to master control): progress, actions, battery, errors (spec 6.10).

A vehicle sends state on every relevant change and at least every 30 s. ``actionStatus`` allows
``PAUSED`` as the spec text says (section 6.11); the official ``state.schema`` of 2.1.0 omits
it, a known erratum documented in ``docs/vda5050.md``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from bus.vda5050.base import (
    ActionStatus,
    ErrorLevel,
    EStop,
    Header,
    InfoLevel,
    OperatingMode,
    Trajectory,
    WireModel,
)


class StateNodePosition(WireModel):
    """Node position as echoed in ``nodeStates`` (metres, radians)."""

    x: float
    y: float
    map_id: str
    theta: float | None = None


class NodeState(WireModel):
    """A node of the current order not yet traversed (base and horizon)."""

    node_id: str
    sequence_id: int
    released: bool
    node_description: str | None = None
    node_position: StateNodePosition | None = None


class EdgeState(WireModel):
    """An edge of the current order not yet traversed (base and horizon)."""

    edge_id: str
    sequence_id: int
    released: bool
    edge_description: str | None = None
    trajectory: Trajectory | None = None


class AgvPosition(WireModel):
    """The vehicle's pose in the map frame: x, y in metres, theta in radians CCW from +x."""

    x: float
    y: float
    theta: float
    map_id: str
    position_initialized: bool
    map_description: str | None = None
    localization_score: float | None = Field(default=None, ge=0.0, le=1.0)
    deviation_range: float | None = None


class Velocity(WireModel):
    """Velocity in the vehicle frame: vx, vy in m/s, omega in rad/s."""

    vx: float | None = None
    vy: float | None = None
    omega: float | None = None


class ActionState(WireModel):
    """The status of one node, edge or instant action."""

    action_id: str
    action_status: ActionStatus
    action_type: str | None = None
    action_description: str | None = None
    result_description: str | None = None


class BatteryState(WireModel):
    """Battery: ``battery_charge`` in percent (0-100), ``reach`` in metres."""

    battery_charge: float
    charging: bool
    battery_voltage: float | None = None
    battery_health: float | None = Field(default=None, ge=0, le=100)
    reach: float | None = Field(default=None, ge=0)


class ErrorReference(WireModel):
    """What an error or information refers to (``orderId``, ``nodeId``, ``actionId``, ...)."""

    reference_key: str
    reference_value: str


class Error(WireModel):
    """An error the vehicle reports; FATAL means it cannot go on without help."""

    error_type: str
    error_level: ErrorLevel
    error_references: list[ErrorReference] | None = None
    error_description: str | None = None
    error_hint: str | None = None


class Information(WireModel):
    """Information for humans (debugging, visualisation)."""

    info_type: str
    info_level: InfoLevel
    info_references: list[ErrorReference] | None = None
    info_description: str | None = None


class SafetyState(WireModel):
    """Emergency stop kind and whether a protective field is violated."""

    e_stop: EStop
    field_violation: bool


class MapState(WireModel):
    """A map held by the vehicle."""

    map_id: str
    map_version: str
    map_status: Literal["ENABLED", "DISABLED"]
    map_description: str | None = None


class Load(WireModel):
    """A load carried by the vehicle."""

    load_id: str | None = None
    load_type: str | None = None
    load_position: str | None = None
    weight: float | None = Field(default=None, ge=0)


class State(Header):
    """The vehicle's full state."""

    order_id: str
    order_update_id: int
    last_node_id: str
    last_node_sequence_id: int
    node_states: list[NodeState]
    edge_states: list[EdgeState]
    driving: bool
    action_states: list[ActionState]
    battery_state: BatteryState
    operating_mode: OperatingMode
    errors: list[Error]
    safety_state: SafetyState
    maps: list[MapState] | None = None
    zone_set_id: str | None = None
    paused: bool | None = None
    new_base_request: bool | None = None
    distance_since_last_node: float | None = None
    agv_position: AgvPosition | None = None
    velocity: Velocity | None = None
    loads: list[Load] | None = None
    information: list[Information] | None = None
