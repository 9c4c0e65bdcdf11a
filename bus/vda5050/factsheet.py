"""The ``factsheet`` topic: what a vehicle is and can do, retained (spec 6.15).

Only the parts bulletyard fills are typed in detail; the rest are plain dictionaries so inbound
factsheets from other vendors still parse.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from bus.vda5050.base import WireModel


class TypeSpecification(WireModel):
    """Kinematics, class, maximum load (kg), localisation and navigation kinds."""

    series_name: str
    agv_kinematic: Literal["DIFF", "OMNI", "THREEWHEEL"]
    agv_class: Literal["FORKLIFT", "CONVEYOR", "TUGGER", "CARRIER"]
    max_load_mass: float = Field(ge=0)
    localization_types: list[Literal["NATURAL", "REFLECTOR", "RFID", "DMC", "SPOT", "GRID"]]
    navigation_types: list[Literal["PHYSICAL_LINE_GUIDED", "VIRTUAL_LINE_GUIDED", "AUTONOMOUS"]]
    series_description: str | None = None


class PhysicalParameters(WireModel):
    """Speeds (m/s), accelerations (m/s^2) and the footprint (m)."""

    speed_min: float
    speed_max: float
    acceleration_max: float
    deceleration_max: float
    height_max: float
    width: float
    length: float
    height_min: float | None = None
    angular_speed_max: float | None = None
    """Turn-in-place rate limit, rad/s: not in VDA 5050 2.x (extra properties are allowed); the
    controller's rotation planner takes a vehicle's 90 degree turn time from it."""


class Timing(WireModel):
    """Message intervals in seconds."""

    min_order_interval: float
    min_state_interval: float
    default_state_interval: float | None = None
    visualization_interval: float | None = None


class ProtocolLimits(WireModel):
    """Length limits (keys as in the schema, some contain dots) and timing."""

    max_string_lens: dict[str, Any]
    max_array_lens: dict[str, int]
    timing: Timing


class OptionalParameter(WireModel):
    """An optional protocol field the vehicle supports or requires."""

    parameter: str
    support: Literal["SUPPORTED", "REQUIRED"]
    description: str | None = None


class AgvActionParameter(WireModel):
    """A parameter an action accepts."""

    key: str
    value_data_type: Literal["BOOL", "NUMBER", "INTEGER", "FLOAT", "STRING", "OBJECT", "ARRAY"]
    description: str | None = None
    is_optional: bool | None = None


class AgvAction(WireModel):
    """An action the vehicle supports and where (instant, node, edge)."""

    action_type: str
    action_scopes: list[Literal["INSTANT", "NODE", "EDGE"]]
    action_description: str | None = None
    action_parameters: list[AgvActionParameter] | None = None
    result_description: str | None = None


class ProtocolFeatures(WireModel):
    """Optional parameters and actions supported."""

    optional_parameters: list[OptionalParameter]
    agv_actions: list[AgvAction]


class PolygonPoint(WireModel):
    """A footprint corner in the vehicle frame, metres."""

    x: float
    y: float


class Envelope2d(WireModel):
    """A named 2D footprint polygon."""

    set: str
    polygon_points: list[PolygonPoint]
    description: str | None = None


class AgvGeometry(WireModel):
    """Wheels and footprint envelopes."""

    wheel_definitions: list[dict[str, Any]] | None = None
    envelopes2d: list[Envelope2d] | None = None
    envelopes3d: list[dict[str, Any]] | None = None


class LoadSpecification(WireModel):
    """Load positions and load sets."""

    load_positions: list[str] | None = None
    load_sets: list[dict[str, Any]] | None = None


class Factsheet(WireModel):
    """The vehicle's factsheet. The header fields are optional here in the schema."""

    version: str
    manufacturer: str
    serial_number: str
    type_specification: TypeSpecification
    physical_parameters: PhysicalParameters
    protocol_limits: ProtocolLimits
    protocol_features: ProtocolFeatures
    agv_geometry: AgvGeometry
    load_specification: LoadSpecification
    header_id: int | None = Field(default=None, ge=0)
    timestamp: str | None = None
    vehicle_config: dict[str, Any] | None = None
