"""Shared pieces of every VDA 5050 2.1 message: the model base class and the protocol header.

All wire models are frozen pydantic v2 models whose Python names are snake_case and whose JSON
names are the camelCase names of the official schemas (``alias_generator=to_camel``). Inbound
messages may carry fields we do not model (the standard allows extensions), so unknown keys are
ignored rather than rejected; outbound messages never contain ``null`` (optional fields are
left out, see :func:`bus.vda5050.codec.to_payload`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

#: The protocol version this package speaks (``version`` field of every header).
VDA5050_VERSION = "2.1.0"

#: Enumerations shared between topics, spelled as the schemas spell them.
BlockingType = Literal["NONE", "SOFT", "HARD"]
ActionStatus = Literal["WAITING", "INITIALIZING", "RUNNING", "PAUSED", "FINISHED", "FAILED"]
ErrorLevel = Literal["WARNING", "FATAL"]
InfoLevel = Literal["INFO", "DEBUG"]
OperatingMode = Literal["AUTOMATIC", "SEMIAUTOMATIC", "MANUAL", "SERVICE", "TEACHIN"]
EStop = Literal["AUTOACK", "MANUAL", "REMOTE", "NONE"]
ConnectionState = Literal["ONLINE", "OFFLINE", "CONNECTIONBROKEN"]


class WireModel(BaseModel):
    """Base of every VDA 5050 model: frozen, camelCase on the wire, unknown fields ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        extra="ignore",
    )


class Header(WireModel):
    """The protocol header that starts every message (spec 6.4).

    Attributes:
        header_id: per topic and sender, incremented by one with every message sent
            (``bus.header.HeaderIds``).
        timestamp: ISO 8601 UTC with milliseconds and ``Z`` (``bus.clock.iso_timestamp``).
        version: protocol version ``Major.Minor.Patch``.
        manufacturer: vehicle manufacturer (``bulletyard`` for our simulated vehicles).
        serial_number: the vehicle's serial number (``agv-0001``).
    """

    header_id: int = Field(ge=0)
    timestamp: str
    version: str = VDA5050_VERSION
    manufacturer: str
    serial_number: str


class ActionParameter(WireModel):
    """One ``key``/``value`` parameter of an action (``value`` any JSON type but null)."""

    key: str
    value: list[Any] | bool | float | int | str | dict[str, Any]


class Action(WireModel):
    """An action on a node, an edge or sent as an instant action (spec 6.8)."""

    action_type: str
    action_id: str
    blocking_type: BlockingType
    action_description: str | None = None
    action_parameters: list[ActionParameter] | None = None

    def parameter(self, key: str, default: object = None) -> object:
        """The value of parameter ``key``, or ``default`` when absent."""
        for p in self.action_parameters or ():
            if p.key == key:
                return p.value
        return default


class NodePosition(WireModel):
    """Where a node lies on a map, in metres (map frame: x east, y north) and radians."""

    x: float
    y: float
    map_id: str
    theta: float | None = Field(default=None, ge=-3.14159265359, le=3.14159265359)
    allowed_deviation_xy: float | None = Field(default=None, ge=0, alias="allowedDeviationXY")
    allowed_deviation_theta: float | None = Field(default=None, ge=-3.141592654, le=3.141592654)
    map_description: str | None = None


class ControlPoint(WireModel):
    """A NURBS control point in map-frame metres."""

    x: float
    y: float
    weight: float | None = Field(default=None, ge=0)


class Trajectory(WireModel):
    """A NURBS curve for an edge (we never send one; kept so inbound orders parse)."""

    degree: int = Field(ge=1)
    knot_vector: list[float]
    control_points: list[ControlPoint]
