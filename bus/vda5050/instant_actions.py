"""The ``instantActions`` topic: actions to run as soon as they arrive (spec 6.9)."""

from __future__ import annotations

from bus.vda5050.base import Action, Header


class InstantActions(Header):
    """A batch of instant actions (``startPause``, ``stopPause``, ``cancelOrder``, ...)."""

    actions: list[Action]
