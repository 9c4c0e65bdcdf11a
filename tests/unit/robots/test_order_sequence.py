"""How an order fits what a vehicle holds (spec 6.6.4.3), as the pure check the agent asks."""

from __future__ import annotations

import pytest

from bus.clock import SIM_EPOCH
from bus.vda5050 import Node, Order
from robots.order_check import Held, Rejection, check_sequence, decision_point
from robots.script_orders import line_order


def order_with(*, order_id: str, update_id: int, first: tuple[str, int]) -> Order:
    """An order (update) whose first node is ``first`` (node id, sequence id)."""
    name, seq = first
    return line_order(serial_number="v1", order_id=order_id, map_id="m", now=SIM_EPOCH, update_id=update_id,
                      first_sequence_id=seq, waypoints=[(name, 0.5, -0.5), ("n9", 1.5, -0.5)])


def _held(**kw) -> Held:
    base = {"order_id": "o1", "order_update_id": 2, "cancelled": False, "decision_point": ("n2", 4),
            "busy": True}
    return Held(**{**base, **kw})


def _never() -> float:
    raise AssertionError("the distance is asked only for a new order")


@pytest.mark.parametrize(
    ("update", "held", "verdict"),
    [
        (2, _held(), "resend"),
        (1, _held(), "orderUpdateError"),
        (3, _held(cancelled=True), "orderUpdateError"),
        (3, _held(decision_point=("n9", 8)), "orderUpdateError"),
    ],
)
def test_updates_of_the_held_order(update: int, held: Held, verdict: str) -> None:
    order = order_with(order_id="o1", update_id=update, first=("n2", 4))
    got = check_sequence(order, held, start_deviation_m=0.1, distance_to_first=_never)
    assert (got.error_type if isinstance(got, Rejection) else got) == verdict


def test_an_update_at_the_decision_point_continues_the_order() -> None:
    order = order_with(order_id="o1", update_id=3, first=("n2", 4))
    assert check_sequence(order, _held(), start_deviation_m=0.1, distance_to_first=_never) == "update"


def test_a_new_order_needs_an_idle_vehicle_on_its_first_node() -> None:
    order = order_with(order_id="o2", update_id=0, first=("n0", 0))
    busy = check_sequence(order, _held(), start_deviation_m=0.1, distance_to_first=_never)
    assert isinstance(busy, Rejection)
    assert busy.error_type == "orderUpdateError"
    idle = _held(busy=False)
    assert check_sequence(order, idle, start_deviation_m=0.1, distance_to_first=lambda: 0.05) == "new"
    far = check_sequence(order, idle, start_deviation_m=0.1, distance_to_first=lambda: 2.0)
    assert isinstance(far, Rejection)
    assert far.error_type == "orderError"


def test_the_decision_point_is_the_last_base_node_ahead() -> None:
    nodes = [Node(node_id=f"n{k}", sequence_id=2 * k, released=k < 3, actions=[]) for k in range(5)]
    assert decision_point(nodes, ("n0", 0)) == ("n2", 4)
    assert decision_point(nodes[3:], ("n2", 4)) == ("n2", 4)
