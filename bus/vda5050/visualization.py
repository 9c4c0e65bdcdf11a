"""The ``visualization`` topic: position and velocity at a higher rate than state (spec 6.13).

Every field is optional in the schema, header included; we always send the header.
"""

from __future__ import annotations

from bus.vda5050.base import Header
from bus.vda5050.state import AgvPosition, Velocity


class Visualization(Header):
    """A position sample for displays."""

    agv_position: AgvPosition | None = None
    velocity: Velocity | None = None
