"""Goods-to-person operations: orders to stations, pods chosen for pile-on, robots matched."""

from controller.tasks.operations import Operations
from controller.tasks.visits import OpsConfig

__all__ = ["Operations", "OpsConfig"]
