"""Goods-to-person operations: orders to stations, pods chosen for pile-on, robots matched."""

from controller.tasks.operations import Operations, OpsConfig

__all__ = ["Operations", "OpsConfig"]
