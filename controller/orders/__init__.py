"""Orders: the order book and life cycle, inventory, and order sources (generator, files).

Public API for the controller::

    from controller.orders import Order, OrderLine, OrderStatus, OrderBook, Inventory
    book = OrderBook(inventory)
    book.submit(order, now) -> Accepted | Refused(reason)
    book.advance(order_id, status, now, reason="")
    book.status(order_id); book.counts(); book.events
"""

from controller.orders.book import LifecycleError, OrderBook
from controller.orders.inventory import Inventory, Pod
from controller.orders.model import Accepted, Order, OrderEvent, OrderLine, OrderStatus, Refused

__all__ = [
    "Accepted",
    "Inventory",
    "LifecycleError",
    "Order",
    "OrderBook",
    "OrderEvent",
    "OrderLine",
    "OrderStatus",
    "Pod",
    "Refused",
]
