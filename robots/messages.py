"""Builders for what a vehicle says about itself: connection, factsheet, visualization.

The ``state`` message is built by the agent (it needs the agent's bookkeeping); what is here
depends only on identity, configuration, time and a pose.
"""

from __future__ import annotations

from bus.clock import Instant, iso_timestamp
from bus.vda5050 import AgvPosition, Connection, Factsheet, Velocity, Visualization
from bus.vda5050.base import ConnectionState
from bus.vda5050.factsheet import (
    AgvAction,
    AgvActionParameter,
    AgvGeometry,
    Envelope2d,
    LoadSpecification,
    OptionalParameter,
    PhysicalParameters,
    PolygonPoint,
    ProtocolFeatures,
    ProtocolLimits,
    Timing,
    TypeSpecification,
)
from robots.config import INSTANT_ACTIONS, VehicleConfig
from robots.drive import Pose

_ACTION_TEXT = {
    "pick": "pick up a load (parameter loadId optional, duration in s optional)",
    "drop": "put the load down (parameter loadId optional, duration in s optional)",
    "lift": "raise the lift (duration in s optional)",
    "lower": "lower the lift (duration in s optional)",
    "wait": "wait on the node (parameter duration in s)",
    "charge": "charge at a charger cell until targetCharge percent (default 100)",
    "startPause": "stop driving and pause running actions",
    "stopPause": "resume after startPause",
    "cancelOrder": "stop and drop the current order",
    "stateRequest": "publish state now",
    "factsheetRequest": "publish the factsheet now",
}


def connection(header_id: int, now: Instant, manufacturer: str, serial_number: str,
               state: ConnectionState) -> Connection:
    """A connection message."""
    return Connection(header_id=header_id, timestamp=iso_timestamp(now), manufacturer=manufacturer,
                      serial_number=serial_number, connection_state=state)


def agv_position_body(pose: Pose, map_id: str) -> dict:
    """The pose as the ``agvPosition`` JSON object (rounded to the millimetre and milliradian)."""
    return {"x": round(pose.x_m, 3), "y": round(pose.y_m, 3), "theta": round(pose.theta_rad, 3),
            "mapId": map_id, "positionInitialized": True}


def velocity_body(speed_mps: float, omega_rps: float) -> dict:
    """The ``velocity`` JSON object in the vehicle frame (vx forward), rounded to mm/s and mrad/s."""
    return {"vx": round(speed_mps, 3), "vy": 0.0, "omega": round(omega_rps, 3)}


def visualization(header_id: int, now: Instant, manufacturer: str, serial_number: str, pose: Pose,
                  map_id: str, speed_mps: float, omega_rps: float) -> Visualization:
    """A visualization message: pose and velocity (vehicle frame: vx forward)."""
    return Visualization(header_id=header_id, timestamp=iso_timestamp(now), manufacturer=manufacturer,
                         serial_number=serial_number,
                         agv_position=AgvPosition.model_validate(agv_position_body(pose, map_id)),
                         velocity=Velocity.model_validate(velocity_body(speed_mps, omega_rps)))


def factsheet(header_id: int, now: Instant, manufacturer: str, serial_number: str,
              config: VehicleConfig) -> Factsheet:
    """The factsheet: kinematics, speeds, footprint and the actions this vehicle runs."""
    half_l, half_w = config.length_m / 2, config.width_m / 2
    duration = AgvActionParameter(key="duration", value_data_type="NUMBER", is_optional=True)
    actions = []
    for name in config.action_durations_s:
        params = [duration]
        if name in ("pick", "drop"):
            params = [AgvActionParameter(key="loadId", value_data_type="STRING", is_optional=True), duration]
        if name == "charge":
            params = [AgvActionParameter(key="targetCharge", value_data_type="NUMBER", is_optional=True)]
        actions.append(AgvAction(action_type=name, action_scopes=["NODE"],
                                 action_description=_ACTION_TEXT.get(name), action_parameters=params))
    for name in INSTANT_ACTIONS:
        actions.append(AgvAction(action_type=name, action_scopes=["INSTANT"],
                                 action_description=_ACTION_TEXT[name]))
    p = config.profile
    return Factsheet(
        header_id=header_id, timestamp=iso_timestamp(now), manufacturer=manufacturer,
        serial_number=serial_number, version="2.1.0",
        type_specification=TypeSpecification(
            series_name="bulletyard-carrier", agv_kinematic="DIFF", agv_class="CARRIER",
            max_load_mass=config.max_load_kg, localization_types=["GRID"], navigation_types=["AUTONOMOUS"],
            series_description="differential-drive shelf carrier (simulated or hardware adapter)"),
        physical_parameters=PhysicalParameters(
            speed_min=0.0, speed_max=p.speed_mps, acceleration_max=p.accel_mps2,
            deceleration_max=p.decel_mps2, height_min=config.height_m, height_max=config.height_m,
            width=config.width_m, length=config.length_m, angular_speed_max=p.turn_rate_rps),
        protocol_limits=ProtocolLimits(
            max_string_lens={"topicSerialLen": 64, "idLen": 64},
            max_array_lens={"order.nodes": 1000, "order.edges": 999, "node.actions": 8},
            timing=Timing(min_order_interval=0.0, min_state_interval=0.0,
                          default_state_interval=config.state_interval_s,
                          visualization_interval=config.visualization_interval_s)),
        protocol_features=ProtocolFeatures(
            optional_parameters=[OptionalParameter(parameter="order.nodes.nodePosition", support="REQUIRED"),
                                 OptionalParameter(parameter="order.edges.maxSpeed", support="SUPPORTED")],
            agv_actions=actions),
        agv_geometry=AgvGeometry(envelopes2d=[Envelope2d(set="default", polygon_points=[
            PolygonPoint(x=half_l, y=half_w), PolygonPoint(x=-half_l, y=half_w),
            PolygonPoint(x=-half_l, y=-half_w), PolygonPoint(x=half_l, y=-half_w)])]),
        load_specification=LoadSpecification(load_positions=["top"]),
    )
