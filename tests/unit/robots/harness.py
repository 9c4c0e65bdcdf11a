"""Drive one ``VehicleAgent`` on simulated time and check every message it publishes.

Every envelope the agent returns is validated against the official schema of its topic (the
project's promise that every vehicle message validates), and its QoS/retain are checked
against the standard. A ``state`` (written without the models, for speed) must also read back
through the :class:`State` model to the same JSON: no missing, extra or ``None`` fields.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from pydantic import BaseModel

from bus.clock import SIM_EPOCH, Instant, seconds
from bus.transport import Envelope
from bus.vda5050 import QOS, RETAIN, State, parse_state, to_payload
from robots.agent import VehicleAgent
from robots.config import VehicleConfig
from robots.drive import Drive, Pose
from robots.kinematic import KinematicDrive
from tests.unit.robots.vda_schemas import assert_valid, kind_of

SERIAL = "agv-0001"
MAP = "test-map"


class Harness:
    """An agent, its drive and simulated time."""

    def __init__(self, *, pose: Pose | None = None, config: VehicleConfig | None = None,
                 drive: Drive | None = None,
                 drive_factory: Callable[[Callable[[], Instant]], Drive] | None = None) -> None:
        """``drive_factory`` gets a function returning the harness's current instant (hardware fakes)."""
        self.now = SIM_EPOCH
        pose = pose or Pose(0.5, -0.5, 0.0)
        if drive_factory is not None:
            drive = drive_factory(lambda: self.now)
        self.drive = drive or KinematicDrive(pose, start=self.now)
        self.agent = VehicleAgent(SERIAL, drive=self.drive, map_id=MAP, initial_pose=pose,
                                  config=config or VehicleConfig())
        self.published: list[Envelope] = []
        self.headers: dict[str, int] = {}
        self._record(self.agent.on_connect(self.now))

    def _record(self, envelopes: list[Envelope]) -> list[Envelope]:
        for env in envelopes:
            kind = kind_of(env.topic)
            assert (env.qos, env.retain) == (QOS[kind], RETAIN[kind]), env
            assert_valid(kind, env.payload)
            if kind == "state":  # built as a plain dict: the model must read it back to the same JSON
                assert json.loads(to_payload(parse_state(env.payload))) == json.loads(env.payload)
                # the node and edge lists are reused and cut between states: they must be what the
                # agent's route is now, entry for entry
                body, a = json.loads(env.payload), self.agent
                assert body["nodeStates"] == [a._node_state(n) for n in a._nodes]
                assert body["edgeStates"] == [a._edge_state(e) for e in a._edges]
            hid = json.loads(env.payload).get("headerId")
            if hid is not None and kind != "connection":
                assert hid > self.headers.get(kind, -1), f"{kind} headerId did not increase"
                self.headers[kind] = hid
            self.published.append(env)
        return envelopes

    def send(self, kind: str, message: BaseModel | bytes) -> list[Envelope]:
        """Deliver an order or instant actions now."""
        payload = message if isinstance(message, bytes) else to_payload(message)
        env = Envelope(f"uagv/v2/bulletyard/{SERIAL}/{kind}", payload)
        return self._record(self.agent.handle(self.now, env))

    def advance(self, span_s: float) -> None:
        """Run wakeups up to ``now + span_s``."""
        self.run_until(lambda: False, span_s)

    def run_until(self, done: Callable[[], bool], limit_s: float = 120.0, step_s: float = 0.1) -> bool:
        """Tick at each wakeup (and at least every ``step_s``) until ``done()`` or the limit."""
        end = Instant(self.now + seconds(limit_s))
        budget = 100_000  # wakeups; an agent that asks for ever-tinier steps is a bug
        while not done():
            budget -= 1
            assert budget > 0, "agent wakeups do not converge"
            wake = self.agent.next_wakeup()
            probe = Instant(self.now + seconds(step_s))
            wake = probe if wake is None else min(wake, probe)
            if wake is None or wake > end:
                self.now = end
                self._record(self.agent.tick(self.now))
                return done()
            self.now = max(self.now, wake)
            self._record(self.agent.tick(self.now))
        return True

    def state(self) -> State:
        """The agent's state right now."""
        return self.agent.build_state(self.now)

    def last_published_state(self) -> State:
        """The last state message published."""
        env = next(e for e in reversed(self.published) if e.topic.endswith("/state"))
        return parse_state(env.payload)

    def action_status(self, action_id: str) -> str:
        """Status of one action in the current state."""
        return next(a.action_status for a in self.state().action_states if a.action_id == action_id)
