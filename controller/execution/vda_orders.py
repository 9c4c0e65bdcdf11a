"""Released path segments -> VDA 5050 2.0/2.1 orders and order updates (the controller-side mapping).

Why here: this is the one module that knows both the domain (grid cells, planned steps, pick and
drop actions) and the wire (nodes, edges, sequence ids, base and horizon), as openTCS keeps its
VDA 5050 mapping apart from the kernel.

One :class:`OrderStream` per vehicle. A vehicle gets one long-lived order (``orderId``
``{serial}-{n}``) extended by updates: every time the action dependency graph releases more
steps, an update with ``orderUpdateId + 1`` repeats the last base node (same ``sequenceId``) and
carries the newly released nodes as base plus a few planned nodes as horizon. Consecutive
planned steps on the same cell (waits) form one node. Sequence ids: nodes even (0, 2, 4, ...),
edges odd, counted from the start of the order. Node ids are ``n{x}_{y}``; ``nodePosition`` is
the cell centre in the metric map frame (x east, y north, metres), ``mapId`` the layout name.
With ``headings`` (the rotation planner, ``execution.motion_model: rotation``) a node whose plan
goes on to another cell also carries ``theta``: the heading the plan fixes there, the direction of
the next move (radians counter-clockwise from the map's x axis); the plan's turns are its waits
on that node, so the vehicle may turn to it as soon as it arrives.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from warehouse_maps.grid import Cell

VDA_VERSION = "2.1.0"
ALLOWED_DEVIATION_XY_M = 0.1
FORGET_BATCH = 64  # base nodes forgotten at once (see OrderStream.forget_before)
KEEP_BEHIND = 32  # base nodes kept behind the vehicle, for states that arrive late


def node_id(cell: Cell) -> str:
    """The VDA 5050 node id of a grid cell: ``n{x}_{y}``."""
    return f"n{cell[0]}_{cell[1]}"


def edge_id(start: Cell, end: Cell, sequence_id: int) -> str:
    """The VDA 5050 edge id of a move between two cells: ``e{x}_{y}_{x2}_{y2}.{sequenceId}``.

    Why the sequence id: a plan may drive over the same pair of cells twice in one order (out of a
    station and back), and a strict vehicle refuses an order whose edge ids repeat ("edgeId values
    must be unique within an order"). Node ids stay the map's ids, told apart by sequenceId as the
    standard says; an edge has no map identity to keep, so it is made unique.
    """
    return f"e{start[0]}_{start[1]}_{end[0]}_{end[1]}.{sequence_id}"


def parse_node_id(text: str) -> Cell | None:
    """The cell of a node id made by :func:`node_id`, or None for anything else."""
    if not text.startswith("n") or "_" not in text:
        return None
    x, _, y = text[1:].partition("_")
    try:
        return int(x), int(y)
    except ValueError:
        return None


#: VDA 5050 action parameters as (key, value) pairs; a number stays a number on the wire.
ActionParameters: TypeAlias = tuple[tuple[str, str | float], ...]


@dataclass(frozen=True, slots=True)
class NodeAction:
    """An action to run on a node: VDA ``actionType`` (pick, drop, charge, ...) and parameters."""

    action_id: str
    action_type: str
    parameters: ActionParameters = ()
    blocking_type: str = "HARD"

    def to_wire(self) -> dict[str, Any]:
        """The VDA 5050 ``action`` object."""
        return {
            "actionType": self.action_type,
            "actionId": self.action_id,
            "blockingType": self.blocking_type,
            "actionParameters": [{"key": k, "value": v} for k, v in self.parameters],
        }


@dataclass(slots=True)
class _Node:
    cell: Cell
    first_step: int
    sequence_id: int


@dataclass(slots=True)
class OrderStream:
    """The order of one vehicle: which planned steps are already on the wire as base.

    Args:
        serial_number: the vehicle's serial number (``agv-0001``).
        order_number: counts orders of this vehicle; a resynchronised vehicle gets a new one.
        cell_centre_m: maps a cell to (x, y) metres in the map frame (``Layout.cell_centre_m``).
        map_id: the layout name.
        horizon_nodes: planned but unreleased nodes sent as horizon (0 = none).
        headings: put ``nodePosition.theta`` on nodes where the plan fixes a heading.
    """

    serial_number: str
    order_number: int
    cell_centre_m: Callable[[Cell], tuple[float, float]]
    map_id: str
    horizon_nodes: int = 3
    epoch: int = 0
    update_id: int = -1
    base: list[_Node] = field(default_factory=list)
    base_step: int = -1
    waits_checked_step: int = -1  # released steps up to here are known waits on the last base node
    dropped_nodes: int = 0  # base nodes forgotten from the front (sequence ids keep counting)
    actions_planned: int = 0  # node actions put into this order so far (see order_rollover_actions)
    headings: bool = False

    @property
    def order_id(self) -> str:
        """``{serial}-{n}`` (``{serial}-e{epoch}-{n}`` with a journal epoch): never reused, even across
        controller restarts, because a vehicle refuses a known orderId with a lower update id."""
        if self.epoch:
            return f"{self.serial_number}-e{self.epoch}-{self.order_number}"
        return f"{self.serial_number}-{self.order_number}"

    def node_at_sequence(self, sequence_id: int) -> _Node | None:
        """The base node with this sequence id (as echoed in ``lastNodeSequenceId``)."""
        index = sequence_id // 2 - self.dropped_nodes
        if sequence_id % 2 or not 0 <= index < len(self.base):
            return None
        return self.base[index]

    def step_of_sequence(self, sequence_id: int) -> int | None:
        """The first planned step of the base node with this sequence id, or None."""
        node = self.node_at_sequence(sequence_id)
        return None if node is None else node.first_step

    @property
    def read_to(self) -> int:
        """The last planned step the stream has read: it never looks at this step or an earlier one
        again (steps up to ``base_step`` are on the wire; released steps up to
        ``waits_checked_step`` are known waits on the last base node), so the graph may forget them.
        """
        return max(self.base_step, self.waits_checked_step)

    def grows(self, released_step: int) -> bool:
        """True when :meth:`extend` would return a body (cheap: no copy of the plan needed)."""
        return released_step > self.base_step or self.update_id < 0

    def forget_before(self, step: int) -> None:
        """Forget base nodes the vehicle left before ``step`` (amortised: once
        :data:`FORGET_BATCH` piled up beyond the :data:`KEEP_BEHIND` kept for late states).

        Why: an order is updated for as long as a vehicle works without standing idle, so ``base``
        grew by a node per cell driven. A state naming a forgotten node is then treated like any
        unknown sequence id (no progress from it); the node the vehicle stands on is kept. The
        batch is small because the nodes that pile up are live memory whose peaks the process
        keeps (with 256, 100 robots' streams swung between 0.7 and 1.1 MB).
        """
        if len(self.base) < FORGET_BATCH + KEEP_BEHIND:
            return
        keep = next((i for i in range(len(self.base) - 1, -1, -1) if self.base[i].first_step <= step), 0)
        keep = max(0, keep - KEEP_BEHIND)
        if keep >= FORGET_BATCH:
            del self.base[:keep]
            self.dropped_nodes += keep

    def adds_node(self, cell_at: Callable[[int], Cell], released_step: int) -> bool:
        """True when the release up to ``released_step`` reaches a new base node (or nothing was
        sent yet). A release of planned waits on the last base node tells the vehicle nothing: it
        neither drives further nor gets an action (actions sit on a node's first step), so no
        update is needed for it; the next release that reaches a new node carries it along.
        Why: at 100 robots about a third of all order updates were such waits."""
        if self.update_id < 0 or not self.base:
            return True
        last = self.base[-1].cell
        first = self.read_to + 1
        if any(cell_at(step) != last for step in range(first, released_step + 1)):
            return True
        self.waits_checked_step = released_step  # the next call starts after what was checked
        return False

    def extend(
        self,
        cells: Sequence[Cell],
        released_step: int,
        actions: dict[int, list[NodeAction]],
    ) -> dict[str, Any] | None:
        """The next order or update body (no header) if the release grew, else None.

        Args:
            cells: the vehicle's planned cells, step 0 onwards (from the execution graph).
            released_step: the last released step; steps up to it become base.
            actions: actions by planned step; they go on the node covering that step.
        """
        if not self.grows(released_step):
            return None
        start_index = max(len(self.base) - 1, 0)
        step = self.read_to + 1  # the steps up to it add no node (see read_to)
        while step <= released_step:
            cell = cells[step]
            if not self.base or self.base[-1].cell != cell:
                self.base.append(_Node(cell, step, 2 * (self.dropped_nodes + len(self.base))))
            step += 1
        self.base_step = released_step
        self.update_id += 1
        base_nodes = self.base[start_index:]
        horizon: list[_Node] = []
        last = self.base[-1].cell
        seq = self.base[-1].sequence_id
        for step in range(released_step + 1, len(cells)):
            if len(horizon) >= self.horizon_nodes:
                break
            if cells[step] != last:
                seq += 2
                horizon.append(_Node(cells[step], step, seq))
                last = cells[step]
        return self._body(base_nodes, horizon, actions, cells)

    def theta(self, cell: Cell, first_step: int, cells: Sequence[Cell]) -> float | None:
        """The heading the plan fixes on the node of ``cell`` entered at ``first_step``: towards
        the next cell the plan drives to, in radians in (-pi, pi] (None: the plan stops there)."""
        for step in range(first_step + 1, len(cells)):
            nxt = cells[step]
            if nxt != cell:
                x0, y0 = self.cell_centre_m(cell)
                x1, y1 = self.cell_centre_m(nxt)
                return math.atan2(y1 - y0, x1 - x0)
        return None

    def _body(
        self,
        base: list[_Node],
        horizon: list[_Node],
        actions: dict[int, list[NodeAction]],
        cells: Sequence[Cell] = (),
    ) -> dict[str, Any]:
        wire_nodes: list[dict[str, Any]] = []
        wire_edges: list[dict[str, Any]] = []
        nodes = [(n, True) for n in base] + [(n, False) for n in horizon]
        for i, (node, released) in enumerate(nodes):
            if i:
                prev = nodes[i - 1][0]
                wire_edges.append(
                    {
                        "edgeId": edge_id(prev.cell, node.cell, node.sequence_id - 1),
                        "sequenceId": node.sequence_id - 1,
                        "released": released,
                        "startNodeId": node_id(prev.cell),
                        "endNodeId": node_id(node.cell),
                        "actions": [],
                    }
                )
            x_m, y_m = self.cell_centre_m(node.cell)
            stitching = i == 0 and self.update_id > 0  # the last base node of the previous message
            node_actions = self._actions_on(node, actions) if released and not stitching else []
            position: dict[str, Any] = {
                "x": round(x_m, 4),
                "y": round(y_m, 4),
                "mapId": self.map_id,
                "allowedDeviationXY": ALLOWED_DEVIATION_XY_M,
            }
            if self.headings:
                after = nodes[i + 1][0].cell if i + 1 < len(nodes) else None
                theta = (
                    self.theta(node.cell, node.first_step, cells) if after is None
                    else math.atan2(self.cell_centre_m(after)[1] - y_m, self.cell_centre_m(after)[0] - x_m)
                )
                if theta is not None:
                    position["theta"] = theta  # not rounded: pi rounded up leaves the schema's range
            wire_nodes.append(
                {
                    "nodeId": node_id(node.cell),
                    "sequenceId": node.sequence_id,
                    "released": released,
                    "nodePosition": position,
                    "actions": [a.to_wire() for a in node_actions],
                }
            )
        return {
            "orderId": self.order_id,
            "orderUpdateId": self.update_id,
            "nodes": wire_nodes,
            "edges": wire_edges,
        }

    @staticmethod
    def _actions_on(node: _Node, actions: dict[int, list[NodeAction]]) -> list[NodeAction]:
        """Actions planned at the step the vehicle arrives on the node (goals are arrival steps).

        Keeping actions on arrival steps means a node carries all its actions the first time it is
        sent as base. The stitching node that starts each update repeats the node without them:
        VDA 5050 (6.6.2) has the vehicle keep the stitching node's actions from the first message,
        so leaving them out changes nothing for a vehicle that follows the text, while a vehicle
        that runs the stitching node's actions again (one widely used open-source implementation
        does, when it already stands on that node) would lift or drop a pod twice.
        """
        return list(actions.get(node.first_step, ()))


def with_header(
    body: dict[str, Any],
    *,
    header_id: int,
    timestamp: str,
    manufacturer: str,
    serial_number: str,
    version: str = VDA_VERSION,
) -> dict[str, Any]:
    """A complete VDA 5050 message: the common header fields followed by ``body``; ``version`` is
    the one the vehicle speaks (``2.0.0`` or ``2.1.0``)."""
    return {
        "headerId": header_id,
        "timestamp": timestamp,
        "version": version,
        "manufacturer": manufacturer,
        "serialNumber": serial_number,
        **body,
    }


def for_version(body: dict[str, Any], version: str) -> dict[str, Any]:
    """An order body as a vehicle speaking ``version`` reads it.

    VDA 5050 2.0's text spells the node tolerance ``allowedDeviationXY`` and its official schema
    ``allowedDeviationXy``; a 2.0 vehicle validating against that schema ignores the text's
    spelling and falls back to its own default tolerance. A 2.0 order carries both (2.1 fixed the
    schema); a 2.1 body is returned as it is.
    """
    if not version.startswith("2.0."):
        return body
    nodes = []
    for node in body["nodes"]:
        position = node.get("nodePosition")
        if position is not None and "allowedDeviationXY" in position:
            position = {**position, "allowedDeviationXy": position["allowedDeviationXY"]}
            node = {**node, "nodePosition": position}
        nodes.append(node)
    return {**body, "nodes": nodes}


def instant_actions_body(actions: Sequence[NodeAction], version: str = VDA_VERSION) -> dict[str, Any]:
    """The body of an ``instantActions`` message for a vehicle speaking ``version``.

    VDA 5050 2.0's text names an instant action's type ``actionType``, but its official
    ``instantActions.schema`` requires ``actionName`` instead (an erratum fixed in 2.1); and while
    the text and schema name the list ``actions``, a widely used open-source 2.0 vehicle reads it
    as ``instantActions`` (its name in 1.1). A 2.0 message carries both names of each, with the
    same values: conservative in what we send (neither schema forbids extra properties).
    """
    wire = [a.to_wire() for a in actions]
    if version.startswith("2.0."):
        wire = [{**a, "actionName": a["actionType"]} for a in wire]
        return {"actions": wire, "instantActions": wire}
    return {"actions": wire}
