"""Waiting for bus messages in tests: on deadlines through ``Transport.wait``, never sleeping."""

from __future__ import annotations

import time

from bus.transport import Envelope

TIMEOUT_S = 10.0
"""Generous: the test machine is shared and loaded."""


def receive(transport, count: int, timeout_s: float = TIMEOUT_S) -> list[Envelope]:  # noqa: ANN001
    """Up to ``count`` messages, waiting at most ``timeout_s`` in total."""
    got: list[Envelope] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < count:
        got += transport.drain(count - len(got))
        if len(got) >= count:
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not transport.wait(remaining):
            got += transport.drain(count - len(got))
            break
    return got


def receive_until(transport, topic: str, timeout_s: float = TIMEOUT_S) -> list[Envelope]:  # noqa: ANN001
    """Everything up to and including the first message on ``topic`` (a barrier)."""
    got: list[Envelope] = []
    deadline = time.monotonic() + timeout_s
    while True:
        while batch := transport.drain(1):  # one at a time: what follows the barrier stays queued
            got.append(batch[0])
            if batch[0].topic == topic:
                return got
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not transport.wait(remaining):
            raise AssertionError(f"barrier {topic!r} not received; got {[m.topic for m in got]}")
