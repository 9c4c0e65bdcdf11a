"""Checks on an incoming order before a vehicle takes it (spec 6.6.4), as pure functions.

Each check returns a :class:`Rejection` naming the VDA 5050 error type the vehicle reports:
``validationError`` for a malformed or self-inconsistent order, ``orderError`` for an order the
vehicle cannot carry out (unknown action, unusable field, wrong map, too far from the start),
``orderUpdateError`` for an update that does not fit the current order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bus.limits import loads_or_none
from bus.vda5050 import ErrorReference, Node, Order
from bus.vda5050.codec import VDA_LIMITS


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why an order was not taken."""

    error_type: str
    description: str
    references: tuple[tuple[str, str], ...] = ()

    def refs(self) -> list[ErrorReference]:
        """The references as wire models."""
        return [ErrorReference(reference_key=k, reference_value=v) for k, v in self.references]


def check_structure(order: Order, *, manufacturer: str, serial_number: str,
                    known_positions: Mapping[str, tuple[float, float]]) -> Rejection | None:
    """Address, sequence ids, edge endpoints, base before horizon, and node positions."""
    ref = (("orderId", order.order_id),)

    def bad(text: str, *more: tuple[str, str]) -> Rejection:
        return Rejection("validationError", text, ref + more)

    if order.serial_number != serial_number or order.manufacturer != manufacturer:
        return bad(f"order addressed to {order.manufacturer}/{order.serial_number}, "
                   f"this vehicle is {manufacturer}/{serial_number}", ("serialNumber", order.serial_number))
    nodes, edges = order.nodes, order.edges
    if not nodes:
        return bad("order has no nodes")
    if len(edges) != len(nodes) - 1:
        return bad(f"order has {len(nodes)} nodes but {len(edges)} edges (expected {len(nodes) - 1})")
    first_seq = nodes[0].sequence_id
    for i, node in enumerate(nodes):
        if node.sequence_id != first_seq + 2 * i:
            return bad(f"node {node.node_id} has sequenceId {node.sequence_id}, expected {first_seq + 2 * i}",
                       ("nodeId", node.node_id))
    for i, edge in enumerate(edges):
        if edge.sequence_id != first_seq + 2 * i + 1:
            expected = first_seq + 2 * i + 1
            return bad(f"edge {edge.edge_id} has sequenceId {edge.sequence_id}, expected {expected}",
                       ("edgeId", edge.edge_id))
        if edge.start_node_id != nodes[i].node_id or edge.end_node_id != nodes[i + 1].node_id:
            return bad(f"edge {edge.edge_id} joins {edge.start_node_id}->{edge.end_node_id}, "
                       f"not {nodes[i].node_id}->{nodes[i + 1].node_id}", ("edgeId", edge.edge_id))
        if edge.released != nodes[i + 1].released:
            return bad(f"edge {edge.edge_id} released={edge.released} but its end node "
                       f"released={nodes[i + 1].released}", ("edgeId", edge.edge_id))
    if not nodes[0].released:
        return bad(f"first node {nodes[0].node_id} is not released", ("nodeId", nodes[0].node_id))
    in_horizon = False
    for node in nodes:
        if not node.released:
            in_horizon = True
        elif in_horizon:
            return bad(f"released node {node.node_id} follows a horizon node", ("nodeId", node.node_id))
    for node in nodes:
        if node.released and node.node_position is None and node.node_id not in known_positions:
            return bad(f"unknown node {node.node_id}: no nodePosition and not known from earlier orders",
                       ("nodeId", node.node_id))
    return None


def check_capability(order: Order, *, map_id: str, node_actions: Mapping[str, float],
                     bounds_m: tuple[float, float, float, float] | None = None) -> Rejection | None:
    """Actions this vehicle can run, fields it can use, the map it is on, and the map's extent
    (``bounds_m``: min x, min y, max x, max y in metres; a node outside has no route to it)."""
    ref = (("orderId", order.order_id),)
    for node in order.nodes:
        pos = node.node_position
        if pos is not None and pos.map_id != map_id:
            return Rejection("orderError", f"node {node.node_id} is on map {pos.map_id!r}, "
                             f"the vehicle is on {map_id!r}", ref + (("nodeId", node.node_id),))
        if pos is not None and bounds_m is not None and not (
                bounds_m[0] <= pos.x <= bounds_m[2] and bounds_m[1] <= pos.y <= bounds_m[3]):
            x0, y0, x1, y1 = bounds_m
            return Rejection("noRouteError", f"node {node.node_id} at ({pos.x:.6g}, {pos.y:.6g}) m is "
                             f"outside map {map_id!r} (x {x0:g}..{x1:g}, y {y0:g}..{y1:g} m)",
                             ref + (("nodeId", node.node_id),))
        for action in node.actions:
            if action.action_type not in node_actions:
                return Rejection("orderError", f"action type {action.action_type!r} is not supported",
                                 ref + (("actionId", action.action_id), ("actionType", action.action_type)))
    for edge in order.edges:
        if edge.actions:
            a = edge.actions[0]
            return Rejection("orderError", "edge actions are not supported",
                             ref + (("edgeId", edge.edge_id), ("actionId", a.action_id)))
        if edge.trajectory is not None:
            return Rejection("orderError", f"edge {edge.edge_id}: trajectories are not supported",
                             ref + (("edgeId", edge.edge_id),))
    return None


@dataclass(frozen=True, slots=True)
class Held:
    """What the vehicle holds when an order arrives (the inputs of :func:`check_sequence`)."""

    order_id: str
    order_update_id: int
    cancelled: bool
    decision_point: tuple[str, int]  # node id and sequence id of the last base node
    busy: bool  # nodes or actions of the held order still ahead


def decision_point(nodes: list[Node], last: tuple[str, int]) -> tuple[str, int]:
    """Node id and sequence id an update must start from: the last base node of ``nodes`` (the
    nodes still ahead), else ``last``, the node the vehicle last reached."""
    base = [n for n in nodes if n.released]
    return (base[-1].node_id, base[-1].sequence_id) if base else last


def check_sequence(order: Order, held: Held, *, start_deviation_m: float,
                   distance_to_first: Callable[[], float]) -> Rejection | str:
    """How an order fits what the vehicle holds (spec 6.6.4.3): ``"resend"`` (the same update
    again: ignored), ``"update"`` (it continues the held order at its decision point), ``"new"``
    (a new order the vehicle may start: idle, and standing on its first node within the allowed
    deviation, m), or the :class:`Rejection` of an update that does not fit or a new order the
    vehicle cannot take now. ``distance_to_first()`` (the vehicle's distance to the order's first
    node, m) is asked only for a new order."""
    ref = (("orderId", order.order_id), ("orderUpdateId", str(order.order_update_id)))
    first = order.nodes[0]
    if order.order_id == held.order_id and held.order_id:
        if order.order_update_id == held.order_update_id:
            return "resend"
        if order.order_update_id < held.order_update_id:
            return Rejection("orderUpdateError", f"orderUpdateId {order.order_update_id} is "
                             f"older than the current {held.order_update_id}", ref)
        if held.cancelled:
            return Rejection("orderUpdateError", f"order {order.order_id} was cancelled", ref)
        stitch = held.decision_point
        if (first.node_id, first.sequence_id) != stitch:
            return Rejection("orderUpdateError", f"update starts at {first.node_id}/{first.sequence_id}, "
                             f"the decision point is {stitch[0]}/{stitch[1]}",
                             ref + (("nodeId", first.node_id),))
        return "update"
    if held.busy:
        return Rejection("orderUpdateError",
                         f"vehicle still executes order {held.order_id}; cancel it first", ref)
    allowed = start_deviation_m
    if first.node_position is not None and first.node_position.allowed_deviation_xy:
        allowed = max(allowed, first.node_position.allowed_deviation_xy)
    away = distance_to_first()
    if away > allowed:
        return Rejection("orderError", f"first node {first.node_id} is {away:.2f} m away "
                         f"(allowed {allowed:.2f} m)", ref + (("nodeId", first.node_id),))
    return "new"


def order_reference(payload: bytes) -> tuple[tuple[str, str], ...]:
    """Best-effort ``orderId`` reference from a payload that failed validation (none when the
    payload breaks the message limits: nothing of it is read)."""
    data = loads_or_none(payload, VDA_LIMITS)
    if isinstance(data, dict) and isinstance(data.get("orderId"), str):
        return (("orderId", data["orderId"][:128]),)
    return ()

