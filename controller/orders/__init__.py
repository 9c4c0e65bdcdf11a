"""Orders: their life cycle, the inventory (stock per pod and SKU, reservations), and order sources.

Public API for the controller::

    from controller.orders import Inventory, Pod
    inventory.reserve(pod, sku, units); inventory.consume(pod, sku, units)
    controller.orders.stock.mixed_stock(layout, rng) / load_stock(path, layout)
"""

from bus.wms import OrderStatus
from controller.orders.inventory import Inventory, Pod
from controller.orders.model import Accepted, Order, OrderEvent, OrderLine, Refused

__all__ = [
    "Accepted",
    "Inventory",
    "Order",
    "OrderEvent",
    "OrderLine",
    "OrderStatus",
    "Pod",
    "Refused",
]
