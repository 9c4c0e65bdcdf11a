"""The ``order`` topic (master control to vehicle): nodes and edges, base and horizon (spec 6.6)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from bus.vda5050.base import Action, Header, NodePosition, Trajectory, WireModel


class Corridor(WireModel):
    """How far a vehicle may leave its trajectory on an edge, in metres."""

    left_width: float = Field(ge=0)
    right_width: float = Field(ge=0)
    corridor_ref_point: Literal["KINEMATICCENTER", "CONTOUR"] | None = None


class Node(WireModel):
    """A node of an order.

    Attributes:
        node_id: the node's id (``n{x}_{y}`` for grid cells).
        sequence_id: even numbers 0, 2, 4, ... across the order (edges take the odd ones);
            never changes once assigned, so updates can be stitched.
        released: True for base nodes (may be driven), False for horizon nodes (never driven).
        node_position: map-frame position; our vehicles need it for every node they have not
            seen before.
        actions: actions to run when the node is reached.
    """

    node_id: str
    sequence_id: int = Field(ge=0)
    released: bool
    actions: list[Action]
    node_description: str | None = None
    node_position: NodePosition | None = None


class Edge(WireModel):
    """A directed edge between two nodes of an order; ``max_speed`` in m/s."""

    edge_id: str
    sequence_id: int = Field(ge=0)
    released: bool
    start_node_id: str
    end_node_id: str
    actions: list[Action]
    edge_description: str | None = None
    max_speed: float | None = None
    max_height: float | None = None
    min_height: float | None = None
    orientation: float | None = Field(default=None, ge=-3.14159265359, le=3.14159265359)
    orientation_type: str | None = None
    direction: str | None = None
    rotation_allowed: bool | None = None
    max_rotation_speed: float | None = None
    length: float | None = None
    trajectory: Trajectory | None = None
    corridor: Corridor | None = None


class Order(Header):
    """A new order (``order_update_id`` 0) or an update that extends the base of the current one."""

    order_id: str
    order_update_id: int = Field(ge=0)
    nodes: list[Node]
    edges: list[Edge]
    zone_set_id: str | None = None
