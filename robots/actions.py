"""Action bookkeeping for the vehicle agent: one :class:`ActionRun` per action of the order.

Statuses follow spec 6.11: WAITING (known, not started), INITIALIZING (preparing, for
``VehicleConfig.action_init_s``), RUNNING, PAUSED (by ``startPause``), FINISHED, FAILED.
Deadlines are stored as instants; the agent's ``tick`` moves them on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bus.clock import Instant
from bus.vda5050 import Action

DONE = frozenset({"FINISHED", "FAILED"})


@dataclass(slots=True)
class ActionRun:
    """The live state of one node or instant action.

    Attributes:
        action: the action as ordered.
        status: the current VDA 5050 ``actionStatus``.
        ends_at: when the current INITIALIZING or RUNNING phase ends (None: open-ended).
        paused_status: the status to return to after ``stopPause``.
        remaining_ns: time left in the phase when paused.
        result: ``resultDescription`` once done.
        node_sequence_id: the node's sequence id for node actions (None for instant actions).
    """

    action: Action
    status: str = "WAITING"
    ends_at: Instant | None = None
    paused_status: str | None = None
    remaining_ns: int | None = None
    result: str | None = None
    node_sequence_id: int | None = None
    _wire: dict | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def done(self) -> bool:
        """FINISHED or FAILED."""
        return self.status in DONE

    def pause(self, now: Instant) -> bool:
        """INITIALIZING or RUNNING becomes PAUSED; True when the status changed."""
        if self.status not in ("INITIALIZING", "RUNNING"):
            return False
        self.paused_status = self.status
        self.remaining_ns = None if self.ends_at is None else max(0, self.ends_at - now)
        self.status = "PAUSED"
        return True

    def resume(self, now: Instant) -> bool:
        """PAUSED goes back to what it was, with its remaining time; True when changed."""
        if self.status != "PAUSED":
            return False
        self.status = self.paused_status or "RUNNING"
        self.ends_at = None if self.remaining_ns is None else Instant(now + self.remaining_ns)
        self.paused_status = None
        self.remaining_ns = None
        return True

    def fail(self, reason: str) -> bool:
        """Anything not done becomes FAILED; True when changed."""
        if self.done:
            return False
        self.status = "FAILED"
        self.result = reason
        self.ends_at = None
        return True

    def finish(self, result: str | None = None) -> None:
        """Mark FINISHED."""
        self.status = "FINISHED"
        self.result = result
        self.ends_at = None

    def wire_body(self) -> dict:
        """The ``actionStates`` entry as it goes on the wire (keys in the model's order).

        Kept until the status or result changes: a vehicle reports every action of its order in
        every state, and most of them finished long ago. Callers must not change the dict.
        """
        wire = self._wire
        stale = wire is None or wire["actionStatus"] != self.status
        if stale or wire.get("resultDescription") != self.result:
            wire = {"actionId": self.action.action_id, "actionStatus": self.status,
                    "actionType": self.action.action_type}
            if self.result is not None:
                wire["resultDescription"] = self.result
            self._wire = wire
        return wire
