"""``bulletyard robots``: argument errors exit 2 with one line; a short run announces and retires vehicles."""

from __future__ import annotations

import json

import pytest

from bulletyard.cli import main


@pytest.mark.parametrize(("args", "text"), [
    (["--count", "0"], "--count must be at least 1"),
    (["--count", "2", "--gui"], "--gui needs --drive pybullet"),
    (["--count", "5000"], "room for"),
    (["--count", "2", "--breakdown-probability", "2"], "within [0, 1]"),
])
def test_bad_arguments_exit_2_with_one_line(args, text, capsys) -> None:
    code = main(["robots", "--broker", "mqtt://127.0.0.1:1", "--layout", "small-fc", *args])
    err = capsys.readouterr().err
    assert code == 2
    assert text in err
    assert len(err.strip().splitlines()) == 1


def test_unreachable_broker_exits_2(capsys) -> None:
    from tests.broker import free_port

    code = main(["robots", "--broker", f"mqtt://127.0.0.1:{free_port()}", "--layout", "small-fc",
                 "--count", "1"])
    err = capsys.readouterr().err
    assert code == 2
    assert "cannot reach MQTT broker" in err or "refused" in err


def test_unknown_layout_exits_2(capsys) -> None:
    code = main(["robots", "--broker", "mqtt://127.0.0.1:1", "--layout", "nowhere", "--count", "1"])
    assert code == 2
    assert "nowhere" in capsys.readouterr().err


@pytest.mark.broker
def test_short_run_leaves_retained_offline_and_factsheets(broker, capsys) -> None:
    from bus.mqtt import MqttTransport

    code = main(["robots", "--broker", broker.url, "--layout", "small-fc", "--count", "3",
                 "--drive", "pybullet", "--duration", "0.5"])
    assert code == 0
    assert "3 vehicles on small-fc" in capsys.readouterr().out
    probe = MqttTransport(broker.url, "probe")
    probe.connect()
    probe.subscribe("uagv/v2/bulletyard/+/connection", qos=1)
    probe.subscribe("uagv/v2/bulletyard/+/factsheet")
    got: dict[str, str] = {}
    facts = set()
    for _ in range(20):
        if len(got) == 3 and len(facts) == 3:
            break
        probe.wait(0.5)
        for env in probe.drain():
            data = json.loads(env.payload)
            if env.topic.endswith("/connection"):
                got[data["serialNumber"]] = data["connectionState"]
            else:
                facts.add(data["serialNumber"])
    probe.close()
    assert got == {"agv-0001": "OFFLINE", "agv-0002": "OFFLINE", "agv-0003": "OFFLINE"}
    assert facts == {"agv-0001", "agv-0002", "agv-0003"}
