"""Topic names and delivery rules for the vehicle side: ``uagv/v2/{manufacturer}/{serialNumber}/{topic}``.

One table holds the topics and their QoS and retain flags (spec 6.2, 6.3): :data:`bus.topics.VDA_DELIVERY`.
This module gives the vehicle agent the same rules keyed by the plain topic kind, as the agent
indexes them by kind for every message it sends.
"""

from __future__ import annotations

from bus.topics import VDA_DELIVERY, VdaTopic, vda_topic

#: QoS per topic kind (``connection`` 1, all else 0).
QOS: dict[str, int] = {kind.value: rule.qos for kind, rule in VDA_DELIVERY.items()}

#: Which topic kinds are published retained (``connection`` and ``factsheet``).
RETAIN: dict[str, bool] = {kind.value: rule.retain for kind, rule in VDA_DELIVERY.items()}


def topic(manufacturer: str, serial_number: str, kind: VdaTopic | str) -> str:
    """The full topic for one vehicle and kind (levels checked as :func:`bus.topics.vda_topic` does)."""
    return vda_topic(manufacturer, serial_number, kind)
