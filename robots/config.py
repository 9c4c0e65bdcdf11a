"""``VehicleConfig``: everything a simulated or real vehicle agent is tuned with (frozen)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from robots.drive import DriveProfile

#: Actions a bulletyard vehicle runs on nodes, and their default durations in seconds.
NODE_ACTION_DURATIONS_S: dict[str, float] = {
    "pick": 3.0,
    "drop": 3.0,
    "lift": 1.5,
    "lower": 1.5,
    "wait": 1.0,
    "charge": 0.0,  # lasts until the target charge is reached
}

#: Instant actions the vehicle understands.
INSTANT_ACTIONS: tuple[str, ...] = (
    "startPause", "stopPause", "cancelOrder", "stateRequest", "factsheetRequest",
)


class VehicleConfig(BaseModel):
    """Behaviour of a vehicle agent (message rates, tolerances, action timing, footprint)."""

    model_config = ConfigDict(frozen=True, allow_inf_nan=False)

    profile: DriveProfile = Field(default_factory=DriveProfile, description="motion limits")
    length_m: float = Field(1.0, gt=0, description="footprint length along the heading")
    width_m: float = Field(0.8, gt=0, description="footprint width")
    height_m: float = Field(0.4, gt=0, description="height with the lift down")
    max_load_kg: float = Field(500.0, ge=0, description="heaviest load")
    state_interval_s: float = Field(30.0, gt=0, description="longest gap between state messages")
    visualization_interval_s: float | None = Field(1.0, gt=0, description="visualization period, None: off")
    arrival_tolerance_m: float = Field(0.02, gt=0, description="a node counts as reached within this")
    start_deviation_m: float = Field(0.5, ge=0, description="first node of a new order must be this close")
    heading_tolerance_rad: float = Field(0.01, gt=0, description="turn first when further off than this")
    face_next_node: bool = Field(
        False, description="while standing on its last released node with horizon nodes ahead, turn in "
        "place toward the next one, so the move starts at once when it is released (a turn in place "
        "stays on the node; the hand-over at a busy cell then costs no turn)")
    pass_check_interval_s: float = Field(
        0.1, gt=0, description="nodes driven through, arrivals and finished actions are noticed on "
        "this grid of instants (ceil, the control cycle); a fleet then shares wakeups instead of each "
        "vehicle waking at its own nanosecond")
    action_init_s: float = Field(0.2, ge=0, description="time an action spends INITIALIZING")
    action_durations_s: dict[str, float] = Field(default_factory=lambda: dict(NODE_ACTION_DURATIONS_S))
    charger_positions_m: tuple[tuple[float, float], ...] | None = Field(
        None, description="where charge may run (x, y metres); None: anywhere (tests)")
    map_bounds_m: tuple[float, float, float, float] | None = Field(
        None, description="(min x, min y, max x, max y) of the map in metres: an order with a node outside "
        "is refused with noRouteError and the current order goes on; None: no bound (tests)")
    charger_tolerance_m: float = Field(0.25, ge=0, description="how close to a charger counts as on it")
    battery_low_percent: float = Field(20.0, ge=0, le=100, description="batteryLow warning below this")
    default_charge_target_percent: float = Field(100.0, gt=0, le=100, description="charge runs until this")
