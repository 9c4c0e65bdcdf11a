"""Security of the generated broker setup, with real clients over TLS.

MQTT 3.1.1 refuses a forbidden publish silently (the broker acks and drops it), so "cannot
publish" is shown by a positive control: the same client then publishes a message it may send,
at the same QoS; the broker keeps one publisher's order per QoS, so once the control message has
arrived, the forbidden one would have arrived before it. We also keep listening a little longer.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from bulletyard.secure_broker import mosquitto_password_hash
from bus.mqtt import BusConnectionError, MqttTransport
from tests.e2e.clients import collect_until, login, mosquitto_login, topics
from tests.e2e.conftest import SecureBroker

pytestmark = pytest.mark.timeout(60)
GRACE_S = 0.5
"""Extra listening after the control message arrived."""


def _arrived(topic: str):  # noqa: ANN202
    return lambda got: topic in topics(got)


def test_client_without_password_is_refused(secure_broker: SecureBroker) -> None:
    setup = secure_broker.setup
    anonymous = MqttTransport(setup.tls_url, "anon", ca_file=str(setup.ca_file), connect_timeout_s=5)
    with pytest.raises(BusConnectionError, match="refused|Not authorized|Bad user"):
        anonymous.connect()
    wrong = MqttTransport(setup.tls_url, "agv-0001", username="agv-0001", password="not-the-password",
                          ca_file=str(setup.ca_file), connect_timeout_s=5)
    with pytest.raises(BusConnectionError):
        wrong.connect()
    anonymous_plain = MqttTransport(setup.plain_url, "anon-plain", connect_timeout_s=5)
    with pytest.raises(BusConnectionError):
        anonymous_plain.connect()


def test_plaintext_client_cannot_reach_the_tls_listener(secure_broker: SecureBroker) -> None:
    setup = secure_broker.setup
    account = setup.account("controller")
    plain_to_tls = MqttTransport(f"mqtt://{setup.host}:{setup.tls_port}", "plain", username="controller",
                                 password=account.password, connect_timeout_s=3, reconnect_max_s=1)
    with pytest.raises(BusConnectionError):
        plain_to_tls.connect()
    # and the real command-line client too, which leaves a broker log line but no session
    if shutil.which("mosquitto_pub"):
        done = subprocess.run(["mosquitto_pub", "-h", setup.host, "-p", str(setup.tls_port),
                               "-t", "uagv/v2/bulletyard/agv-0001/order", "-m", "{}"],
                              capture_output=True, timeout=20, check=False,
                              env=mosquitto_login(setup, "controller", setup.folder))
        assert done.returncode != 0


def test_tls_client_checks_the_broker_certificate(secure_broker: SecureBroker, tmp_path) -> None:  # noqa: ANN001
    setup = secure_broker.setup
    other = tmp_path / "other"
    other.mkdir()
    from bulletyard.secure_broker import make_certificates

    make_certificates(other, hostnames=["127.0.0.1"])
    stranger = MqttTransport(setup.tls_url, "controller", username="controller",
                             password=setup.account("controller").password, ca_file=str(other / "ca.crt"),
                             connect_timeout_s=5)
    with pytest.raises(BusConnectionError):
        stranger.connect()


def test_every_account_logs_in_over_tls_and_gets_its_own_traffic(secure_broker: SecureBroker) -> None:
    setup = secure_broker.setup
    controller, robot, wms = login(setup, "controller"), login(setup, "agv-0001"), login(setup, "wms")
    for t in (controller, robot, wms):
        t.connect()
    try:
        robot.subscribe("uagv/v2/bulletyard/agv-0001/order", qos=0)
        wms.subscribe("bulletyard/v1/site1/orderStatus", qos=1)
        controller.subscribe("uagv/v2/bulletyard/+/state", qos=0)
        controller.subscribe("bulletyard/v1/site1/orders", qos=1)
        controller.publish("uagv/v2/bulletyard/agv-0001/order", b'{"orderId": "o1"}')
        controller.publish("bulletyard/v1/site1/orderStatus", b'{"status": "accepted"}', qos=1)
        robot.publish("uagv/v2/bulletyard/agv-0001/state", b'{"orderId": "o1"}')
        wms.publish("bulletyard/v1/site1/orders", b'{"orderId": "w1"}', qos=1)
        assert topics(collect_until(robot, _arrived("uagv/v2/bulletyard/agv-0001/order"), 5)) == [
            "uagv/v2/bulletyard/agv-0001/order"]
        assert topics(collect_until(wms, _arrived("bulletyard/v1/site1/orderStatus"), 5)) == [
            "bulletyard/v1/site1/orderStatus"]
        got = set(topics(collect_until(controller, lambda g: len(g) >= 2, 5)))
        assert got == {"uagv/v2/bulletyard/agv-0001/state", "bulletyard/v1/site1/orders"}
    finally:
        for t in (controller, robot, wms):
            t.close()


@pytest.mark.parametrize("qos", [0, 1])
def test_robot_cannot_publish_on_another_robots_topics(secure_broker: SecureBroker, qos: int) -> None:
    setup = secure_broker.setup
    monitor, robot_a = login(setup, "monitor"), login(setup, "agv-0001")
    monitor.connect()
    monitor.subscribe("uagv/#", qos=1)
    robot_a.connect()
    try:
        forged = ["uagv/v2/bulletyard/agv-0002/state", "uagv/v2/bulletyard/agv-0002/connection",
                  "uagv/v2/bulletyard/agv-0002/order", "uagv/v2/bulletyard/agv-0001/order"]
        for topic in forged:
            robot_a.publish(topic, b'{"forged": true}', qos=qos)
        control = "uagv/v2/bulletyard/agv-0001/state"
        robot_a.publish(control, b'{"control": true}', qos=qos)
        got = collect_until(monitor, _arrived(control), 5)
        assert control in topics(got), "the positive control never arrived"
        got += collect_until(monitor, lambda g: False, GRACE_S)
        assert topics(got) == [control]
    finally:
        robot_a.close()
        monitor.close()


def test_robot_cannot_read_another_robots_orders(secure_broker: SecureBroker) -> None:
    setup = secure_broker.setup
    controller, robot_a = login(setup, "controller"), login(setup, "agv-0001")
    controller.connect()
    robot_a.connect()
    try:
        try:
            robot_a.subscribe("uagv/v2/bulletyard/agv-0002/order")
        except BusConnectionError:
            pass  # refused outright is fine too; Mosquitto 2 with MQTT 3.1.1 grants and filters
        robot_a.subscribe("uagv/v2/bulletyard/agv-0001/order")
        controller.publish("uagv/v2/bulletyard/agv-0002/order", b'{"for": "B"}')
        controller.publish("uagv/v2/bulletyard/agv-0001/order", b'{"for": "A"}')
        got = collect_until(robot_a, _arrived("uagv/v2/bulletyard/agv-0001/order"), 5)
        got += collect_until(robot_a, lambda g: False, GRACE_S)
        assert topics(got) == ["uagv/v2/bulletyard/agv-0001/order"]
    finally:
        robot_a.close()
        controller.close()


def test_wms_account_cannot_send_vehicle_orders(secure_broker: SecureBroker) -> None:
    setup = secure_broker.setup
    monitor, robot, wms = login(setup, "monitor"), login(setup, "agv-0001"), login(setup, "wms")
    for t in (monitor, robot, wms):
        t.connect()
    monitor.subscribe("uagv/#", qos=1)
    monitor.subscribe("bulletyard/v1/#", qos=1)
    robot.subscribe("uagv/v2/bulletyard/agv-0001/+", qos=1)
    try:
        for qos in (0, 1):
            wms.publish("uagv/v2/bulletyard/agv-0001/order", b'{"orderId": "evil"}', qos=qos)
            wms.publish("uagv/v2/bulletyard/agv-0001/instantActions", b'{"actions": []}', qos=qos)
            wms.publish("bulletyard/v1/site1/orderStatus", b'{"forged": true}', qos=qos)
            wms.publish("bulletyard/v1/site1/sorter/sorter-1/destination", b'{"forged": true}', qos=qos)
        control = "bulletyard/v1/site1/orders"
        wms.publish(control, b'{"orderId": "w1"}', qos=0)
        wms.publish(control, b'{"orderId": "w2"}', qos=1)
        got = collect_until(monitor, lambda g: topics(g).count(control) == 2, 5)
        got += collect_until(monitor, lambda g: False, GRACE_S)
        assert topics(got) == [control, control]
        assert robot.drain() == []
    finally:
        for t in (monitor, robot, wms):
            t.close()


def test_sorter_account_is_confined_to_its_own_sorter_topics(secure_broker: SecureBroker) -> None:
    setup = secure_broker.setup
    monitor, sorter = login(setup, "monitor"), login(setup, "sorter-1")
    monitor.connect()
    monitor.subscribe("#", qos=1)
    sorter.connect()
    try:
        for topic in ("bulletyard/v1/site1/sorter/sorter-2/state",
                      "bulletyard/v1/site1/sorter/sorter-1/destination", "bulletyard/v1/site1/orderStatus",
                      "uagv/v2/bulletyard/agv-0001/order"):
            sorter.publish(topic, b"{}", qos=1)
        control = "bulletyard/v1/site1/sorter/sorter-1/state"
        sorter.publish(control, b"{}", qos=1)
        got = collect_until(monitor, _arrived(control), 5)
        got += collect_until(monitor, lambda g: False, GRACE_S)
        assert topics(got) == [control]
    finally:
        sorter.close()
        monitor.close()


def test_monitor_account_only_reads(secure_broker: SecureBroker) -> None:
    setup = secure_broker.setup
    monitor, robot = login(setup, "monitor"), login(setup, "agv-0001")
    monitor.connect()
    robot.connect()
    robot.subscribe("uagv/v2/bulletyard/agv-0001/order", qos=1)
    monitor.subscribe("uagv/#", qos=1)
    try:
        monitor.publish("uagv/v2/bulletyard/agv-0001/order", b'{"orderId": "from-monitor"}', qos=1)
        robot.publish("uagv/v2/bulletyard/agv-0001/state", b"{}", qos=1)
        got = collect_until(monitor, _arrived("uagv/v2/bulletyard/agv-0001/state"), 5)
        got += collect_until(monitor, lambda g: False, GRACE_S)
        assert topics(got) == ["uagv/v2/bulletyard/agv-0001/state"]
        assert robot.drain() == []
    finally:
        robot.close()
        monitor.close()


def test_password_hash_is_what_mosquitto_passwd_writes(tmp_path) -> None:  # noqa: ANN001
    """Same salt, same password: our ``$7$`` line equals the one ``mosquitto_passwd`` writes."""
    if shutil.which("mosquitto_passwd") is None:
        pytest.skip("mosquitto_passwd is not installed")
    path = tmp_path / "pw"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(path), "alice", "s3cret"], check=True, timeout=20)
    theirs = path.read_text().strip().split(":", 1)[1]
    _, seven, iterations, salt_b64, _digest = theirs.split("$")
    import base64

    ours = mosquitto_password_hash("s3cret", salt=base64.b64decode(salt_b64), iterations=int(iterations))
    assert seven == "7"
    assert ours == theirs
