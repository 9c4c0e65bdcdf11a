"""Vehicle profiles: which VDA 5050 version a vehicle speaks and which actions it runs.

Why: the controller drives vehicles it did not write. A vendor's vehicle may speak VDA 5050 2.0
(it refuses a 2.1 header), may run only the predefined actions (``pick``/``drop`` with
``stationType`` and ``loadType``, ``startCharging``) and may have no ``wait`` at all. The
controller's trips speak one small vocabulary of its own (``pick`` lifts a pod at its storage
cell, ``wait`` is the station visit, ``drop`` sets the pod down, ``charge``); this module turns
each stop into what *this* vehicle understands, or says why it cannot.

Where a profile comes from, strongest first: the fleet section of the controller config (per
``manufacturer/serial`` or per manufacturer), the vehicle's factsheet
(``protocolFeatures.agvActions``, ``physicalParameters``), the header of its state (version).
A vehicle with neither factsheet nor configured actions is taken to run the actions every VDA 5050
vehicle is expected to know (section 6.8.2's predefined ``pick``, ``drop``, ``startCharging``);
station visits then wait on the controller's side (no action is sent).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from controller.execution.vda_orders import ActionParameters

SUPPORTED_VERSIONS = ("2.0.0", "2.1.0")
DEFAULT_VERSION = "2.1.0"
PREDEFINED_NODE_ACTIONS = frozenset({"pick", "drop", "startCharging", "stopCharging"})
"""Actions a vehicle without a factsheet is assumed to run on nodes (VDA 5050 6.8.2)."""

DEFAULT_LOAD_PARAMETERS: ActionParameters = (("stationType", "floor"), ("loadType", "EPAL"))
"""The predefined parameters ``pick`` and ``drop`` carry by default (``fleet.station_type`` and
``fleet.load_type``): a load on the floor, of the type the standard itself gives as its example
(6.8.2: "e.g. EPAL, INDU"), which is also the one load type a widely used open-source vehicle
implementation accepts. A site sets its own in the fleet config."""

# a controller stop's parameters that are ours alone: never sent to a vehicle that did not list them
_LOAD_ID_KEYS = ("podId", "parcelId")


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """A vehicle action that a stop becomes: its ``actionType`` and parameters (key, value)."""

    action_type: str
    parameters: ActionParameters = ()


@dataclass(frozen=True, slots=True)
class StationHold:
    """No vehicle action: the vehicle stops on the node and the controller holds the release of the
    next nodes for ``duration_s`` seconds (the station's pick time) after it arrived."""

    duration_s: float


@dataclass(frozen=True, slots=True)
class Unsupported:
    """The vehicle cannot run this stop; ``reason`` names the vehicle's gap."""

    reason: str


StopPlan = ActionSpec | StationHold | Unsupported


@dataclass(frozen=True, slots=True)
class VehicleProfile:
    """What the controller knows of one vehicle's dialect.

    Attributes:
        version: VDA 5050 version written in every header sent to it (``2.0.0`` or ``2.1.0``).
        node_actions: action types it runs on nodes (from its factsheet or the fleet config);
            None when unknown (no factsheet yet): the predefined ones are assumed.
        instant_actions: action types it accepts as instant actions; None when unknown.
        action_map: our stop action -> vendor action (fleet config); a ``None`` value makes the
            stop a controller-side hold (for ``wait``) or forbids it.
        speed_max_mps: its top speed from the factsheet (None: unknown).
        length_m, width_m: its footprint from the factsheet (None: unknown).
        turn_s: seconds a 90 degree turn in place costs it, from its factsheet (None: unknown;
            see :func:`turn_time_s` and :func:`stop_start_s`).
        source: where the action list came from: ``factsheet``, ``config`` or ``assumed``.
        load_parameters: ``stationType`` and ``loadType`` sent with ``pick`` and ``drop``.
    """

    version: str = DEFAULT_VERSION
    node_actions: frozenset[str] | None = None
    instant_actions: frozenset[str] | None = None
    action_map: Mapping[str, ActionSpec | None] = field(default_factory=dict)
    speed_max_mps: float | None = None
    length_m: float | None = None
    width_m: float | None = None
    turn_s: float | None = None
    source: str = "assumed"
    load_parameters: ActionParameters = DEFAULT_LOAD_PARAMETERS

    def runs(self, action_type: str) -> bool:
        """True when the vehicle lists ``action_type`` for nodes (or it is predefined and unknown)."""
        actions = PREDEFINED_NODE_ACTIONS if self.node_actions is None else self.node_actions
        return action_type in actions

    def accepts_instant(self, action_type: str) -> bool:
        """True unless the vehicle's factsheet lists instant actions without ``action_type``.

        ``cancelOrder`` and ``stateRequest`` are mandatory instant actions (VDA 5050 6.8.2), so
        a factsheet that omits them is taken as incomplete, not as a refusal.
        """
        if action_type in ("cancelOrder", "stateRequest") or self.instant_actions is None:
            return True
        return action_type in self.instant_actions

    def plan_stop(self, action_type: str, parameters: ActionParameters,
                  hold_s: float) -> StopPlan:
        """What a stop with our ``action_type`` becomes on this vehicle.

        Args:
            action_type: ``pick``, ``wait``, ``drop``, ``charge`` or another of our stop actions.
            parameters: the stop's parameters (``podId``, ``duration``, station fields ...).
            hold_s: the station's pick time, used when a ``wait`` becomes a controller-side hold.
        """
        if action_type in self.action_map:
            mapped = self.action_map[action_type]
            if mapped is None:
                if action_type == "wait":
                    return StationHold(_duration(parameters, hold_s))
                return Unsupported(f"the fleet config maps {action_type!r} to nothing")
            return ActionSpec(mapped.action_type, mapped.parameters + _load_id(parameters))
        if action_type == "wait":
            if self.node_actions is not None and "wait" in self.node_actions:
                return ActionSpec("wait", parameters)
            return StationHold(_duration(parameters, hold_s))
        if action_type in ("pick", "drop"):
            if not self.runs(action_type):
                return Unsupported(f"its factsheet lists no {action_type!r} action")
            return ActionSpec(action_type, self.load_parameters + _load_id(parameters) + _timed(parameters))
        if action_type == "charge":
            if self.node_actions is not None and "charge" in self.node_actions:
                return ActionSpec("charge", parameters)
            if self.runs("startCharging"):
                return ActionSpec("startCharging", ())
            return Unsupported("its factsheet lists neither 'charge' nor 'startCharging'")
        if self.runs(action_type):
            return ActionSpec(action_type, parameters)
        return Unsupported(f"its factsheet lists no {action_type!r} action")


def _duration(parameters: ActionParameters, default_s: float) -> float:
    for key, value in parameters:
        if key == "duration":
            try:
                seconds = float(value)
            except ValueError:
                break
            if math.isfinite(seconds) and seconds >= 0:
                return seconds
    return default_s


def _load_id(parameters: ActionParameters) -> ActionParameters:
    """Our pod id as the predefined ``loadId`` parameter."""
    return tuple(("loadId", v) for k, v in parameters if k in _LOAD_ID_KEYS)


def _timed(parameters: ActionParameters) -> ActionParameters:
    """A stop's own ``duration`` (s) kept on ``pick``/``drop``: a parcel load or tip names its own
    time (vehicles that do not know the parameter ignore it; pod trips give none)."""
    return tuple((k, v) for k, v in parameters if k == "duration")


def version_of(text: object) -> str | None:
    """The supported version a header's ``version`` names (``2.0.x`` -> ``2.0.0``), or None."""
    if not isinstance(text, str):
        return None
    major_minor = ".".join(text.split(".")[:2])
    return next((v for v in SUPPORTED_VERSIONS if v.startswith(major_minor + ".")), None)


@dataclass(frozen=True, slots=True)
class FactsheetFacts:
    """What a factsheet tells the controller (each None when the factsheet does not say)."""

    version: str | None
    node_actions: frozenset[str] | None
    instant_actions: frozenset[str] | None
    speed_max_mps: float | None
    length_m: float | None
    width_m: float | None
    turn_s: float | None = None


def turn_time_s(
    angular_speed_max: float | None, speed_max: float | None, width: float | None
) -> float | None:
    """Seconds for a 90 degree turn in place, from factsheet figures (None: they do not say).

    VDA 5050 2.x factsheets carry no turn rate. A vehicle may add ``angularSpeedMax`` (rad/s) to
    ``physicalParameters`` (extra properties are allowed; ours do); then the turn takes
    ``(pi / 2) / angularSpeedMax``. Otherwise it is derived for a differential drive turning on the
    spot: its wheels, about ``width`` apart, run at most ``speedMax`` in opposite directions, so it
    turns at most ``2 speedMax / width`` rad/s and a quarter turn takes ``pi width / (4 speedMax)``
    (a lower bound: real vehicles often turn slower than that, which is why config may override).
    """
    if angular_speed_max is not None:
        return (math.pi / 2) / angular_speed_max
    if speed_max is not None and width is not None:
        return math.pi * width / (4 * speed_max)
    return None


def stop_start_s(speed_max: float | None, accel_max: float | None, decel_max: float | None) -> float:
    """Seconds a vehicle loses by stopping at a node and starting again, against driving through it
    at ``speedMax`` (0 when the factsheet does not say): braking to a stop takes ``v / d`` over
    a distance it would cruise in ``v / 2d``, starting again ``v / 2a`` more.

    Why: a vehicle turns in place only from a stop, so a turn costs its schedule the turn plus
    this. The simulated vehicles (1.5 m/s, 1 m/s2 both ways, a quarter turn in 1 s) lose 1.5 s,
    so a turn costs 2.5 s, three 1 s steps; planned as one step, the plan ran ahead of the
    vehicles at every turn and the robots planned behind them waited on the graph (fc, 100
    robots: docs/planning.md, the controller section).
    """
    if speed_max is None or accel_max is None or decel_max is None:
        return 0.0
    return speed_max / (2 * accel_max) + speed_max / (2 * decel_max)


def read_factsheet(data: Mapping[str, Any]) -> FactsheetFacts:
    """Pick the fields the controller uses out of a decoded factsheet; never raises on odd shapes
    (a field of the wrong type counts as absent: lenient in what we accept)."""
    features = data.get("protocolFeatures")
    actions = features.get("agvActions") if isinstance(features, Mapping) else None
    node: set[str] | None = None
    instant: set[str] | None = None
    if isinstance(actions, list):
        node, instant = set(), set()
        for a in actions:
            if not isinstance(a, Mapping) or not isinstance(a.get("actionType"), str):
                continue
            scopes = a.get("actionScopes")
            scopes = [s for s in scopes if isinstance(s, str)] if isinstance(scopes, list) else []
            if not scopes or "NODE" in scopes:
                node.add(a["actionType"])
            if "INSTANT" in scopes:
                instant.add(a["actionType"])
    physical = data.get("physicalParameters")
    physical = physical if isinstance(physical, Mapping) else {}
    speed = _positive(physical.get("speedMax"))
    turn = turn_time_s(_positive(physical.get("angularSpeedMax")), speed, _positive(physical.get("width")))
    return FactsheetFacts(
        version=version_of(data.get("version")),
        node_actions=frozenset(node) if node is not None else None,
        instant_actions=frozenset(instant) if instant is not None else None,
        speed_max_mps=_positive(physical.get("speedMax")),
        length_m=_positive(physical.get("length")),
        width_m=_positive(physical.get("width")),
        turn_s=turn + stop_start_s(speed, _positive(physical.get("accelerationMax")),
                                   _positive(physical.get("decelerationMax"))) if turn is not None else None,
    )


def _positive(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value > 0 else None
