"""Fleet registry: what the controller knows of each vehicle, built only from its messages.

Why: the controller knows its equipment by messages alone (DESIGN.md). A vehicle appears when
its retained ``connection``, ``factsheet`` or any ``state`` arrives; the registry keeps the last
of each and derives what supervision and planning need: the cell the vehicle stands on, its
battery, its active errors and when it last made progress.

Inbound payloads are decoded here under the bus's message limits (:mod:`bus.limits`: size,
nesting, numbers, duplicate keys, control characters) and never raise: a malformed message, or
one whose ``manufacturer``/``serialNumber`` differ from its topic's, is returned as a
:class:`VehicleMessageError` for the caller to log and count. A state whose headerId jumps far
from the last one is dropped as suspicious (:class:`bus.header.HeaderFloor`), not taken as the
new floor.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bus import limits
from bus.clock import Instant
from bus.header import HeaderFloor, Verdict
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

VEHICLE_LIMITS = limits.MessageLimits(max_payload_bytes=1 << 20)
"""Limits of state, connection and factsheet payloads (1 MiB; a state of 1,000 nodes is ~200 KB)."""
MAX_PAYLOAD_BYTES = VEHICLE_LIMITS.max_payload_bytes


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
    theta: float | None = None  # agvPosition.theta: radians, counter-clockwise from the map's +x

    @property
    def fatal(self) -> bool:
        """True when the vehicle reports a FATAL error."""
        return any(level == "FATAL" for _, level, _ in self.errors)


def _load(payload: bytes, sender: tuple[str, str] | None = None) -> dict[str, Any]:
    """The JSON object of a vehicle payload within the limits, from the ``sender`` its topic names
    (``(manufacturer, serial)``; fields absent from the payload are not held against it)."""
    data = limits.loads(payload, VEHICLE_LIMITS)
    if not isinstance(data, dict):
        raise ValueError("payload is not a JSON object")
    if sender is not None:
        for key, expected in zip(("manufacturer", "serialNumber"), sender, strict=True):
            said = data.get(key, expected)
            if said != expected:
                raise WrongSender(f"payload {key} {str(said)[:64]!r} differs from the topic's {expected!r}")
    return data


class WrongSender(ValueError):
    """A payload that names another vehicle than its topic does."""


def decode_state(payload: bytes, sender: tuple[str, str] | None = None) -> StateView:
    """Decode a ``state`` payload; raises ValueError (or KeyError/TypeError) with the reason."""
    d = _load(payload, sender)
    pos = d.get("agvPosition")
    position = None
    theta = None
    if isinstance(pos, dict) and pos.get("positionInitialized", True):
        x, y = float(pos["x"]), float(pos["y"])
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError("agvPosition is not finite")
        position = (x, y)
        if pos.get("theta") is not None:
            theta = float(pos["theta"])
            if not math.isfinite(theta):
                raise ValueError("agvPosition.theta is not finite")
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
        theta=theta,
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
    """A vehicle message that cannot be decoded; the text says what is wrong with it, ``kind``
    names the rule (a :class:`bus.limits.LimitKind` value, ``wrong_sender`` or ``invalid``)."""

    def __init__(self, text: str, kind: str = "invalid") -> None:
        super().__init__(text)
        self.kind = kind


VehicleMessage = StateView | ConnectionView | dict[str, Any]
"""A decoded vehicle message: a state, a connection, or a factsheet (the JSON object, read leniently
by :func:`controller.fleet.profiles.read_factsheet`)."""


def decode_vehicle_message(
    kind: str, payload: bytes, sender: tuple[str, str] | None = None
) -> VehicleMessage:
    """The typed value of a ``state``, ``connection`` or ``factsheet`` payload.

    This is the one place vehicle payloads are decoded: every malformed one ends here as a
    :class:`VehicleMessageError`, so anything raised after it is a bug, not bad input.

    Args:
        kind: the topic's last level.
        payload: the bytes.
        sender: ``(manufacturer, serial)`` of the topic; a payload naming another is refused.
    """
    try:
        if kind == "state":
            return decode_state(payload, sender)
        if kind == "connection":
            d = _load(payload, sender)
            return ConnectionView(
                int(d.get("headerId", 0)), Link(str(d["connectionState"])), str(d.get("version", ""))
            )
        return _load(payload, sender)
    except limits.MessageRefused as err:
        raise VehicleMessageError(f"{kind}: {err}", err.kind.value) from None
    except WrongSender as err:
        raise VehicleMessageError(f"{kind}: {err}", "wrong_sender") from None
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
        state_floor: the state headerIds accepted so far (stale and suspicious ones are dropped).
        proven: True once the vehicle answered the controller (a state echoing an order, an
            instant action or an error about one it was sent): only then does its reported cell
            count as occupied when it is lost (a ghost that falls silent blocks nothing).
        asked: the actionId of the last ``stateRequest`` sent to it before it was proven (a
            vehicle that lists it in its actionStates has answered).
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
    last_seen: Instant = Instant(0)
    last_progress: Instant = Instant(0)
    state_floor: HeaderFloor = field(default_factory=HeaderFloor)
    proven: bool = False
    asked: str = ""
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
        if v is None and len(self.vehicles) >= self.fleet.max_vehicles:
            return f"fleet.max_vehicles ({self.fleet.max_vehicles}) vehicles are known already"
        return None

    def forget(self, serial: str) -> None:
        """Drop the record of ``serial`` (a vehicle that never proved itself and fell silent); a
        later message makes a fresh one."""
        self.vehicles.pop(serial, None)

    def silent_unheard(self, now: Instant, timeout: int) -> list[str]:
        """Vehicles announced (connection, factsheet) but never heard from with a state, and silent
        for longer than ``timeout`` (ns): nothing says they exist any more."""
        return sorted(s for s, v in self.vehicles.items() if v.state is None and now - v.last_seen > timeout)

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
            v.state_floor.reset()  # a reconnected vehicle counts header ids from 0 again
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

    def on_state(self, now: Instant, serial: str, state: StateView, manufacturer: str = "") -> Verdict:
        """Apply a state message unless its headerId is stale or suspicious (see
        :class:`bus.header.HeaderFloor`); the verdict says which."""
        v = self.vehicle(serial, manufacturer)
        verdict = v.state_floor.judge(state.header_id)
        if verdict not in (Verdict.NEW, Verdict.RESTARTED):
            return verdict
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
        return verdict

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
            turn_s=facts.turn_s if facts is not None else None,
            source=source,
            load_parameters=(("stationType", self.fleet.station_type), ("loadType", self.fleet.load_type)),
        )
