"""RecentWindow: ids seen in the last few minutes, to recognise a message that comes again.

Why: at-least-once delivery (MQTT QoS 1) and late replies repeat a message about an item or order
seconds or minutes after the first. Remembering every id ever seen would grow with every item of
a shift that runs for months; remembering a time window of them does not. The controller's
sortation planner (confirmed items) and the sorter (items that left the line) both use it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Generic, TypeVar

from bus.clock import Duration, Instant

V = TypeVar("V")


class RecentWindow(Generic[V]):
    """Keys added in the last ``window`` (and at most ``max_items`` of them), each with a value.

    Keys are forgotten when a later key is added, so a key stays at least ``window`` (unless
    ``max_items`` newer keys push it out). Adding a key again moves it to the newest end.
    """

    def __init__(self, window: Duration, max_items: int | None = None) -> None:
        self.window = window
        self.max_items = max_items
        self._entries: OrderedDict[str, tuple[Instant, V]] = OrderedDict()  # oldest first

    def add(self, now: Instant, key: str, value: V) -> None:
        """Remember ``key`` (with ``value``) as seen at ``now``; forget what fell out of the window."""
        entries = self._entries
        entries.pop(key, None)
        entries[key] = (now, value)
        horizon = now - self.window
        cap = self.max_items
        while (cap is not None and len(entries) > cap) or next(iter(entries.values()))[0] < horizon:
            entries.popitem(last=False)

    def get(self, key: str, default: V | None = None) -> V | None:
        """The value remembered for ``key``, or ``default`` when it is not (or no longer) known."""
        entry = self._entries.get(key)
        return default if entry is None else entry[1]

    def __getitem__(self, key: str) -> V:
        return self._entries[key][1]

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)
