"""Robotic sortation KPIs, measured on the wire: a bus participant that reads the robotic sorter's
topics (never publishes).

It learns a parcel's arrival from the induct's ``inducted``, its loading from the controller's
first ``destination`` (sent once the parcel is on a robot; a later one is a reroute), its end from
the chute's ``divertConfirm`` (``SORTED``) or the controller's (``REJECTED``, with the reason), and
bag swaps from ``chuteState``. Times are seconds since the start of the run.

KPIs (``summary.json`` ``sortation``): parcels per hour overall and per robot, induct utilisation
(loads x load time over inducts x time), induct-to-chute time (loaded to tipped) and arrival-to-chute
time, p50/p95, chute fill, rerouted and failed parcels with their reasons.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from bus import wire_json
from bus.clock import Instant
from bus.sorter_protocol import sorter_topic
from bus.transport import Envelope
from sim.kpi import KpiCollector
from sim.observer import KpiObserver


class ParcelObserver(KpiObserver):
    """See the module docstring (the order observer's participant methods, other topics).

    Args:
        kpi: the run's collector (parcels count there as one-line orders: progress, report).
        site, sorter_id: the robotic sorter's topic levels.
        start: the run's start instant.
        as_orders: parcels are the run's orders (False at a mixed site, whose orders the order
            observer follows).
    """

    def __init__(self, kpi: KpiCollector, site: str, sorter_id: str, start: Instant,
                 as_orders: bool = True) -> None:
        super().__init__(kpi, site, start)
        self.as_orders = as_orders
        self.seen: set[str] = set()  # parcel ids heard of (a mixed site announces none at inducts)
        self.topics = {k: sorter_topic(site, sorter_id, k)
                       for k in ("inducted", "destination", "divertConfirm", "chuteState")}
        self.arrived: dict[str, float] = {}
        self.loaded: dict[str, float] = {}
        self.loads_by_induct: Counter[str] = Counter()
        self._induct_of: dict[str, str] = {}
        self.induct_to_chute_s: list[float] = []
        self.arrival_to_chute_s: list[float] = []
        self.sorted = 0
        self.failed: Counter[str] = Counter()
        self.rerouted = 0
        self.swaps = 0
        self.sorted_by_chute: Counter[str] = Counter()
        self.sorted_at_s: list[float] = []

    def subscriptions(self) -> list[tuple[str, int]]:
        """The robotic sorter's parcel and chute topics."""
        return [(t, 1) for t in self.topics.values()]

    def handle(self, now: Instant, msg: Envelope) -> list[Envelope]:
        """Account one message."""
        t_s = (now - self.start) / 1e9
        try:
            data = wire_json.loads(msg.payload)
            pid = str(data.get("itemId", ""))
        except (ValueError, UnicodeDecodeError, AttributeError):
            self.bad_messages += 1
            return []
        if pid:
            self.seen.add(pid)
        if msg.topic == self.topics["inducted"]:
            self.arrived[pid] = t_s
            self._induct_of[pid] = str(data.get("inductId"))
        elif msg.topic == self.topics["destination"]:
            if pid in self.loaded:
                self.rerouted += 1
            else:
                self.loaded[pid] = t_s
                self.loads_by_induct[self._induct_of.get(pid, "?")] += 1
        elif msg.topic == self.topics["divertConfirm"]:
            self._ended(pid, t_s, str(data.get("result")), str(data.get("chuteId")),
                        str(data.get("reason", "")))
        elif msg.topic == self.topics["chuteState"]:
            self.swaps += data.get("state") == "CLOSED"
            fill, capacity = data.get("fillItems"), data.get("capacityItems")
            if isinstance(fill, int) and isinstance(capacity, int) and capacity:  # the report's chart
                self.kpi.chute_sample(str(data.get("chuteId")), t_s, fill / capacity)
        return []

    def _ended(self, pid: str, t_s: float, result: str, chute: str, reason: str) -> None:
        arrived = self.arrived.pop(pid, None)
        loaded = self.loaded.pop(pid, None)
        self._induct_of.pop(pid, None)
        if result == "SORTED":
            self.sorted += 1
            self.sorted_at_s.append(t_s)
            self.sorted_by_chute[chute] += 1
            if loaded is not None:
                self.induct_to_chute_s.append(t_s - loaded)
            if arrived is not None:
                self.arrival_to_chute_s.append(t_s - arrived)
            if self.as_orders:
                self.kpi.order_completed(pid, t_s)
        else:
            key = reason.split(" (")[0]
            key = "robot lost with the parcel" if "lost" in key else key
            self.failed[key or result.lower()] += 1
            if self.as_orders:
                self.kpi.order_failed(pid, t_s, f"{result.lower()}: {reason}")

    def summary(self, *, sim_time_s: float, robots: int, inducts: int, load_s: float, capacity: int,
                chutes: int) -> dict[str, object]:
        """The ``sortation`` block of ``summary.json``."""
        hours = sim_time_s / 3600.0 if sim_time_s > 0 else float("nan")
        per_h = round(self.sorted / hours, 1) if hours == hours else None
        loads = sum(self.loads_by_induct.values())
        fills = [n / capacity for n in self.sorted_by_chute.values()]
        return {
            "parcels_arrived": self.kpi.orders_total if self.as_orders else len(self.seen),
            "parcels_sorted": self.sorted,
            "parcels_failed": sum(self.failed.values()),
            "parcels_failed_by_reason": dict(sorted(self.failed.items())),
            "parcels_rerouted": self.rerouted,
            "parcels_waiting_or_on_robots": self.kpi.open_orders if self.as_orders else None,
            "parcels_per_hour": per_h,
            "parcels_per_hour_second_half": round(
                sum(1 for t in self.sorted_at_s if t >= sim_time_s / 2) / (hours / 2), 1)
            if hours == hours else None,
            "parcels_per_robot_hour": round(per_h / robots, 2) if per_h is not None and robots else None,
            "induct_utilisation": round(loads * load_s / (inducts * sim_time_s), 4)
            if hours == hours else None,
            "loads_by_induct": dict(sorted(self.loads_by_induct.items())),
            "induct_to_chute_s": _percentiles(self.induct_to_chute_s),
            "arrival_to_chute_s": _percentiles(self.arrival_to_chute_s),
            "chute_bag_swaps": self.swaps,
            "chutes_used": len(self.sorted_by_chute),
            "chutes": chutes,
            "parcels_per_chute_max": max(self.sorted_by_chute.values(), default=0),
            "chute_fill_bags_mean": round(float(np.mean(fills)), 3) if fills else None,
        }


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "max": None}
    a = np.asarray(values)
    return {"p50": round(float(np.percentile(a, 50)), 2), "p95": round(float(np.percentile(a, 95)), 2),
            "max": round(float(a.max()), 2)}
