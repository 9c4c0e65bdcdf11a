"""Controller configuration: frozen pydantic models, loaded once by the composition root.

Why: every threshold the controller acts on (planning horizon, resend interval, supervision
limits, battery levels) is data with a unit in its name, so a deployment can tune it in
``controller.yaml`` and a simulation records it in its manifest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bus.topics import TopicFormatError, check_level
from warehouse_maps.errors import InputError
from warehouse_maps.safe_load import read_text_capped, safe_yaml_load


class ControllerConfigError(ValueError):
    """A controller config file that cannot be used; the message names the file and the field."""


class ExecutionConfig(BaseModel):
    """Planning windows and release policy."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    horizon_steps: int = Field(4, ge=1, description="steps planned per window")
    replan_margin_steps: int = Field(
        2, ge=1, description="plan the next window when a robot has this few planned steps left"
    )
    max_backlog_steps: int = Field(
        8,
        ge=2,
        description="a robot with this many planned steps not yet reached sits planning windows out "
        "until it catches up (the others keep planning); small keeps the visit order of cells close to "
        "what really happens (default 8; 4 with motion_model rotation)",
    )
    release_ahead_steps: int | None = Field(
        6,
        ge=1,
        description="release at most this many steps ahead of the reached step (None: all the graph "
        "allows); short releases keep replanning free and limit the cells a lost robot blocks",
    )
    release_refill_steps: int | None = Field(
        2,
        ge=0,
        description="release again only once a robot has this few released steps left beyond the "
        "reached one (None: at every step the graph allows); chunks of release_ahead_steps minus this "
        "go out as one order update, not one update per step",
    )
    window_interval_steps: float = Field(
        2.0, gt=0, description="at most one planning window per this many steps (default 2; 1 with "
        "motion_model rotation)"
    )
    horizon_nodes: int = Field(3, ge=0, description="planned nodes sent as VDA horizon")
    order_rollover_actions: int = Field(
        3,
        ge=1,
        description=(
            "once a vehicle's order carried this many actions, the next time the vehicle stands idle "
            "it gets a new order (cancel, then a fresh orderId): VDA 5050 vehicles keep every action "
            "state of an order until a new order comes, so an order that is only ever updated makes "
            "each state message longer for good (and vehicles may cap actionStates). A one-stop trip "
            "carries 3 (pick, wait at the station, drop), so by default each trip's actions leave "
            "with the first idle moment after it"
        ),
    )
    sit_out_trip_kinds: tuple[str, ...] = Field(
        ("parcel",),
        description="trips of these kinds: a robot standing on a stop cell sits planning windows out "
        "until the vehicle finished the stop's action (the nearest robot bound there waits beside it); "
        "other kinds are planned on at once as if actions took no time. Measured: robotic sortation "
        "gains (inducts), goods-to-person pod trips lose, so only parcel trips by default",
    )
    step_s: float = Field(1.0, gt=0, description="nominal duration of one planned step (one cell) in seconds")
    plan_seed: int = Field(0, description="seed of the planner's tie-breaking")
    motion_model: Literal["grid", "rotation"] = Field(
        "grid",
        description="grid: windows plan cells (vehicles turn when the graph releases their next move); "
        "rotation: windows plan (cell, heading), a 90 degree turn in place is a planned step on its cell "
        "and orders carry nodePosition.theta (docs/planning.md, the controller section)",
    )
    turn_s: float | None = Field(
        None,
        gt=0,
        description="rotation model: seconds a 90 degree turn in place costs a vehicle (the turn, and the "
        "stop and start it needs); None: from the vehicles' factsheets (the slowest known), else one step_s",
    )

    @model_validator(mode="before")
    @classmethod
    def _rotation_windows(cls, data: object) -> object:
        """With the rotation model, windows commit less ahead and come more often unless set.

        Why: fc, 100 robots, 900 s, seeds 1-3 (docs/planning.md): rotation with backlog 4 and a
        window per step against 8 and 2: 3,076 / 2,908 / 2,964 against 2,816 / 2,728 / 2,880 lines/h,
        waiting 6.9 against 14.6 % of busy time. The grid model's defaults stay (they are every
        layout's; backlog 4 gains on fc there too, see the docs).
        """
        if isinstance(data, dict) and data.get("motion_model") == "rotation":
            data = {"max_backlog_steps": 4, "window_interval_steps": 1.0, **data}
        return data

    @model_validator(mode="after")
    def _refill_below_ahead(self) -> ExecutionConfig:
        ahead, refill = self.release_ahead_steps, self.release_refill_steps
        if ahead is not None and refill is not None and refill >= ahead:
            raise ValueError(f"release_refill_steps ({refill}) must be below release_ahead_steps ({ahead})")
        return self


class ResendConfig(BaseModel):
    """Resending QoS 0 orders and instant actions until acknowledged."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    interval_s: float = Field(1.0, gt=0, description="first resend interval")
    max_interval_s: float = Field(8.0, gt=0, description="cap of the doubling resend interval")


class ActionMapConfig(BaseModel):
    """One vendor action a stop of ours becomes (``actionType`` and fixed parameters)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    action_type: str = Field(min_length=1, max_length=64, description="the vehicle's actionType")
    parameters: dict[str, str] = Field(default_factory=dict, description="actionParameters sent as given")


class VehicleProfileConfig(BaseModel):
    """What the fleet file says about the vehicles of one manufacturer (or one vehicle).

    Anything left out is taken from the vehicle itself: the version from its state header, the
    actions, speed and footprint from its factsheet.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    version: Literal["2.0.0", "2.1.0"] | None = Field(None, description="VDA 5050 version it speaks")
    actions: dict[str, ActionMapConfig | None] = Field(
        default_factory=dict,
        description="our stop action (pick, drop, wait, charge) -> the vendor's action; null for "
        "wait makes the station visit a controller-side hold (no action sent)",
    )
    node_actions: list[str] | None = Field(
        None, description="the actions it runs on nodes, when its factsheet is missing or wrong"
    )
    serials: list[str] | None = Field(
        None, description="per manufacturer: only these serial numbers are taken under control"
    )


class FleetConfig(BaseModel):
    """Supervision limits and which vehicles the controller serves (mixed fleets, profiles)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    manufacturer: str | None = Field(
        None, description="shorthand for manufacturers: [this one] (older configs)"
    )
    manufacturers: list[str] | None = Field(
        None,
        description="serve only these manufacturers; None: any manufacturer that appears on the broker "
        "(the broker's ACLs decide who may publish)",
    )
    profiles: dict[str, VehicleProfileConfig] = Field(
        default_factory=dict,
        description="per manufacturer (key 'acme') or per vehicle (key 'acme/agv-7'): version, action "
        "map, pinned serials",
    )
    max_vehicles: int = Field(
        1000,
        ge=1,
        description="vehicles known at once; messages from further serials are refused, so a flood of "
        "invented serials cannot grow memory (pin serials in profiles to refuse unknown ones outright)",
    )
    station_type: str = Field(
        "floor", min_length=1, description="stationType sent with pick and drop (VDA 5050 6.8.2)"
    )
    load_type: str = Field(
        "EPAL", min_length=1, description="loadType sent with pick and drop (the standard's own example)"
    )
    rejection_backoff_s: float = Field(
        2.0, gt=0, description="after a rejected order, wait this long (doubling) before a new one"
    )
    no_progress_timeout_s: float = Field(60.0, gt=0, description="busy without progress this long: lost")
    state_timeout_s: float = Field(65.0, gt=0, description="no message this long: lost")
    low_battery_pct: float = Field(
        20.0, ge=0, le=100, description="below this an idle robot goes to a charger"
    )
    charged_pct: float = Field(80.0, ge=0, le=100, description="a charging robot takes work again from here")
    state_request_after_s: float = Field(
        3.0, gt=0, description="ask a busy vehicle that was silent this long for its state"
    )
    max_order_rejections: int = Field(
        3, ge=0, description="resynchronise a vehicle after a rejected order at most this often"
    )
    supervision_period_s: float = Field(
        0.5,
        gt=0,
        description=(
            "how often timeouts and silent vehicles are checked; finding the exact next deadline "
            "scanned the fleet at every wakeup, the largest cost at 500 robots"
        ),
    )


def served_manufacturers(fleet: FleetConfig) -> frozenset[str] | None:
    """The manufacturers the controller serves (None: any)."""
    if fleet.manufacturers is not None:
        return frozenset(fleet.manufacturers)
    return None if fleet.manufacturer is None else frozenset({fleet.manufacturer})


class AssignmentConfig(BaseModel):
    """How orders, pods, stations and robots are matched (:mod:`controller.tasks.operations`).

    ``pileon`` (default) releases orders to stations (``station_open_orders`` each), picks the
    pods that serve most open lines of a station, adds lines to pods already on their way, caps
    the robots bound to a station and puts pods away near the station; robots are matched to
    pods by OR-Tools' linear sum assignment. ``greedy`` is the old baseline kept for comparison
    (first come first served, one trip per order and pod, pods back to their own place).
    ``docs/operations.md`` explains the defaults.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    solver: Literal["pileon", "greedy"] = Field("pileon", description="operations rule: pileon or greedy")
    station_open_orders: int = Field(12, ge=1, description="pileon: orders a station holds open at once")
    robots_per_station: int = Field(
        10, ge=1, description="pileon: robots bound to one station at once (travelling, queueing, at it)"
    )


class SortationConfig(BaseModel):
    """The conveyor sorter behind the pick stations (``controller.sortation``).

    When enabled (and the layout's ``equipment.sorter`` names its chutes), the controller answers
    the sorter's destination requests, and an order with a ``destination`` is ``complete`` only
    once every picked unit has been sorted into a chute of that destination (one without is not
    sorted). ``bulletyard serve`` enables it for a layout with a sorter unless this file says.
    Destinations are ``D001``... (``destinations`` of them, default half the chutes), each
    served by the chutes a volume-balanced plan gives it (``controller.sortation.mapping``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    enabled: bool = Field(False, description="answer the sorter and sort orders before completing them")
    destinations: int | None = Field(None, ge=1, description="destinations D001...; None: chutes // 2")
    strategy: Literal["fill_first", "round_robin"] = Field(
        "fill_first", description="which open chute of a destination takes the next item"
    )


class RoboticSortationConfig(BaseModel):
    """Robots as the sorter (:mod:`controller.tasks.parcel_flow`, ``docs/sortation.md``).

    Parcels wait at the layout's inducts; a robot is loaded there (``load_s``), drives to the drop
    cell of an open chute of the parcel's destination, nearest to the induct, and tips it
    (``tip_s``). Destinations are ``D001``... (``destinations`` of them, default a third of the
    chutes), each served by the chutes a volume-balanced plan gives it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = Field(False, description="robots carry parcels from inducts to chutes")
    sorter_id: str = Field("robots", description="sorterId level of the robotic sorter's topics")
    load_s: float = Field(3.0, gt=0, description="an operator puts one parcel on a robot (s)")
    tip_s: float = Field(1.0, gt=0, description="a robot tips its parcel into a chute (s)")
    chute_capacity: int = Field(60, ge=1, description="parcels a chute's bag holds before it is swapped")
    destinations: int | None = Field(None, ge=1, description="destinations D001...; None: chutes // 3")
    robots_per_induct: int = Field(6, ge=1, description="robots bound to one induct at once (queue)")
    one_way_inducts: bool = Field(
        True,
        description="robots enter each induct from one side and leave straight on by the opposite one, "
        "never back the way they came (controller.tasks.induct_flow; derived from the layout)",
    )
    backlog_weight_cells: float = Field(
        4.0, ge=0, description="one more parcel waiting at an induct is worth this many cells of travel"
    )
    lost_parcel_timeout_s: float = Field(
        60.0,
        gt=0,
        description="a parcel on a robot that is lost waits this long for the robot to come back and tip it, "
        "then fails (manual handling) and the robot's trip loses its tip: a Wi-Fi dropout lasts seconds, "
        "a dead robot never comes back, and its chute stays committed meanwhile (docs/sortation.md)",
    )


class ControllerConfig(BaseModel):
    """Everything the :class:`controller.core.Controller` needs besides the layout and the seed."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    site: str = Field("site1", description="site level of our own topics (WMS, sorter)")
    execution: ExecutionConfig = ExecutionConfig()
    resend: ResendConfig = ResendConfig()
    fleet: FleetConfig = FleetConfig()
    assignment: AssignmentConfig = AssignmentConfig()
    sortation: SortationConfig = SortationConfig()
    robotic_sortation: RoboticSortationConfig = RoboticSortationConfig()
    assign_period_s: float = Field(1.0, gt=0, description="how often idle robots are matched to open trips")
    blocked_trip_timeout_s: float = Field(
        900.0,
        gt=0,
        description=(
            "an open trip that waits this long for a cell a lost robot blocks (its pod, its station) "
            "fails its orders with a reason instead of waiting forever"
        ),
    )
    pick_time_s: float = Field(5.0, ge=0, description="duration hint of the pick action at a station")

    @field_validator("site")
    @classmethod
    def _one_topic_level(cls, value: str) -> str:
        try:  # 'a/b' would reach the topic builder and raise there (issue 25)
            return check_level(value, "site")
        except TopicFormatError as err:
            raise ValueError(str(err)) from None


def load_config(path: str | Path | None) -> ControllerConfig:
    """Load ``controller.yaml`` (None: defaults).

    Raises:
        ControllerConfigError: missing file, bad YAML or a bad field (names file and field).
    """
    if path is None:
        return ControllerConfig()
    p = Path(path)
    try:  # a regular file within the size limit; nesting, aliases, duplicate keys, finite numbers
        data = safe_yaml_load(read_text_capped(p), p)[0] or {}
    except InputError as err:
        raise ControllerConfigError(f"{err.source}{f':{err.line}' if err.line else ''}: cannot read config: "
                                    f"{err.message}") from None
    if not isinstance(data, dict):
        raise ControllerConfigError(f"{p}: expected a mapping at the top level")
    try:
        return ControllerConfig.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise ControllerConfigError(f"{p}: {where}: {first['msg']}") from None
