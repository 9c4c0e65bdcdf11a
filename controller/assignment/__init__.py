"""Assignment: robots to trips to stations each planning cycle (OR-Tools), and the greedy baseline.

See :mod:`controller.assignment.api` for the port both assigners implement.
"""

from controller.assignment.api import (
    Assigner,
    Assignment,
    AssignmentKind,
    BatteryPolicy,
    RobotView,
    SolverProfile,
    StationView,
)
from controller.assignment.flow import FlowAssigner, FlowConfig
from controller.assignment.greedy import GreedyAssigner
from controller.assignment.travel import TravelTimes

__all__ = [
    "Assigner",
    "Assignment",
    "AssignmentKind",
    "BatteryPolicy",
    "FlowAssigner",
    "FlowConfig",
    "GreedyAssigner",
    "RobotView",
    "SolverProfile",
    "StationView",
    "TravelTimes",
]
