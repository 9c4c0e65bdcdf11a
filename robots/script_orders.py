"""Hand-written VDA 5050 orders for scripts, benchmarks and tests (no controller needed).

``line_order`` turns a list of named points into an order whose sequence ids, edges and
base/horizon split follow spec 6.6; ``instant_actions`` wraps instant actions. The controller
has its own, planner-driven mapping; this is the small path for driving vehicles by hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bus.clock import Instant, iso_timestamp
from bus.vda5050 import Action, ActionParameter, Edge, InstantActions, Node, NodePosition, Order
from bus.vda5050.base import BlockingType

#: A named point of an order: (node id, x metres, y metres).
Waypoint = tuple[str, float, float]


def action(action_type: str, action_id: str, blocking: BlockingType = "HARD", **params: object) -> Action:
    """An action with keyword parameters (``action("wait", "a1", duration=2.0)``)."""
    return Action(action_type=action_type, action_id=action_id, blocking_type=blocking,
                  action_parameters=[ActionParameter(key=k, value=v) for k, v in params.items()] or None)


def line_order(*, manufacturer: str = "bulletyard", serial_number: str, order_id: str,
               waypoints: Sequence[Waypoint], map_id: str, now: Instant, header_id: int = 0,
               update_id: int = 0, first_sequence_id: int = 0,
               base_count: int | None = None, actions: Mapping[str, Sequence[Action]] | None = None,
               max_speed_mps: float | None = None, positions: bool = True) -> Order:
    """An order visiting ``waypoints`` in turn.

    Args:
        manufacturer: the vehicle's manufacturer (its topic level and header field).
        serial_number: the vehicle's serial number.
        order_id: the order's id.
        waypoints: ``(node id, x, y)`` in map metres, in the order visited.
        map_id: the map the node positions refer to.
        now: the header timestamp.
        header_id: the header id of this message.
        update_id: the ``orderUpdateId`` (0 for a new order).
        base_count: how many leading nodes are released (the rest are horizon); all by default.
        first_sequence_id: the first node's sequence id (an update starts at the decision point's).
        actions: node id -> actions run there.
        positions: False leaves ``nodePosition`` out (the vehicle must know the nodes already).
        max_speed_mps: the edges' ``maxSpeed`` in m/s (None: no limit).
    """
    base = len(waypoints) if base_count is None else base_count
    acts = actions or {}
    nodes = [Node(node_id=nid, sequence_id=first_sequence_id + 2 * i, released=i < base,
                  actions=list(acts.get(nid, ())),
                  node_position=NodePosition(x=x, y=y, map_id=map_id) if positions else None)
             for i, (nid, x, y) in enumerate(waypoints)]
    edges = [Edge(edge_id=f"{a.node_id}-{b.node_id}", sequence_id=a.sequence_id + 1, released=b.released,
                  start_node_id=a.node_id, end_node_id=b.node_id, actions=[], max_speed=max_speed_mps)
             for a, b in zip(nodes, nodes[1:])]
    return Order(header_id=header_id, timestamp=iso_timestamp(now), manufacturer=manufacturer,
                 serial_number=serial_number, order_id=order_id, order_update_id=update_id,
                 nodes=nodes, edges=edges)


def instant_actions(*, manufacturer: str = "bulletyard", serial_number: str, now: Instant, header_id: int,
                    actions: Sequence[Action]) -> InstantActions:
    """An ``instantActions`` message."""
    return InstantActions(header_id=header_id, timestamp=iso_timestamp(now), manufacturer=manufacturer,
                          serial_number=serial_number, actions=list(actions))
