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
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bus import wire_json
from bus.clock import Instant
from controller.config import FleetConfig, VehicleProfileConfig, served_manufacturers
from controller.fleet.profiles import (
    DEFAULT_VERSION,
    PREDEFINED_NODE_ACTIONS,
    ActionSpec,
    VehicleProfile,
    read_factsheet,
    version_of,
)
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
    version: str = ""  # the header's protocol version, as sent
    error_actions: tuple[str, ...] = ()  # actionIds that errors reference (noOrderToCancel, ...)
    error_texts: tuple[str, ...] = ()  # "errorType: errorDescription" of each error

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
    error_actions: list[str] = []
    error_texts: list[str] = []
    for e in d.get("errors") or []:
        ref = ""
        for r in e.get("errorReferences") or []:
            if r.get("referenceKey") == "orderId":
                ref = str(r.get("referenceValue", ""))
            elif r.get("referenceKey") == "actionId":
                error_actions.append(str(r.get("referenceValue", "")))
        errors.append((str(e["errorType"]), str(e["errorLevel"]), ref))
        error_texts.append(f"{e['errorType']}: {e.get('errorDescription', '')}"[:300])
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
        version=str(d.get("version", "")),
        error_actions=tuple(error_actions),
        error_texts=tuple(error_texts),
    )


@dataclass(frozen=True, slots=True)
class ConnectionView:
    """A decoded ``connection`` message: its headerId and the link state it announces."""

    header_id: int
    link: Link
    version: str = ""  # the header's protocol version, as sent


class VehicleMessageError(ValueError):
    """A vehicle message that cannot be decoded; the text says what is wrong with it."""


VehicleMessage = StateView | ConnectionView | dict[str, Any]
"""A decoded vehicle message: a state, a connection, or a factsheet (the JSON object, read leniently
by :func:`controller.fleet.profiles.read_factsheet`)."""


def decode_vehicle_message(kind: str, payload: bytes) -> VehicleMessage:
    """The typed value of a ``state``, ``connection`` or ``factsheet`` payload.

    This is the one place vehicle payloads are decoded: every malformed one ends here as a
    :class:`VehicleMessageError`, so anything raised after it is a bug, not bad input.
    """
    try:
        if kind == "state":
            return decode_state(payload)
        if kind == "connection":
            d = _load(payload)
            return ConnectionView(
                int(d.get("headerId", 0)), Link(str(d["connectionState"])), str(d.get("version", ""))
            )
        return _load(payload)
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise VehicleMessageError(f"{kind}: {type(err).__name__}: {err}") from None


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
        manufacturer: the manufacturer level of its topics.
        profile: its VDA 5050 dialect (version, actions, speed, footprint).
        deviations: kinds of deviation from the standard already logged for it (logged once).
    """

    serial_number: str
    manufacturer: str = ""
    profile: VehicleProfile = field(default_factory=VehicleProfile)
    deviations: set[str] = field(default_factory=set)
    refused_actions: set[str] = field(default_factory=set)  # actions its rejections named
    connection_version: str = ""  # the version its connection messages carry
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
        fleet: which manufacturers are served and the configured vehicle profiles.
    """

    def __init__(self, cell_at_m: Callable[[float, float], Cell], fleet: FleetConfig | None = None) -> None:
        self._cell_at_m = cell_at_m
        self.fleet = fleet or FleetConfig()
        self.manufacturers = served_manufacturers(self.fleet)
        self.vehicles: dict[str, Vehicle] = {}

    def refusal(self, manufacturer: str, serial: str) -> str | None:
        """Why a message from ``manufacturer/serial`` is not served (None: it is).

        A serial number already taken by a vehicle of another manufacturer is refused: the
        controller keys its vehicles by serial number (pin one of them in the fleet file).
        """
        if self.manufacturers is not None and manufacturer not in self.manufacturers:
            return f"manufacturer {manufacturer!r} is not in fleet.manufacturers"
        own = self.fleet.profiles.get(manufacturer)
        if own is not None and own.serials is not None and serial not in own.serials:
            return f"serial {serial!r} is not among the serials pinned for {manufacturer!r}"
        v = self.vehicles.get(serial)
        if v is not None and v.manufacturer and v.manufacturer != manufacturer:
            return f"serial {serial!r} is already used by manufacturer {v.manufacturer!r}"
        return None

    def vehicle(self, serial: str, manufacturer: str = "") -> Vehicle:
        """The record of ``serial``, created on first mention."""
        v = self.vehicles.get(serial)
        if v is None:
            v = self.vehicles[serial] = Vehicle(serial, manufacturer)
            v.profile = self._profile(v)
        elif manufacturer and not v.manufacturer:
            v.manufacturer = manufacturer
            v.profile = self._profile(v)
        return v

    def serials(self) -> list[str]:
        """Known serial numbers, sorted."""
        return sorted(self.vehicles)

    def on_connection(self, now: Instant, serial: str, msg: ConnectionView, manufacturer: str = "") -> Link:
        """Apply a connection message; returns the new link state."""
        link = msg.link
        v = self.vehicle(serial, manufacturer)
        if msg.version and msg.version != v.connection_version:
            v.connection_version = msg.version
            v.profile = self._profile(v)
        if link == Link.ONLINE and v.link != Link.ONLINE:
            v.state_header_id = -1  # a reconnected vehicle counts header ids from 0 again
            v.last_progress = now
        v.link = link
        v.last_seen = now
        return link

    def on_factsheet(
        self, now: Instant, serial: str, factsheet: dict[str, Any], manufacturer: str = ""
    ) -> None:
        """Remember the vehicle's factsheet; its actions, version, speed and footprint go into the
        vehicle's profile."""
        v = self.vehicle(serial, manufacturer)
        v.factsheet = factsheet
        v.profile = self._profile(v)
        v.last_seen = now

    def on_state(self, now: Instant, serial: str, state: StateView, manufacturer: str = "") -> bool:
        """Apply a state message; False when its headerId is stale (it is then ignored)."""
        v = self.vehicle(serial, manufacturer)
        if state.header_id <= v.state_header_id:
            return False
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
        if old is None or old.version != state.version:
            v.state = state
            v.profile = self._profile(v)
        v.state = state
        if v.link == Link.UNKNOWN:
            v.link = Link.ONLINE
            v.last_progress = now
        v.last_seen = now
        if state.position_m is not None:
            v.cell = self._cell_at_m(*state.position_m)
        return True

    def learn_refusals(self, serial: str, error_texts: tuple[str, ...]) -> list[str]:
        """Action types a rejection's error descriptions name: the vehicle does not run them, and its
        profile drops them (lenient in what we accept: the standard has no field for this, so the
        text is read for the action types the controller sends). Returns the newly learned ones."""
        v = self.vehicles[serial]
        sendable = set(PREDEFINED_NODE_ACTIONS) | {"wait", "charge"} | set(v.profile.node_actions or ())
        sendable |= {m.action_type for m in v.profile.action_map.values() if m is not None}
        learned = []
        for action_type in sorted(sendable - v.refused_actions):
            word = re.compile(rf"(?<![A-Za-z]){re.escape(action_type)}(?![A-Za-z])")
            if any(word.search(text) for text in error_texts):
                v.refused_actions.add(action_type)
                learned.append(action_type)
        if learned:
            v.profile = self._profile(v)
        return learned

    def _config_for(self, manufacturer: str, serial: str) -> VehicleProfileConfig | None:
        profiles = self.fleet.profiles
        return profiles.get(f"{manufacturer}/{serial}") or profiles.get(manufacturer)

    def _profile(self, v: Vehicle) -> VehicleProfile:
        """The vehicle's profile from (strongest first) the fleet config, its factsheet, its state."""
        cfg = self._config_for(v.manufacturer, v.serial_number)
        facts = read_factsheet(v.factsheet) if v.factsheet is not None else None
        version = (
            (cfg.version if cfg is not None else None)
            or (version_of(v.state.version) if v.state is not None else None)
            or version_of(v.connection_version)
            or (facts.version if facts is not None else None)
            or DEFAULT_VERSION
        )
        node_actions = facts.node_actions if facts is not None else None
        source = "factsheet" if node_actions is not None else "assumed"
        if cfg is not None and cfg.node_actions is not None:
            node_actions, source = frozenset(cfg.node_actions), "config"
        if v.refused_actions:
            node_actions = (node_actions or PREDEFINED_NODE_ACTIONS) - v.refused_actions
        action_map: dict[str, ActionSpec | None] = {}
        if cfg is not None:
            for ours, theirs in cfg.actions.items():
                action_map[ours] = (
                    None if theirs is None
                    else ActionSpec(theirs.action_type, tuple(sorted(theirs.parameters.items())))
                )
        return VehicleProfile(
            version=version,
            node_actions=node_actions,
            instant_actions=facts.instant_actions if facts is not None else None,
            action_map=action_map,
            speed_max_mps=facts.speed_max_mps if facts is not None else None,
            length_m=facts.length_m if facts is not None else None,
            width_m=facts.width_m if facts is not None else None,
            source=source,
            load_parameters=(("stationType", self.fleet.station_type), ("loadType", self.fleet.load_type)),
        )
