"""Seeded fault injection for the in-process bus: loss, duplication, reordering and latency.

A :class:`FaultRule` applies to every delivery (one copy of a message to one subscriber) whose
topic matches its filter; the first matching rule wins. Every random draw comes from the
``numpy.random.Generator`` given to the broker, in a fixed order per delivery, so a run is the
same for the same seed and the same sequence of publishes.

Semantics (chosen so that faults look like what a real network and broker can do):

- ``loss_p``: the copy is dropped. QoS 1 copies are only dropped when ``lossy_qos1`` is set
  (a real broker does not lose acknowledged QoS 1 messages; set it to model a broker crash).
- ``duplicate_p``: the copy is delivered twice, back to back (QoS 1 redelivery after a lost ack).
- ``reorder_p``: the copy is held back and delivered right after the next message for the same
  subscriber (or at the broker's next :meth:`~bus.inproc.InProcBroker.advance_to` if none comes).
- ``latency_s``: ``(min_s, max_s)``; the copy waits in the broker for a uniform draw in that range
  of simulated time. Latency alone never reorders one topic: a copy is never due before an earlier
  copy from the same publisher to the same subscriber on the same topic (MQTT's ordered topics);
  copies on different topics may overtake each other, which is what per-topic latency means.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bus.topicmatch import check_topic_filter, topic_matches


@dataclass(frozen=True, slots=True)
class FaultRule:
    """Faults for the deliveries whose topic matches ``topic_filter`` (``+``/``#`` allowed).

    Attributes:
        topic_filter: MQTT filter selecting the topics this rule applies to.
        loss_p: probability in [0, 1] that a copy is dropped.
        duplicate_p: probability in [0, 1] that a copy is delivered twice.
        reorder_p: probability in [0, 1] that a copy is swapped with the next one.
        latency_s: (min, max) simulated delay in seconds, uniform; (0, 0) for none.
        lossy_qos1: let ``loss_p`` drop QoS 1 copies too.
    """

    topic_filter: str = "#"
    loss_p: float = 0.0
    duplicate_p: float = 0.0
    reorder_p: float = 0.0
    latency_s: tuple[float, float] = (0.0, 0.0)
    lossy_qos1: bool = False

    def __post_init__(self) -> None:
        check_topic_filter(self.topic_filter)
        for name in ("loss_p", "duplicate_p", "reorder_p"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"FaultRule({self.topic_filter!r}).{name} = {value} is not in [0, 1]")
        low, high = self.latency_s
        if low < 0 or high < low:
            raise ValueError(
                f"FaultRule({self.topic_filter!r}).latency_s = {self.latency_s}: need 0 <= min <= max"
            )

    def matches(self, topic: str) -> bool:
        """True when this rule applies to ``topic``."""
        return topic_matches(self.topic_filter, topic)


@dataclass(frozen=True, slots=True)
class FaultDecision:
    """What happens to one delivery: drop it, how many copies, hold it back, delay in seconds."""

    drop: bool = False
    copies: int = 1
    reorder: bool = False
    delay_s: float = 0.0


NO_FAULT = FaultDecision()


def decide(rule: FaultRule, qos: int, rng: np.random.Generator) -> FaultDecision:
    """Draw the fate of one delivery under ``rule``: four draws, always in the same order."""
    u_loss, u_dup, u_reorder, u_latency = rng.random(4)
    if u_loss < rule.loss_p and (qos == 0 or rule.lossy_qos1):
        return FaultDecision(drop=True)
    low, high = rule.latency_s
    return FaultDecision(
        copies=2 if u_dup < rule.duplicate_p else 1,
        reorder=bool(u_reorder < rule.reorder_p),
        delay_s=float(low + (high - low) * u_latency),
    )
