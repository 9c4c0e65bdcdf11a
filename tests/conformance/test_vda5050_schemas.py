"""Every VDA 5050 message bulletyard produces validates against the official 2.1.0 JSON schemas.

- Golden messages (``tests/assets/vda5050/*.json``, timestamps pinned to the simulation epoch):
  each validates, each decodes and re-encodes to the same JSON, and the code still produces
  exactly them (approval test; regenerate with ``BULLETYARD_UPDATE_GOLDEN=1`` after a deliberate
  change and review the diff).
- Hypothesis-generated orders and instant actions validate, and whole random vehicle sessions
  (orders, updates, pauses, cancels, time) publish only valid messages (the harness validates
  every envelope).
- The one erratum (PAUSED missing from ``actionStatus`` in ``state.schema``) is patched in the
  loader; a test shows the official file rejects PAUSED and the patched one accepts it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from bus.clock import SIM_EPOCH
from bus.vda5050 import (
    Connection,
    Factsheet,
    InstantActions,
    Order,
    State,
    Visualization,
    to_payload,
)
from robots.config import INSTANT_ACTIONS, VehicleConfig
from robots.drive import Pose
from robots.script_orders import action, instant_actions, line_order
from tests.unit.robots.harness import MAP, SERIAL, Harness
from tests.unit.robots.vda_schemas import KINDS, assert_valid, require_schemas, schema_errors

GOLDEN = Path(__file__).resolve().parents[1] / "assets" / "vda5050"
MODELS = {"order": Order, "instantActions": InstantActions, "state": State, "connection": Connection,
          "factsheet": Factsheet, "visualization": Visualization}


def node(x: int, y: int = 0) -> tuple[str, float, float]:
    return (f"n{x}_{y}", x + 0.5, -(y + 0.5))


def golden_messages() -> dict[str, bytes]:
    """The golden set, produced by the code at the pinned epoch."""
    out: dict[str, bytes] = {}
    order = line_order(serial_number=SERIAL, order_id="order-1", map_id=MAP, now=SIM_EPOCH,
                       waypoints=[node(0), node(1), node(2), node(3)], base_count=3,
                       actions={"n2_0": [action("pick", "pick-1", loadId="tote-7", duration=2.0)]},
                       max_speed_mps=1.2)
    out["order_full"] = to_payload(order)
    out["order_minimal"] = to_payload(line_order(serial_number=SERIAL, order_id="order-0", map_id=MAP,
                                                 now=SIM_EPOCH, waypoints=[node(0)]))
    out["instantActions_pause"] = to_payload(instant_actions(serial_number=SERIAL, now=SIM_EPOCH, header_id=0,
                                                             actions=[action("startPause", "pause-1")]))
    h = Harness(pose=Pose(0.5, -0.5, 0.0), config=VehicleConfig())
    for env in h.published:
        kind = env.topic.rsplit("/", 1)[-1]
        out.setdefault(f"{kind}_on_connect", env.payload)
    out["connection_will"] = h.agent.will().payload
    h.send("order", order)
    h.run_until(lambda: h.action_status("pick-1") == "RUNNING", 30)
    h.send("instantActions", out["instantActions_pause"])
    out["state_paused_in_action"] = json.dumps(h.agent.state_body(h.now, header_id=42)).encode()
    return out


def test_golden_files_exist_and_match_what_the_code_produces() -> None:
    produced = golden_messages()
    if os.environ.get("BULLETYARD_UPDATE_GOLDEN"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for name, payload in produced.items():
            (GOLDEN / f"{name}.json").write_text(json.dumps(json.loads(payload), indent=2) + "\n")
    for name, payload in produced.items():
        path = GOLDEN / f"{name}.json"
        assert path.is_file(), f"missing golden {path.name} (BULLETYARD_UPDATE_GOLDEN=1 writes it)"
        assert json.loads(path.read_text()) == json.loads(payload), f"{name} changed"


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.json")), ids=lambda p: p.stem)
def test_golden_message_validates_and_round_trips(path: Path) -> None:
    kind = path.stem.split("_")[0]
    data = json.loads(path.read_text())
    assert_valid(kind, data)
    model = MODELS[kind].model_validate(data)
    assert json.loads(to_payload(model)) == data
    assert data.get("timestamp", "").startswith("2026-11-11T00:00:")


def test_goldens_cover_every_kind() -> None:
    kinds = {p.stem.split("_")[0] for p in GOLDEN.glob("*.json")}
    assert kinds == set(KINDS)


def test_erratum_official_state_schema_rejects_paused_and_the_patch_accepts_it() -> None:
    state = json.loads((GOLDEN / "state_paused_in_action.json").read_text())
    assert "PAUSED" in {a["actionStatus"] for a in state["actionStates"]}
    official = json.loads((require_schemas() / "state.schema").read_text())
    raw_errors = [e.message for e in Draft202012Validator(official).iter_errors(state)]
    assert any("PAUSED" in m for m in raw_errors)
    assert schema_errors("state", state) == []


def test_validation_is_not_vacuous() -> None:
    state = json.loads((GOLDEN / "state_on_connect.json").read_text())
    del state["batteryState"]
    assert any("batteryState" in e for e in schema_errors("state", state))
    bad_time = json.loads((GOLDEN / "connection_on_connect.json").read_text())
    bad_time["timestamp"] = "2026-11-11 00:00:00"
    assert schema_errors("connection", bad_time)


ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=12)
coords = st.floats(min_value=-500, max_value=500, allow_nan=False, allow_infinity=False)
param_values = st.one_of(st.booleans(), st.integers(-5, 5), st.floats(0, 10), ids, st.lists(ids, max_size=3))


@st.composite
def orders(draw: st.DrawFn) -> Order:
    n = draw(st.integers(1, 8))
    names = draw(st.lists(ids, min_size=n, max_size=n, unique=True))
    points = [(name, draw(coords), draw(coords)) for name in names]
    acts = {}
    for k, name in enumerate(names):
        if draw(st.booleans()):
            kind = draw(st.sampled_from(["pick", "drop", "lift", "lower", "wait", "charge"]))
            params = draw(st.dictionaries(ids, param_values, max_size=2))
            acts[name] = [action(kind, f"a{k}", draw(st.sampled_from(["NONE", "SOFT", "HARD"])), **params)]
    return line_order(serial_number=draw(ids), order_id=draw(ids), waypoints=points, map_id=draw(ids),
                      now=SIM_EPOCH + draw(st.integers(0, 10**15)), header_id=draw(st.integers(0, 2**31)),
                      update_id=draw(st.integers(0, 100)), first_sequence_id=2 * draw(st.integers(0, 50)),
                      base_count=draw(st.integers(1, n)), actions=acts,
                      max_speed_mps=draw(st.none() | st.floats(0.1, 3)))


@settings(max_examples=60, deadline=None)
@given(orders())
def test_generated_orders_validate(order: Order) -> None:
    assert_valid("order", to_payload(order))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(INSTANT_ACTIONS), min_size=1, max_size=5), st.integers(0, 2**31))
def test_generated_instant_actions_validate(kinds: list[str], header_id: int) -> None:
    msg = instant_actions(serial_number=SERIAL, now=SIM_EPOCH, header_id=header_id,
                          actions=[action(k, f"i{i}") for i, k in enumerate(kinds)])
    assert_valid("instantActions", to_payload(msg))


STEPS = st.lists(st.one_of(
    st.tuples(st.just("order"), st.integers(0, 4), st.integers(1, 4), st.booleans()),
    st.tuples(st.just("update"), st.integers(1, 3)),
    st.tuples(st.just("instant"), st.sampled_from(["startPause", "stopPause", "cancelOrder", "stateRequest",
                                                   "factsheetRequest", "bogus"])),
    st.tuples(st.just("wait"), st.floats(0.0, 8.0)),
    st.tuples(st.just("garbage"), st.binary(max_size=40)),
), min_size=1, max_size=12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STEPS)
def test_random_vehicle_sessions_publish_only_valid_messages(steps: list[tuple]) -> None:
    h = Harness(pose=Pose(0.5, -0.5, 0.0))
    count = 0
    for step in steps:
        count += 1
        if step[0] == "order":
            _, start, length, with_action = step
            pose = h.drive.pose(h.now)
            here = ("here", pose.x_m, pose.y_m)
            route = [here] + [node(start + k) for k in range(length)]
            acts = {route[-1][0]: [action("wait", f"w{count}", duration=1.0)]} if with_action else None
            h.send("order", line_order(serial_number=SERIAL, order_id=f"o{count}", waypoints=route,
                                       map_id=MAP, now=h.now, actions=acts,
                                       base_count=max(1, len(route) - 1)))
        elif step[0] == "update":
            s = h.state()
            base = [n for n in s.node_states if n.released]
            last = (s.last_node_id, s.last_node_sequence_id)
            if base:
                last = (base[-1].node_id, base[-1].sequence_id)
            pose = h.drive.pose(h.now)
            points = [(last[0], pose.x_m, pose.y_m)] + [node(k, 1) for k in range(step[1])]
            h.send("order", line_order(serial_number=SERIAL, order_id=s.order_id or "none", waypoints=points,
                                       map_id=MAP, now=h.now, update_id=s.order_update_id + 1,
                                       first_sequence_id=last[1], positions=True))
        elif step[0] == "instant":
            h.send("instantActions", instant_actions(serial_number=SERIAL, now=h.now, header_id=count,
                                                     actions=[action(step[1], f"i{count}")]))
        elif step[0] == "wait":
            h.advance(step[1])
        else:
            h.send("order", step[1])
            h.send("instantActions", step[1])
    h.advance(1.0)
    assert h.published  # and every one of them passed the schema check in the harness
