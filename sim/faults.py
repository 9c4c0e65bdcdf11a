"""Faults from the command line: robot delays, a killed robot, message loss, a closed chute.

- ``--delays P,MIN_S,MAX_S``: modelled on the 2026 League of Robot Runners: every robot, every
  simulated second, is delayed with probability ``P`` for a uniform ``MIN_S..MAX_S`` seconds (it
  stops where it is and then carries on; the controller is not told).
- ``--kill-robot ID@T``: at ``T`` seconds the robot's agent stops and its connection drops without
  a clean close, so the bus publishes its last will (CONNECTIONBROKEN); its body stays where it was.
- ``--drop-rate R``: every QoS 0 delivery on the in-process bus is lost with probability ``R``
  (QoS 1 survives, as on a real broker).
- ``--chute-close ID@T``: at ``T`` seconds the sorter closes that chute.
- ``--silence-robot ID@T1-T2``: from ``T1`` to ``T2`` seconds none of the robot's ``state``
  messages reach the bus (a Wi-Fi dropout as the controller sees it: silence, then the vehicle is
  back where its order took it); the vehicle itself drives on (:mod:`sim.silence`).

All randomness comes from the run's seeded generators, so a fault run repeats exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from bus.clock import Instant, seconds
from bus.faults import FaultRule
from warehouse_maps.limits import limit


class FaultSpecError(ValueError):
    """A fault option that cannot be parsed (names the option and the value)."""


@dataclass(frozen=True, slots=True)
class DelaySpec:
    """Per robot, per simulated second: probability ``p`` of a delay of ``min_s..max_s`` seconds."""

    p: float
    min_s: float
    max_s: float


@dataclass(frozen=True, slots=True)
class TimedTarget:
    """A fault aimed at one named thing at one time (seconds since the start)."""

    target: str
    t_s: float


@dataclass(frozen=True, slots=True)
class QuietSpan:
    """A robot whose states are kept off the bus from ``from_s`` to ``until_s`` (seconds since the start)."""

    target: str
    from_s: float
    until_s: float


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """Every fault of a run."""

    delays: DelaySpec | None = None
    kills: tuple[TimedTarget, ...] = ()
    drop_rate: float = 0.0
    chute_closes: tuple[TimedTarget, ...] = field(default_factory=tuple)
    silences: tuple[QuietSpan, ...] = ()

    @property
    def any(self) -> bool:
        """True when at least one fault is configured."""
        return bool(self.delays or self.kills or self.drop_rate or self.chute_closes or self.silences)

    def bus_rules(self) -> list[FaultRule]:
        """Fault rules for the in-process broker."""
        return [FaultRule("#", loss_p=self.drop_rate)] if self.drop_rate > 0 else []

    def as_dict(self) -> dict[str, object]:
        """For the run manifest."""
        out: dict[str, object] = {
            "delays": None if self.delays is None else [self.delays.p, self.delays.min_s, self.delays.max_s],
            "kill_robot": [f"{k.target}@{k.t_s:g}" for k in self.kills],
            "drop_rate": self.drop_rate,
            "chute_close": [f"{c.target}@{c.t_s:g}" for c in self.chute_closes],
        }
        if self.silences:  # only then: older manifests stay as they were
            out["silence_robot"] = [f"{q.target}@{q.from_s:g}-{q.until_s:g}" for q in self.silences]
        return out


def parse_delays(text: str | None) -> DelaySpec | None:
    """``P,MIN_S,MAX_S`` -> :class:`DelaySpec`."""
    if text is None:
        return None
    try:
        p, lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise FaultSpecError(f"--delays {text!r}: expected P,MIN_S,MAX_S (e.g. 0.01,1,20)") from None
    if not 0.0 <= p <= 1.0 or not 0 <= lo <= hi <= limit("seconds"):  # False for NaN too
        raise FaultSpecError(f"--delays {text!r}: need 0 <= P <= 1 and 0 <= MIN_S <= MAX_S <= "
                             f"{limit('seconds'):g} (finite seconds)")
    return DelaySpec(p, lo, hi)


def parse_timed(option: str, text: str) -> TimedTarget:
    """``ID@T`` -> :class:`TimedTarget` (T in seconds since the start)."""
    target, sep, t = text.rpartition("@")
    try:
        t_s = float(t)
    except ValueError:
        t_s = -1.0
    if not sep or not target or not 0 <= t_s <= limit("seconds"):  # refuses NaN and infinity too
        raise FaultSpecError(f"{option} {text!r}: expected ID@SECONDS with 0 <= SECONDS <= "
                             f"{limit('seconds'):g} (e.g. agv-0003@120)")
    return TimedTarget(target, t_s)


def parse_quiet_span(text: str) -> QuietSpan:
    """``ID@T1-T2`` -> :class:`QuietSpan` (seconds since the start, ``T1 < T2``)."""
    target, sep, span = text.rpartition("@")
    t1, dash, t2 = span.partition("-")
    try:
        from_s, until_s = float(t1), float(t2)
    except ValueError:
        from_s = until_s = -1.0
    if not sep or not target or not dash or not 0 <= from_s < until_s <= limit("seconds"):  # NaN too
        raise FaultSpecError(f"--silence-robot {text!r}: expected ID@T1-T2 with 0 <= T1 < T2 <= "
                             f"{limit('seconds'):g} seconds (e.g. agv-0003@120-150)")
    return QuietSpan(target, from_s, until_s)


def parse_drop_rate(value: float | None) -> float:
    """Validate ``--drop-rate``."""
    if value is None:
        return 0.0
    if not 0.0 <= value < 1.0:  # False for NaN
        raise FaultSpecError(f"--drop-rate {value}: must be in [0, 1)")
    return value


def fault_plan(
    delays: str | None = None,
    kills: Sequence[str] = (),
    drop_rate: float | None = None,
    chute_closes: Sequence[str] = (),
    silences: Sequence[str] = (),
) -> FaultPlan:
    """Build a :class:`FaultPlan` from the raw option strings."""
    return FaultPlan(
        delays=parse_delays(delays),
        kills=tuple(parse_timed("--kill-robot", k) for k in kills),
        drop_rate=parse_drop_rate(drop_rate),
        chute_closes=tuple(parse_timed("--chute-close", c) for c in chute_closes),
        silences=tuple(parse_quiet_span(q) for q in silences),
    )


class DelayInjector:
    """Draws LoRR-style delays once per simulated second for every robot still running.

    Args:
        spec: probability and duration range.
        robot_ids: robots in a fixed order (the order of the draws).
        rng: the fault generator of the run.
        hold: called as ``hold(robot_id, now, duration_ns)`` for each delay drawn.
    """

    def __init__(
        self,
        spec: DelaySpec,
        robot_ids: Sequence[str],
        rng: np.random.Generator,
        hold: Callable[[str, Instant, int], None],
    ) -> None:
        self.spec = spec
        self.robot_ids = list(robot_ids)
        self.rng = rng
        self.hold = hold
        self.held_until: dict[str, int] = {}
        self.delays = 0
        self.delayed_s = 0.0

    def draw(self, now: Instant) -> None:
        """One second's draws: robots not already held may be delayed."""
        hits = self.rng.random(len(self.robot_ids)) < self.spec.p
        durations = self.rng.uniform(self.spec.min_s, self.spec.max_s, len(self.robot_ids))
        for rid, hit, dur_s in zip(self.robot_ids, hits, durations, strict=True):
            if hit and self.held_until.get(rid, 0) <= now:
                span = int(seconds(float(dur_s)))
                self.held_until[rid] = now + span
                self.delays += 1
                self.delayed_s += float(dur_s)
                self.hold(rid, now, span)

    def remove(self, robot_id: str) -> None:
        """Stop drawing for a robot (killed)."""
        if robot_id in self.robot_ids:
            self.robot_ids.remove(robot_id)
