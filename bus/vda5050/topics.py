"""Delivery rules for the vehicle side, keyed by the plain topic kind (``"state"``...).

One table holds the topics and their QoS and retain flags (spec 6.2, 6.3): :data:`bus.topics.VDA_DELIVERY`;
topic names come from :func:`bus.topics.vda_topic`. The agent indexes these by kind for every
message it sends.
"""

from __future__ import annotations

from bus.topics import VDA_DELIVERY

#: QoS per topic kind (``connection`` 1, all else 0).
QOS: dict[str, int] = {kind.value: rule.qos for kind, rule in VDA_DELIVERY.items()}

#: Which topic kinds are published retained (``connection`` and ``factsheet``).
RETAIN: dict[str, bool] = {kind.value: rule.retain for kind, rule in VDA_DELIVERY.items()}

