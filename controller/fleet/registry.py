"""Fleet registry: what the controller knows of each vehicle, built only from its messages.

Why: the controller knows its equipment by messages alone (DESIGN.md). A vehicle appears when
its retained ``connection``, ``factsheet`` or any ``state`` arrives; the registry keeps the last
of each and derives what supervision and planning need: the cell the vehicle stands on, its
battery, its active errors and when it last made progress.

Inbound payloads are decoded here with a size cap and never raise: a malformed message is
returned as a rejection reason for the caller to log and count.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bus import wire_json
from bus.clock import Instant
from warehouse_maps.grid import Cell

MAX_PAYLOAD_BYTES = 1 << 20


class Link(StrEnum):
    """The vehicle's ``connection`` topic state (VDA 5050 6.14), plus UNKNOWN before any."""

    UNKNOWN = "UNKNOWN"
    ONLINE = "ONLINE"
    OFFLINE = "OFFLINE"
    CONNECTIONBROKEN = "CONNECTIONBROKEN"


@dataclass(frozen=True, slots=True)
class StateView:
    """The fields of a VDA 5050 ``state`` the controller uses (decoded, validated)."""

    header_id: int
    order_id: str
    order_update_id: int
    last_node_id: str
    last_node_sequence_id: int
    driving: bool
    position_m: tuple[float, float] | None
    battery_pct: float
    charging: bool
    action_states: tuple[tuple[str, str, str], ...]  # (actionId, actionType, actionStatus)
    errors: tuple[tuple[str, str, str], ...]  # (errorType, errorLevel, referenced orderId or "")
    node_sequence_ids: tuple[int, ...]  # nodeStates still to traverse
    node_ids: tuple[str, ...] = ()  # their nodeIds

    @property
    def fatal(self) -> bool:
        """True when the vehicle reports a FATAL error."""
        return any(level == "FATAL" for _, level, _ in self.errors)


def _load(payload: bytes) -> dict[str, Any]:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    data = wire_json.loads(payload)
    if not isinstance(data, dict):
        raise ValueError("payload is not a JSON object")
    return data


def decode_state(payload: bytes) -> StateView:
    """Decode a ``state`` payload; raises ValueError (or KeyError/TypeError) with the reason."""
    d = _load(payload)
    pos = d.get("agvPosition")
    position = None
    if isinstance(pos, dict) and pos.get("positionInitialized", True):
        x, y = float(pos["x"]), float(pos["y"])
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError("agvPosition is not finite")
        position = (x, y)
    battery = d.get("batteryState") or {}
    errors = []
    for e in d.get("errors") or []:
        ref = ""
        for r in e.get("errorReferences") or []:
            if r.get("referenceKey") == "orderId":
                ref = str(r.get("referenceValue", ""))
        errors.append((str(e["errorType"]), str(e["errorLevel"]), ref))
    return StateView(
        header_id=int(d["headerId"]),
        order_id=str(d["orderId"]),
        order_update_id=int(d["orderUpdateId"]),
        last_node_id=str(d["lastNodeId"]),
        last_node_sequence_id=int(d["lastNodeSequenceId"]),
        driving=bool(d["driving"]),
        position_m=position,
        battery_pct=float(battery.get("batteryCharge", 100.0)),
        charging=bool(battery.get("charging", False)),
        action_states=tuple(
            (str(a["actionId"]), str(a.get("actionType", "")), str(a["actionStatus"]))
            for a in d.get("actionStates") or []
        ),
        errors=tuple(errors),
        node_sequence_ids=tuple(int(n["sequenceId"]) for n in d.get("nodeStates") or []),
        node_ids=tuple(str(n["nodeId"]) for n in d.get("nodeStates") or []),
    )


def decode_connection(payload: bytes) -> tuple[int, Link]:
    """Decode a ``connection`` payload into (headerId, state)."""
    d = _load(payload)
    return int(d.get("headerId", 0)), Link(str(d["connectionState"]))


@dataclass(slots=True)
class Vehicle:
    """Everything known about one vehicle.

    Attributes:
        serial_number: the VDA serial number (``agv-0001``).
        link: the last connection state.
        factsheet: the last factsheet (raw dict) or None.
        state: the last accepted state or None.
        cell: the grid cell of the last reported position (None before the first state).
        last_seen: when the last message of any kind arrived (ns).
        last_progress: when the vehicle last reached a new node or moved (ns).
        state_header_id: highest state headerId accepted (stale ones are dropped).
    """

    serial_number: str
    link: Link = Link.UNKNOWN
    factsheet: dict[str, Any] | None = None
    state: StateView | None = None
    cell: Cell | None = None
    last_seen: Instant = 0
    last_progress: Instant = 0
    state_header_id: int = -1
    rejections: list[str] = field(default_factory=list)


class FleetRegistry:
    """All vehicles by serial number, updated from connection, factsheet and state messages.

    Args:
        cell_at_m: maps a metric position to its grid cell (``Layout.cell_at_m``).
        manufacturer: only vehicles of this manufacturer are tracked.
    """

    def __init__(self, cell_at_m: Callable[[float, float], Cell], manufacturer: str = "bulletyard") -> None:
        self._cell_at_m = cell_at_m
        self.manufacturer = manufacturer
        self.vehicles: dict[str, Vehicle] = {}

    def vehicle(self, serial: str) -> Vehicle:
        """The record of ``serial``, created on first mention."""
        v = self.vehicles.get(serial)
        if v is None:
            v = self.vehicles[serial] = Vehicle(serial)
        return v

    def serials(self) -> list[str]:
        """Known serial numbers, sorted."""
        return sorted(self.vehicles)

    def on_connection(self, now: Instant, serial: str, payload: bytes) -> Link:
        """Apply a connection message; returns the new link state."""
        _, link = decode_connection(payload)
        v = self.vehicle(serial)
        if link == Link.ONLINE and v.link != Link.ONLINE:
            v.state_header_id = -1  # a reconnected vehicle counts header ids from 0 again
            v.last_progress = now
        v.link = link
        v.last_seen = now
        return link

    def on_factsheet(self, now: Instant, serial: str, payload: bytes) -> None:
        """Remember the vehicle's factsheet."""
        v = self.vehicle(serial)
        v.factsheet = _load(payload)
        v.last_seen = now

    def on_state(self, now: Instant, serial: str, payload: bytes) -> StateView | None:
        """Apply a state message; returns it, or None when its headerId is stale."""
        state = decode_state(payload)
        v = self.vehicle(serial)
        if state.header_id <= v.state_header_id:
            return None
        v.state_header_id = state.header_id
        old = v.state
        if (
            old is None
            or old.last_node_sequence_id != state.last_node_sequence_id
            or old.order_id != state.order_id
            or (
                state.position_m is not None
                and old.position_m is not None
                and math.dist(old.position_m, state.position_m) > 0.05
            )
            or any(a[2] == "RUNNING" for a in state.action_states)
        ):
            v.last_progress = now
        v.state = state
        if v.link == Link.UNKNOWN:
            v.link = Link.ONLINE
            v.last_progress = now
        v.last_seen = now
        if state.position_m is not None:
            v.cell = self._cell_at_m(*state.position_m)
        return state
