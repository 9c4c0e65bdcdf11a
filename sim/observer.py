"""The KPI observer: a bus participant that listens to what the controller and the sorter publish.

It learns order outcomes only from the WMS status topic (as a warehouse management system would)
and sorter outcomes only from ``divertConfirm`` and ``chuteState``, so the summary measures what
the system actually did on the wire, not what its internals believe.
"""

from __future__ import annotations

from collections import Counter

from bus import wire_json
from bus.clock import Instant
from bus.participant import ParticipantBase
from bus.topics import sorter_filter, sorter_topic, wms_order_status_topic
from bus.transport import Envelope
from bus.wms import TERMINAL_STATUSES, OrderStatus
from sim.kpi import KpiCollector

TERMINAL_FAILED = TERMINAL_STATUSES - {OrderStatus.COMPLETE}
DIVERT_RESULTS = {"SORTED": "sorted", "RECIRCULATED": "recirculated", "REJECTED": "rejected", "LOST": "lost"}


class KpiObserver(ParticipantBase):
    """Feeds a :class:`KpiCollector` from bus messages (never publishes, nothing timed, no will).

    Args:
        kpi: the collector.
        site: topic level of the WMS and sorter topics.
        start: the run's start instant (KPI times are seconds since it).
        complete_status: the order status that counts as done (``complete``, or ``sorted`` when
            orders end at the sorter).
        robotic_sorter: at a mixed site, the sorter id of the robots' chutes: their messages are
            parcels tipped by robots, counted by the parcel observer, not conveyor-sorter results.
    """

    def __init__(
        self, kpi: KpiCollector, site: str, start: Instant, complete_status: str = "complete",
        robotic_sorter: str | None = None,
    ) -> None:
        self.kpi = kpi
        self.skip_prefix = None if robotic_sorter is None else sorter_topic(site, robotic_sorter, "inducted")[
            : -len("inducted")]
        self.site = site
        self.start = start
        self.complete_status = complete_status
        self.status_topic = wms_order_status_topic(site)
        # the last status of each order still open: an order leaves once it completes or fails, so
        # a run of many hours keeps only the open ones (``ended`` counts the rest)
        self.statuses: dict[str, str] = {}
        self.ended: Counter[str] = Counter()  # final status -> orders that ended with it
        self.history: dict[str, list[str]] | None = None  # set to {} to keep every status per order
        self.bad_messages = 0

    def subscriptions(self) -> list[tuple[str, int]]:
        """Order status and every sorter topic of the site."""
        kinds = ("divertConfirm", "chuteState", "inducted")
        return [(self.status_topic, 1), *((sorter_filter(self.site, None, kind), 0) for kind in kinds)]

    def handle(self, now: Instant, msg: Envelope) -> list[Envelope]:
        """Account one message."""
        t_s = (now - self.start) / 1e9
        try:
            data = wire_json.loads(msg.payload)
        except (ValueError, UnicodeDecodeError):
            self.bad_messages += 1
            return []
        if not isinstance(data, dict):
            self.bad_messages += 1
            return []
        if self.skip_prefix is not None and msg.topic.startswith(self.skip_prefix):
            return []
        if msg.topic == self.status_topic:
            order_id, status = str(data.get("orderId", "")), str(data.get("status", ""))
            if self.history is not None:
                self.history.setdefault(order_id, []).append(status)
            if status == self.complete_status:
                self.kpi.order_completed(order_id, t_s)
            elif status in TERMINAL_FAILED:
                self.kpi.order_failed(order_id, t_s, f"{status}: {data.get('reason', '')}".strip())
            else:
                self.statuses[order_id] = status
                return []
            self.statuses.pop(order_id, None)
            self.ended[status] += 1
        elif msg.topic.endswith("/divertConfirm"):
            self.kpi.sorter_event(DIVERT_RESULTS.get(str(data.get("result")), "unknown"))
        elif msg.topic.endswith("/inducted"):
            self.kpi.sorter_event("inducted")
        elif msg.topic.endswith("/chuteState"):
            fill = data.get("fillItems")
            capacity = data.get("capacityItems")
            if isinstance(fill, int | float) and isinstance(capacity, int | float) and capacity:
                self.kpi.chute_sample(str(data.get("chuteId")), t_s, float(fill) / float(capacity))
        return []

