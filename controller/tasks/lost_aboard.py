"""Parcels on robots that are lost: they wait a while for the robot to come back and tip them.

Why: a robot is lost mostly through a Wi-Fi dropout (VDA 5050 ``CONNECTIONBROKEN``, or no state
for ``fleet.state_timeout_s``), and real vehicles come back, often having driven on meanwhile.
Failing the parcel at once told the WMS ``REJECTED`` for a parcel the robot then tipped anyway
(the chute's ``SORTED``): two outcomes for one parcel. So a parcel on a lost robot keeps its trip
and its chute (still committed) and is counted as on a lost robot; a robot back within
``robotic_sortation.lost_parcel_timeout_s`` tips it as usual. After that the parcel fails with
its reason (manual handling: an operator takes it off the robot) and the parcel flow takes the
tip off the robot's trip, so a robot that comes back later does not tip it.

Pure: time comes in as an argument; whether and since when a robot is lost is the fleet
supervision's word (asked through :class:`~controller.tasks.parcel.ParcelFleet`), kept nowhere else.
"""

from __future__ import annotations

import logging

from bus.clock import Instant, seconds
from controller.tasks.parcel import ParcelFleet

log = logging.getLogger("bulletyard.controller.parcels")


class LostAboard:
    """The parcels on lost robots and when each one's wait is over.

    Args:
        timeout_s: how long a parcel waits for its lost robot, s (measured from the robot's loss
            as the supervision records it: a robot lost again starts the wait again).
        fleet: says since when a trip's robot is lost.
    """

    def __init__(self, timeout_s: float, fleet: ParcelFleet) -> None:
        self.timeout_s = timeout_s
        self._timeout = seconds(timeout_s)
        self.fleet = fleet
        self._aboard: dict[str, tuple[str, str]] = {}  # parcel -> (robot, trip)

    def __len__(self) -> int:
        return len(self._aboard)

    def add(self, parcel_id: str, serial: str, trip_id: str) -> bool:
        """The parcel is on robot ``serial`` (trip ``trip_id``), which is lost; False if known."""
        known = parcel_id in self._aboard
        self._aboard[parcel_id] = (serial, trip_id)
        if not known:
            log.warning("parcel %s is on robot %s, which is lost: it waits %g s for it",
                        parcel_id, serial, self.timeout_s)
        return not known

    def check(self, now: Instant) -> tuple[list[str], list[tuple[str, str]]]:
        """Parcels no longer waiting, in parcel order: ``back`` (their robot is usable again, or
        the trip ended) and ``expired`` (parcel, why it fails): robot lost for the timeout or longer."""
        back: list[str] = []
        expired: list[tuple[str, str]] = []
        for pid, (serial, trip_id) in sorted(self._aboard.items()):
            since = self.fleet.lost_since(trip_id)
            if since is None:
                back.append(pid)
            elif now - since >= self._timeout:
                why = f"not back within {self.timeout_s:g} s"
                expired.append((pid, f"robot {serial} was lost with the parcel on board, {why}"))
        for pid in back + [pid for pid, _ in expired]:
            del self._aboard[pid]
        return back, expired
