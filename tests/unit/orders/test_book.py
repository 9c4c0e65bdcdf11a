"""Order book: life cycle, refusals with reasons, nothing lost or counted twice."""

from __future__ import annotations

import pytest

from bus.clock import SIM_EPOCH, Instant, seconds
from controller.orders import Accepted, Order, OrderBook, OrderLine, OrderStatus, Refused
from controller.orders.book import LifecycleError
from controller.orders.model import FORWARD
from tests.unit.orders.helpers import small_inventory, small_layout

T0 = SIM_EPOCH


def _book() -> OrderBook:
    return OrderBook(small_inventory(small_layout()))


def _order(oid: str, *lines: tuple[str, int]) -> Order:
    return Order(oid, tuple(OrderLine(s, q) for s, q in lines), "CH001")


def test_full_life_cycle_is_logged_in_order() -> None:
    book = _book()
    assert book.submit(_order("O1", ("SKU-1", 2)), T0) == Accepted("O1")
    for i, status in enumerate(FORWARD[1:], start=1):
        book.advance("O1", status, Instant(T0 + seconds(i)))
    assert book.status("O1") is OrderStatus.COMPLETE
    assert [e.status for e in book.events] == list(FORWARD)
    assert book.counts()[OrderStatus.COMPLETE] == 1
    assert sum(book.counts().values()) == 1


@pytest.mark.parametrize(
    ("lines", "fragment"),
    [
        ((("SKU-1", 0),), "line 0: quantity 0"),
        ((("SKU-1", 1), ("SKU-2", -3)), "line 1: quantity -3"),
        ((("NOPE", 1),), "line 0: unknown SKU 'NOPE'"),
        ((("SKU-A", 11),), "line 0: 11 x SKU-A wanted, only 10"),
        ((("SKU-A", 6), ("SKU-A", 6)), "12 x SKU-A wanted"),
        ((), "no lines"),
    ],
)
def test_bad_orders_are_refused_with_the_line_named(lines, fragment) -> None:
    book = _book()
    verdict = book.submit(_order("O1", *lines), T0)
    assert isinstance(verdict, Refused)
    assert not verdict
    assert fragment in verdict.reason
    assert "O1" not in book
    assert book.events[-1].status is None
    assert fragment in book.events[-1].reason


def test_duplicate_id_is_refused_and_first_order_kept() -> None:
    book = _book()
    assert book.submit(_order("O1", ("SKU-1", 1)), T0)
    verdict = book.submit(_order("O1", ("SKU-2", 1)), T0)
    assert isinstance(verdict, Refused)
    assert "duplicate order id 'O1'" in verdict.reason
    assert book.order("O1").lines[0].sku == "SKU-1"
    assert len(book) == 1


def test_stock_promised_to_accepted_orders_is_not_promised_again() -> None:
    book = _book()
    assert book.submit(_order("O1", ("SKU-A", 8)), T0)
    refused = book.submit(_order("O2", ("SKU-A", 3)), T0)
    assert isinstance(refused, Refused)
    assert "only 2" in refused.reason
    assert book.submit(_order("O3", ("SKU-A", 2)), T0)
    book.advance("O1", OrderStatus.CANCELLED, T0, reason="customer cancelled")
    assert book.submit(_order("O4", ("SKU-A", 8)), T0)  # cancelled units are free again


def test_lifecycle_refuses_jumps_and_reasonless_failures() -> None:
    book = _book()
    book.submit(_order("O1", ("SKU-1", 1)), T0)
    with pytest.raises(LifecycleError, match="received -> picked"):
        book.advance("O1", OrderStatus.PICKED, T0)
    with pytest.raises(LifecycleError, match="needs a reason"):
        book.advance("O1", OrderStatus.FAILED, T0)
    book.advance("O1", OrderStatus.FAILED, T0, reason="pod damaged")
    assert book.reason("O1") == "pod damaged"
    with pytest.raises(LifecycleError):
        book.advance("O1", OrderStatus.ALLOCATED, T0)


def test_unknown_order_is_named() -> None:
    with pytest.raises(KeyError, match="O404"):
        _book().status("O404")
