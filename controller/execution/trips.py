"""Trips as the executor sees them: a sequence of stops, each a cell and a VDA action.

Why: the executor does not need to know about orders, pods or parcels; it drives a robot to
each stop in turn and runs the stop's action there (lift a pod, pick at a station, drop,
charge). Where trips come from (the order book and task builder, charging, parking) is the
controller's business.
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.execution.vda_orders import ActionParameters
from warehouse_maps.grid import Cell


@dataclass(frozen=True, slots=True)
class Stop:
    """One stop of a trip.

    Attributes:
        cell: where the robot must stand.
        action_type: the VDA 5050 actionType run there (``pick``, ``drop``, ``charge``, ...).
        parameters: VDA action parameters as (key, value) pairs; a number stays a number on the
            wire (``duration`` of a station ``wait``, in seconds: lines x pick time).
    """

    cell: Cell
    action_type: str
    parameters: ActionParameters = ()


@dataclass(frozen=True, slots=True)
class Trip:
    """A robot's job: stops visited in order.

    Attributes:
        trip_id: unique id (also the prefix of the actionIds of its stops).
        stops: the stops, in order.
        kind: ``pod`` (goods to person), ``charge`` or another tag for reports.
        order_ids: the customer orders this trip serves.
    """

    trip_id: str
    stops: tuple[Stop, ...]
    kind: str = "pod"
    order_ids: tuple[str, ...] = ()

    def action_id(self, stop_index: int) -> str:
        """The VDA actionId of a stop's action: ``{trip_id}/{stop_index}``."""
        return f"{self.trip_id}/{stop_index}"


@dataclass(frozen=True, slots=True)
class StopDone:
    """The vehicle reported a stop's action FINISHED."""

    serial_number: str
    trip: Trip
    stop_index: int


@dataclass(frozen=True, slots=True)
class StopFailed:
    """The vehicle reported a stop's action FAILED."""

    serial_number: str
    trip: Trip
    stop_index: int


@dataclass(frozen=True, slots=True)
class OrderRejected:
    """The vehicle rejected an order (update): ``error_type`` as reported."""

    serial_number: str
    order_id: str
    error_type: str


@dataclass(frozen=True, slots=True)
class OffPlan:
    """The vehicle reports a position the plan does not allow."""

    serial_number: str
    cell: Cell


@dataclass(frozen=True, slots=True)
class Resynced:
    """A vehicle's order was cancelled and a fresh one started where it stands."""

    serial_number: str


ExecutionEvent = StopDone | StopFailed | OrderRejected | OffPlan | Resynced
