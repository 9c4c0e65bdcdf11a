"""Travel times on the floor for choosing robots and pods (:class:`TravelTimes`).

The matching itself lives with the one order and inventory model, in
:mod:`controller.tasks.operations` (OR-Tools linear sum assignment of robots to pods).
"""

from controller.assignment.travel import TravelTimes

__all__ = ["TravelTimes"]
