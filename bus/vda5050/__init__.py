"""VDA 5050 2.1 wire models (pydantic v2), topics and codec.

Written from the official JSON schemas and the spec text. Import the models from here::

    from bus.vda5050 import Order, State, to_payload, parse_order
"""

from bus.vda5050.base import VDA5050_VERSION, Action, ActionParameter, Header, NodePosition
from bus.vda5050.codec import (
    VdaDecodeError,
    parse_connection,
    parse_factsheet,
    parse_instant_actions,
    parse_order,
    parse_state,
    parse_visualization,
    to_payload,
)
from bus.vda5050.connection import Connection
from bus.vda5050.factsheet import Factsheet
from bus.vda5050.instant_actions import InstantActions
from bus.vda5050.order import Edge, Node, Order
from bus.vda5050.state import (
    ActionState,
    AgvPosition,
    BatteryState,
    EdgeState,
    Error,
    ErrorReference,
    NodeState,
    SafetyState,
    State,
    StateNodePosition,
    Velocity,
)
from bus.vda5050.topics import QOS, RETAIN
from bus.vda5050.visualization import Visualization

__all__ = [
    "QOS",
    "RETAIN",
    "VDA5050_VERSION",
    "Action",
    "ActionParameter",
    "ActionState",
    "AgvPosition",
    "BatteryState",
    "Connection",
    "Edge",
    "EdgeState",
    "Error",
    "ErrorReference",
    "Factsheet",
    "Header",
    "InstantActions",
    "Node",
    "NodePosition",
    "NodeState",
    "Order",
    "SafetyState",
    "State",
    "StateNodePosition",
    "Velocity",
    "Visualization",
    "VdaDecodeError",
    "parse_connection",
    "parse_factsheet",
    "parse_instant_actions",
    "parse_order",
    "parse_state",
    "parse_visualization",
    "to_payload",
]
