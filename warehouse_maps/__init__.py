"""Warehouse floors: the grid, named places, loaders for public benchmarks and our layouts."""

from warehouse_maps.catalog import bundled_names, load_layout
from warehouse_maps.errors import MapFormatError
from warehouse_maps.grid import MOVES, UNREACHABLE, Cell, Grid
from warehouse_maps.layout import Layout, Place, PlaceKind
from warehouse_maps.lorr import LorrInstance, load_lorr_instance, load_lorr_map
from warehouse_maps.movingai import ScenarioAgent, load_map, load_scenario

__all__ = [
    "MOVES",
    "UNREACHABLE",
    "Cell",
    "Grid",
    "Layout",
    "LorrInstance",
    "MapFormatError",
    "Place",
    "PlaceKind",
    "ScenarioAgent",
    "bundled_names",
    "load_layout",
    "load_lorr_instance",
    "load_lorr_map",
    "load_map",
    "load_scenario",
]
