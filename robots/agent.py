"""``VehicleAgent``: the vehicle side of VDA 5050 2.1, pure and clock-injected.

The agent takes ``order`` and ``instantActions`` envelopes, drives its :class:`~robots.drive.Drive`
node by node along the released base (turning in place toward each next node first, never
entering the horizon), runs node actions, and answers with ``state`` (on every change and at
least every ``state_interval_s``), ``visualization``, ``connection`` and ``factsheet`` envelopes.
It never reads a clock or touches a network: a runner calls ``handle(now, msg)`` for each inbound
message and ``tick(now)`` at ``next_wakeup()`` and publishes whatever comes back.

Order handling follows spec 6.6 (figure 8): a new order is refused while the vehicle still holds
nodes or unfinished actions (``orderUpdateError``); an update must start at the current
decision point; an exact repeat of the current ``orderId``/``orderUpdateId`` is ignored; a lower
``orderUpdateId`` is refused. A refused order never disturbs the current work, and its warning
stays in ``state.errors`` until an order is accepted.
"""

from __future__ import annotations

from bus.clock import Instant
from bus.header import HeaderIds
from bus.topics import vda_topic
from bus.transport import Envelope
from bus.vda5050 import (
    QOS,
    EdgeState,
    Error,
    ErrorReference,
    Node,
    NodeState,
    Order,
    VdaDecodeError,
    parse_order,
)
from bus.vda5050.state import Load
from robots.actions import ActionRun
from robots.agent_actions import ActionsMixin
from robots.agent_outbound import OutboundMixin
from robots.config import VehicleConfig
from robots.drive import Drive, Pose, Verdict, wrap_angle
from robots.facing import turn_waiting
from robots.order_check import (
    Held,
    Rejection,
    check_capability,
    check_sequence,
    check_structure,
    decision_point,
    order_reference,
)
from robots.straight_run import ahead_m, straight_run


class VehicleAgent(ActionsMixin, OutboundMixin):
    """One vehicle (see the module docstring).

    Args:
        serial_number: ``agv-0001`` style id; also the topic level.
        manufacturer: topic level and header field.
        drive: the body.
        map_id: the map the vehicle is on (the layout name).
        initial_pose: where the vehicle believes it stands at start-up (it reports this pose as
            initialised; the drive must agree).
        config: rates, tolerances and action timing.
    """

    def __init__(self, serial_number: str, *, manufacturer: str = "bulletyard", drive: Drive, map_id: str,
                 initial_pose: Pose, config: VehicleConfig | None = None) -> None:
        self.serial_number = serial_number
        self.manufacturer = manufacturer
        self.drive = drive
        self.map_id = map_id
        self.initial_pose = initial_pose
        self.config = config or VehicleConfig()
        self._headers = HeaderIds()
        self._topics = {k: vda_topic(manufacturer, serial_number, k) for k in QOS}
        self._cycle_ns = round(self.config.pass_check_interval_s * 1e9)  # the control cycle
        # order bookkeeping
        self.order_id = ""
        self.order_update_id = 0
        self.last_node_id = ""
        self.last_node_sequence_id = 0
        self._nodes: list[Node] = []  # not yet traversed, base then horizon
        self._edges: list = []  # not yet traversed; _edges[0] ends at _nodes[0] once under way
        self._positions: dict[str, tuple[float, float]] = {}
        self._actions: dict[str, ActionRun] = {}
        self._queue: list[str] = []  # node actions still to run at the node just reached
        self._motion = "none"  # none | turn | move
        self._move_nodes = 1  # nodes the running move drives through (the last one it stops on)
        self._face: float | None = None  # theta of the node reached, to turn to while standing there
        self._pass_cache: tuple[tuple[Instant, int], Instant] | None = None
        self._orders_taken = 0  # orders and updates accepted (the node list changed)
        self._run_checked = -1  # _orders_taken when the straight run was last measured
        self._route_key: tuple[int, int, int] | None = None  # see OutboundMixin._route_states
        self._route_wire: tuple[list[dict], list[dict]] = ([], [])
        self._paused = False
        self._cancel: ActionRun | None = None
        self._cancelled = False
        self._order_errors: list[Error] = []
        self._condition_errors: dict[str, Error] = {}
        self._loads: list[Load] = []
        self._e_stop = "NONE"
        self._field_violation = False
        self._dirty = True
        self._next_state: Instant | None = None
        self._next_vis: Instant | None = None
        self._last_now = Instant(0)
        self._was_driving = False
        self._wire_cache: dict[tuple[str, int, bool], NodeState | EdgeState] = {}

    # --- the runner's interface --------------------------------------------------------------
    @property
    def loads(self) -> tuple[Load, ...]:
        """What the vehicle carries now (the ``loads`` of its VDA 5050 state: a lifted pod)."""
        return tuple(self._loads)

    def will(self) -> Envelope:
        """The last will: CONNECTIONBROKEN, QoS 1, retained.

        Its header is necessarily stale (spec 6.14): the timestamp is the last instant the agent
        saw (the epoch before its first call).
        """
        return self._connection(self._last_now, "CONNECTIONBROKEN")

    def on_connect(self, now: Instant) -> list[Envelope]:
        """After connecting: ONLINE (retained), the factsheet (retained) and a first state."""
        self._last_now = now
        out = [self._connection(now, "ONLINE"), self._factsheet(now)]
        self._dirty = True
        out += self.tick(now)
        return out

    def on_close(self, now: Instant) -> list[Envelope]:
        """Before a clean disconnect: OFFLINE (retained)."""
        return [self._connection(now, "OFFLINE")]

    def subscriptions(self) -> list[str]:
        """Topics the runner subscribes this vehicle to."""
        return [self._topics["order"], self._topics["instantActions"]]

    def handle(self, now: Instant, msg: Envelope) -> list[Envelope]:
        """React to one inbound envelope; malformed input becomes an error in state, never a crash."""
        out: list[Envelope] = []
        if msg.topic == self._topics["order"]:
            self._on_order(now, msg.payload)
        elif msg.topic == self._topics["instantActions"]:
            out += self._on_instant_actions(now, msg.payload)
        return out + self.tick(now)

    def tick(self, now: Instant) -> list[Envelope]:
        """Move time on to ``now``: progress, then state/visualization when due."""
        self._last_now = now
        self._step(now)
        out: list[Envelope] = []
        if self._dirty or self._next_state is None or now >= self._next_state:
            out.append(self._state(now))
        vis_due = self._next_vis is None or now >= self._next_vis
        if self.config.visualization_interval_s is not None and vis_due:
            out.append(self._visualization(now))
        return out

    def next_wakeup(self) -> Instant | None:
        """The earliest instant at which :meth:`tick` has something to do."""
        times = [t for t in (self._next_state, self._next_vis) if t is not None]
        end = self.drive.motion_end()  # arrivals, and the end of braking (driving turns false)
        if end is not None:
            times.append(self._on_grid(end))
            passing = self._next_pass()  # only while moving
            if passing is not None:
                times.append(passing)
        if self._queue and not self._paused:
            head = self._actions[self._queue[0]]
            if head.ends_at is not None:
                times.append(self._on_grid(head.ends_at))
        return min(times) if times else None

    def _on_grid(self, t: Instant) -> Instant:
        """``t`` rounded up to the ``pass_check_interval_s`` grid: the agent notices arrivals and
        finished actions at its control cycle (10 Hz by default), as it notices nodes passed, so a
        fleet shares wakeups instead of each vehicle waking at its own nanosecond (at 500 robots
        that cut the simulator's instants per simulated second from 42 to about 10)."""
        q = self._cycle_ns
        return Instant(-(-int(t) // q) * q)

    # --- extra inputs from the body -----------------------------------------------------------
    def set_safety(self, *, e_stop: str | None = None, field_violation: bool | None = None) -> None:
        """Report an emergency stop (``AUTOACK``/``MANUAL``/``REMOTE``/``NONE``) or a field violation."""
        if e_stop is not None and e_stop != self._e_stop:
            self._e_stop, self._dirty = e_stop, True
        if field_violation is not None and field_violation != self._field_violation:
            self._field_violation, self._dirty = field_violation, True

    # --- orders -----------------------------------------------------------------------------
    def _reject(self, rejection: Rejection) -> None:
        self._order_errors = [Error(error_type=rejection.error_type, error_level="WARNING",
                                    error_description=rejection.description,
                                    error_references=rejection.refs() or None)]
        self._dirty = True

    def _busy(self) -> bool:
        """Still executing or waiting for an update (spec figure 8, question 3)."""
        return bool(self._nodes) or any(not r.done for r in self._actions.values()
                                        if r.node_sequence_id is not None)

    def _on_order(self, now: Instant, payload: bytes) -> None:
        try:
            order = parse_order(payload)
        except VdaDecodeError as exc:
            self._reject(Rejection("validationError", str(exc), order_reference(payload)))
            return
        known = dict(self._positions)
        known.update({n.node_id: (n.node_position.x, n.node_position.y)
                      for n in order.nodes if n.node_position is not None})
        rejection = check_structure(order, manufacturer=self.manufacturer, serial_number=self.serial_number,
                                    known_positions=known) or check_capability(
            order, map_id=self.map_id, node_actions=self.config.action_durations_s,
            bounds_m=self.config.map_bounds_m)
        if rejection is not None:
            self._reject(rejection)
            return
        point = decision_point(self._nodes, (self.last_node_id, self.last_node_sequence_id))
        held = Held(self.order_id, self.order_update_id, self._cancelled, point, self._busy())
        first_xy = known.get(order.nodes[0].node_id)
        verdict = check_sequence(order, held, start_deviation_m=self.config.start_deviation_m,
                                 distance_to_first=lambda: self.drive.pose(now).distance_to(*first_xy))
        if isinstance(verdict, Rejection):
            self._reject(verdict)
        elif verdict == "update":
            here = order.nodes[0].node_position
            if point == (self.last_node_id, self.last_node_sequence_id) and here is not None:
                self._face = here.theta  # standing on it: turn as the plan fixes, even before a release
            self._accept_update(order, known)
        elif verdict == "new":
            self._accept_new(now, order, known)

    def _remember(self, known: dict[str, tuple[float, float]], order: Order) -> None:
        """Keep the positions of nodes still ahead, of the new order and of the last node (a later
        update stitches there), not of every node ever ordered (that grew to the whole map)."""
        keep = {n.node_id for n in self._nodes} | {n.node_id for n in order.nodes} | {self.last_node_id}
        self._positions = {k: v for k, v in known.items() if k in keep}

    def _accept_new(self, now: Instant, order: Order, known: dict[str, tuple[float, float]]) -> None:
        self._remember(known, order)
        self._actions = {k: r for k, r in self._actions.items() if not r.done}
        self._order_errors = []
        self._condition_errors.pop("noOrderToCancel", None)
        self.order_id, self.order_update_id = order.order_id, order.order_update_id
        self._wire_cache = {}
        self._cancelled = False
        self._nodes = list(order.nodes)
        self._orders_taken += 1
        self._edges = list(order.edges)
        self._move_nodes = 1
        self._add_actions(order.nodes)
        self._traverse(now)  # the vehicle stands on the first node
        self._dirty = True

    def _accept_update(self, order: Order, known: dict[str, tuple[float, float]]) -> None:
        self._remember(known, order)
        self._order_errors = []
        dropped = [n for n in self._nodes if not n.released]
        for node in dropped:
            for a in node.actions:
                self._actions.pop(a.action_id, None)
        self._nodes = [n for n in self._nodes if n.released] + list(order.nodes[1:])
        self._orders_taken += 1
        self._edges = [e for e in self._edges if e.released] + list(order.edges)
        self.order_update_id = order.order_update_id
        self._add_actions(order.nodes[1:])
        current = {(n.node_id, n.sequence_id, n.released) for n in self._nodes}
        current |= {(e.edge_id, e.sequence_id, e.released) for e in self._edges}
        # wire entries of nodes and edges already passed go: an order that is only ever updated
        # (the controller's way) would otherwise keep every node it ever drove over
        self._wire_cache = {k: v for k, v in self._wire_cache.items() if k in current}
        self._dirty = True

    def _add_actions(self, nodes: list[Node]) -> None:
        for node in nodes:
            for a in node.actions:
                self._actions[a.action_id] = ActionRun(a, node_sequence_id=node.sequence_id)

    def _traverse(self, now: Instant) -> None:
        """The vehicle reached ``_nodes[0]``: record it and queue its actions."""
        node = self._nodes.pop(0)
        if self._edges and self._edges[0].end_node_id == node.node_id:
            self._edges.pop(0)
        self.last_node_id, self.last_node_sequence_id = node.node_id, node.sequence_id
        self._face = node.node_position.theta if node.node_position is not None else None
        self._queue = [a.action_id for a in node.actions if a.action_id in self._actions]
        self._dirty = True

    # --- progress -----------------------------------------------------------------------------
    def _step(self, now: Instant) -> None:
        drive = self.drive
        drive.advance_to(now)
        if drive.fault() and "driveFault" not in self._condition_errors:
            self._condition_errors["driveFault"] = Error(
                error_type="driveFault", error_level="FATAL", error_description=drive.fault(),
                error_references=[ErrorReference(reference_key="nodeId", reference_value=self.last_node_id)])
            self._motion = "none"
            for run in self._actions.values():
                if run.status in ("INITIALIZING", "RUNNING"):
                    run.fail("drive fault")
            self._dirty = True
        self._check_battery(now)
        if drive.is_moving(now) != self._was_driving:
            self._dirty = True  # driving changed since the last state (e.g. braking ended)
        if self._cancel is not None and not drive.is_moving(now):
            self._cancel.finish()
            self._cancel = None
            self._dirty = True
        if drive.fault() or self._paused:
            return
        for _ in range(4 * len(self._nodes) + 4 * len(self._queue) + 8):
            if not self._progress_once(now):
                break

    def _progress_once(self, now: Instant) -> bool:
        """One step of the node/action machine; False when nothing more can happen at ``now``."""
        if self._queue:
            return self._run_head_action(now)
        if self._motion != "none":
            if self._motion == "move" and self._pass_nodes(now):
                return True
            if self.drive.is_moving(now):
                if self._motion == "move":
                    self._extend_move(now)
                return False
            finished, self._motion = self._motion, "none"
            if finished == "move":
                x, y = self._positions[self._nodes[0].node_id]
                if self.drive.pose(now).distance_to(x, y) <= self.config.arrival_tolerance_m:
                    self._traverse(now)
            self._move_nodes = 1
            return True
        if self._move_nodes > 1:  # a run stopped part way (pause): nodes it passed braking are done
            self._pass_nodes(now)
            self._move_nodes = 1
            return True
        if not self._nodes or not self._nodes[0].released:
            face, self._face = self._face, None  # the plan's heading on this node (one try per node)
            ahead = self._positions.get(self._nodes[0].node_id) if self._nodes else None
            idle = not self._queue
            if self._cancel is None and turn_waiting(self.drive, now, self.config, face, ahead, idle):
                self._motion, self._dirty = "turn", True
            return False
        node = self._nodes[0]
        x, y = self._positions[node.node_id]
        pose = self.drive.pose(now)
        if pose.distance_to(x, y) <= self.config.arrival_tolerance_m:
            self._traverse(now)
            return True
        heading = pose.heading_to(x, y)
        if abs(wrap_angle(heading - pose.theta_rad)) > self.config.heading_tolerance_rad:
            verdict, self._motion = self.drive.start_turn(now, heading), "turn"
        else:
            tol = self.config.arrival_tolerance_m
            self._move_nodes = straight_run(pose, self._nodes, self._positions, tol)
            self._run_checked = self._orders_taken
            verdict, self._motion = self._start_move(now), "move"
        if not verdict.ok:
            self._motion = "none"
            self._condition_errors["driveFault"] = Error(error_type="driveFault", error_level="FATAL",
                                                         error_description=verdict.reason)
        self._dirty = True
        return False

    # --- driving through nodes (robots/straight_run.py says why) ----------------------------------

    def _ahead_m(self, pose: Pose, node: Node) -> tuple[float, float]:
        """Distance of ``node`` ahead of ``pose`` along its heading, and its sideways offset (m)."""
        return ahead_m(pose, self._positions[node.node_id])

    def _start_move(self, now: Instant) -> Verdict:
        """Move (from the current speed) to the last node of the straight run."""
        target = self._nodes[self._move_nodes - 1]
        x, y = self._positions[target.node_id]
        speed = self.config.profile.speed_mps
        for edge in self._edges[: self._move_nodes]:
            if edge.max_speed:
                speed = min(speed, edge.max_speed)
        return self.drive.start_move(now, x, y, speed)

    def _pass_nodes(self, now: Instant) -> bool:
        """Traverse the nodes of the current run the body has passed; True if any."""
        passed = False
        while self._move_nodes > 1 and self._nodes:
            ahead, _ = self._ahead_m(self.drive.pose(now), self._nodes[0])
            if ahead > self.config.arrival_tolerance_m:
                break
            self._traverse(now)
            self._move_nodes -= 1
            passed = True
        return passed

    def _extend_move(self, now: Instant) -> None:
        """Lengthen the running move when more released nodes now lie straight ahead.

        Only an accepted order or update can add nodes, so the run is measured once per update:
        driving along the heading changes no node's sideways offset nor the order of those ahead.
        """
        if self._run_checked == self._orders_taken:
            return
        self._run_checked = self._orders_taken
        tol = self.config.arrival_tolerance_m
        longer = straight_run(self.drive.pose(now), self._nodes, self._positions, tol)
        if longer > self._move_nodes and not self._nodes[self._move_nodes - 1].actions:
            self._move_nodes = longer
            verdict = self._start_move(now)
            if not verdict.ok:
                self._motion = "none"
                self._condition_errors["driveFault"] = Error(error_type="driveFault", error_level="FATAL",
                                                             error_description=verdict.reason)
            self._dirty = True

    def _next_pass(self) -> Instant | None:
        """When the body passes the next node of its run: from the drive in closed form when it
        can tell, else by bisection on its pose (to 1 ms)."""
        end = self.drive.motion_end()
        if self._motion != "move" or self._move_nodes <= 1 or not self._nodes or end is None:
            return None
        key = (end, self._nodes[0].sequence_id)
        if self._pass_cache is not None and self._pass_cache[0] == key:
            return self._pass_cache[1]
        node, tol = self._nodes[0], self.config.arrival_tolerance_m
        x, y = self._positions[node.node_id]
        exact = self.drive.passes_at(x, y, tol)
        if exact is not None:
            hi = max(int(exact), int(self._last_now))
        else:  # bisection on the drive's pose
            lo, hi = int(self._last_now), int(end)
            if self._ahead_m(self.drive.pose(Instant(hi)), node)[0] > tol:
                return None  # the drive cannot tell (e.g. hardware polling): its motion_end wakes us
            while hi - lo > 1_000_000:  # 1 ms
                mid = (lo + hi) // 2
                if self._ahead_m(self.drive.pose(Instant(mid)), node)[0] <= tol:
                    hi = mid
                else:
                    lo = mid
        q = self._cycle_ns
        due = Instant(min(int(end), -(-hi // q) * q))  # late by < q: reports never early
        self._pass_cache = (key, due)
        return due
