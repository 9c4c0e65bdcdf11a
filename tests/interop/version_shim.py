"""A diagnostic MQTT relay that rewrites the controller's messages into the 2.0 wording vda-5050-lib takes.

Why: a 2.0 vehicle that checks the header ``version`` refuses every 2.1 message, which hides every
other incompatibility behind the first. With this relay between the controller and a 2.0 vehicle,
the next layer shows (actions, parameters, ids). It is a probe for people, never part of a test
that judges the controller: the controller must speak 2.0 itself.

The library keeps 1.1's name ``instantActions`` for the instant action list, where the 2.0
text and schema say ``actions``. What it rewrites, controller -> vehicle
(``{src}/v2/{m}/{s}/order|instantActions`` to ``{dst}/v2/...``): ``version`` to ``2.0.0``;
instantActions ``actions`` to ``instantActions``; node positions' ``allowedDeviationXY`` to
``allowedDeviationXy``. Vehicle -> controller (state,
connection, factsheet, visualization under ``{dst}``) is relayed unchanged, retain flag kept.

With ``--map-actions`` it also renames the controller's actions into the virtual AGV's predefined
ones (``wait`` -> ``noop``, ``charge`` -> ``startCharging``; ``pick``/``drop`` gain the
``stationType``/``loadType`` values that vehicle demands), to see what fails after that.

    python -m tests.interop.version_shim --port 1883 --src uagv --dst vdalib [--map-actions]
"""

from __future__ import annotations

import argparse
import json
import sys

import paho.mqtt.client as mqtt

TO_VEHICLE = ("order", "instantActions")
TO_CONTROLLER = ("state", "connection", "factsheet", "visualization")


RENAMED = {"wait": "noop", "charge": "startCharging"}
LOAD_PARAMETERS = [{"key": "stationType", "value": "floor"}, {"key": "loadType", "value": "EPAL"}]


def vendor_action(action: dict) -> dict:
    """One of our actions as the virtual AGV's predefined action (see the module docstring)."""
    out = dict(action, actionType=RENAMED.get(action["actionType"], action["actionType"]))
    if out["actionType"] in ("pick", "drop"):
        ours = {p["key"] for p in LOAD_PARAMETERS}
        kept = [p for p in out.get("actionParameters", []) if p["key"] not in ours]
        out["actionParameters"] = [*kept, *LOAD_PARAMETERS]
    return out


def to_v2_0(topic_kind: str, body: dict, map_actions: bool = False) -> dict:
    """The 2.0 spelling of a 2.1 order or instantActions message (what this relay changes)."""
    out = dict(body, version="2.0.0")
    if topic_kind == "instantActions" and "actions" in out:
        out["instantActions"] = out.pop("actions")
    for node in out.get("nodes", []):
        pos = node.get("nodePosition")
        if pos and "allowedDeviationXY" in pos:
            pos["allowedDeviationXy"] = pos.pop("allowedDeviationXY")
        if map_actions:
            node["actions"] = [vendor_action(a) for a in node.get("actions", [])]
    return out


def main(argv: list[str] | None = None) -> int:
    """Relay until interrupted; exit status 2 on a bad command line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--src", default="uagv", help="interface name the controller uses")
    p.add_argument("--dst", default="vdalib", help="interface name the vehicles use")
    p.add_argument("--map-actions", action="store_true", help="rename actions into the vehicle's own")
    args = p.parse_args(argv)

    def on_connect(client: mqtt.Client, *_: object) -> None:
        client.subscribe([(f"{args.src}/v2/+/+/{k}", 0) for k in TO_VEHICLE]
                         + [(f"{args.dst}/v2/+/+/{k}", 0) for k in TO_CONTROLLER])

    def on_message(client: mqtt.Client, _: object, msg: mqtt.MQTTMessage) -> None:
        root, rest = msg.topic.split("/", 1)
        kind = rest.rsplit("/", 1)[-1]
        if root == args.src and kind in TO_VEHICLE:
            try:
                body = to_v2_0(kind, json.loads(msg.payload), args.map_actions)
            except ValueError:
                return
            client.publish(f"{args.dst}/{rest}", json.dumps(body), qos=0)
        elif root == args.dst and msg.payload:
            client.publish(f"{args.src}/{rest}", msg.payload, qos=msg.qos, retain=msg.retain)

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bulletyard-version-shim")
    client.on_connect = on_connect
    client.on_message = on_message
    try:
        client.connect(args.host, args.port)
    except OSError as exc:
        print(f"version_shim: cannot reach {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    try:
        client.loop_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
