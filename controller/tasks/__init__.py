"""Task building: pod trips with batched order lines, and robotic-sortation parcel trips."""

from controller.tasks.builder import TaskBuilder
from controller.tasks.trips import Trip, TripKind, TripLine, TripState

__all__ = ["TaskBuilder", "Trip", "TripKind", "TripLine", "TripState"]
