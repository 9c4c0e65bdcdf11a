"""The ``connection`` topic: ONLINE / OFFLINE / CONNECTIONBROKEN, QoS 1 and retained (spec 6.14)."""

from __future__ import annotations

from bus.vda5050.base import ConnectionState, Header


class Connection(Header):
    """The vehicle's connection state; the CONNECTIONBROKEN one is registered as the last will."""

    connection_state: ConnectionState
