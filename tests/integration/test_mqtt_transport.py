"""MqttTransport against real Mosquitto: TLS (never plaintext), auth, errors, flush, throughput sanity."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bus.mqtt import BusConnectionError, MqttTransport
from bus.mqtt_url import BusConfigError, parse_broker_url
from bus.transport import Envelope
from tests.broker import MosquittoBroker, free_port
from tests.bus_waits import receive
from tests.integration.tls_certs import Pki, make_pki

pytestmark = pytest.mark.broker


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def tls_broker(tmp_path: Path, pki: Pki) -> Iterator[MosquittoBroker]:
    """Mosquitto with a TLS-only listener that also requires a client certificate."""
    port = free_port()
    listener = "\n".join([
        f"listener {port} 127.0.0.1", "allow_anonymous true",
        f"cafile {pki.ca}", f"certfile {pki.server_cert}", f"keyfile {pki.server_key}",
        "require_certificate true",
        "user root",  # read the test's files from pytest's private temp folder (no privilege drop)
    ])
    broker = MosquittoBroker(tmp_path / "tls", port=port, listener_config=listener)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def test_url_parsing() -> None:
    assert parse_broker_url("mqtt://10.0.0.5:1884").port == 1884
    assert parse_broker_url("mqtt://broker").port == 1883
    address = parse_broker_url("mqtts://user:p%40ss@edge.local")
    assert (address.tls, address.port, address.username, address.password) == (True, 8883, "user", "p@ss")
    for bad, fragment in [("ws://h:1", "unsupported scheme"), ("tcp://h", "unsupported scheme"),
                          ("localhost:1883", "mqtt://host"), ("mqtt://:1883", "no host"),
                          ("mqtt://h:99999", "bad port"), ("mqtt://h/topic", "path")]:
        with pytest.raises(BusConfigError, match=fragment):
            parse_broker_url(bad)


def test_tls_settings_are_checked_before_connecting(tmp_path: Path, pki: Pki) -> None:
    with pytest.raises(BusConfigError, match="needs ca_file"):
        MqttTransport("mqtts://127.0.0.1:1", "c")
    with pytest.raises(BusConfigError, match="use mqtts://"):
        MqttTransport("mqtt://127.0.0.1:1", "c", ca_file=str(pki.ca))
    with pytest.raises(BusConfigError, match="not readable"):
        MqttTransport("mqtts://127.0.0.1:1", "c", ca_file=str(tmp_path / "missing.pem"))
    with pytest.raises(BusConfigError, match="without cert_file"):
        MqttTransport("mqtts://127.0.0.1:1", "c", ca_file=str(pki.ca), key_file=str(pki.client_key))
    with pytest.raises(BusConfigError, match="protocol"):
        MqttTransport("mqtt://127.0.0.1:1", "c", protocol="3.1")


def test_unreachable_broker_is_a_clear_error() -> None:
    port = free_port()
    with pytest.raises(BusConnectionError, match=f"cannot reach MQTT broker at 127.0.0.1:{port}"):
        MqttTransport(f"mqtt://127.0.0.1:{port}", "c").connect()


def test_mutual_tls_round_trip(tls_broker: MosquittoBroker, pki: Pki) -> None:
    url = f"mqtts://127.0.0.1:{tls_broker.port}"
    tls = dict(ca_file=str(pki.ca), cert_file=str(pki.client_cert), key_file=str(pki.client_key))
    sub = MqttTransport(url, "sub", **tls)
    pub = MqttTransport(url, "pub", **tls)
    sub.connect()
    pub.connect()
    try:
        sub.subscribe("secure/#", qos=1)
        pub.publish("secure/a", b"over tls", qos=1)
        assert [m.payload for m in receive(sub, 1)] == [b"over tls"]
    finally:
        pub.close()
        sub.close()


def test_tls_never_falls_back_to_plaintext(
    tls_broker: MosquittoBroker, pki: Pki, broker: MosquittoBroker
) -> None:
    # wrong CA: the handshake fails, no plaintext retry
    wrong = MqttTransport(f"mqtts://127.0.0.1:{tls_broker.port}", "c", ca_file=str(pki.other_ca),
                          cert_file=str(pki.client_cert), key_file=str(pki.client_key))
    with pytest.raises(BusConnectionError, match="TLS handshake"):
        wrong.connect()
    # a plaintext-only broker: asking for TLS fails instead of speaking plaintext to it
    plain_url = f"mqtts://127.0.0.1:{broker.port}"
    plain_only = MqttTransport(plain_url, "c", ca_file=str(pki.ca), connect_timeout_s=3)
    with pytest.raises(BusConnectionError):
        plain_only.connect()


def test_username_password(tmp_path: Path) -> None:
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail("mosquitto_passwd (package mosquitto) is needed for the auth test")
        pytest.skip("mosquitto_passwd is not installed")
    passwd = tmp_path / "passwd"
    subprocess.run([tool, "-b", "-c", str(passwd), "agv", "s3cret"], check=True,
                   capture_output=True, timeout=30)
    passwd.chmod(0o644)
    port = free_port()
    listener = f"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {passwd}\nuser root"
    broker = MosquittoBroker(tmp_path / "auth", port=port, listener_config=listener)
    broker.start()
    try:
        good = MqttTransport(broker.url, "good", username="agv", password="s3cret")
        good.connect()
        good.close()
        bad = MqttTransport(f"mqtt://agv:wrong@127.0.0.1:{port}", "bad", connect_timeout_s=5)
        with pytest.raises(BusConnectionError, match="did not accept 'bad': Not authorized"):
            bad.connect()
    finally:
        broker.stop()


def test_flush_waits_for_every_qos1_ack(broker: MosquittoBroker) -> None:
    pub = MqttTransport(broker.url, "pub")
    sub = MqttTransport(broker.url, "sub")
    sub.connect()
    pub.connect()
    try:
        sub.subscribe("load/#", qos=1)
        for i in range(3000):
            pub.publish(f"load/{i % 10}", b"x" * 200, qos=1)
        assert pub.flush(30)
        assert pub.in_flight() == 0
        assert len(receive(sub, 3000, timeout_s=30)) == 3000
    finally:
        pub.close()
        sub.close()


def test_qos1_published_while_broker_down_is_delivered_after_reconnect(tmp_path: Path) -> None:
    """The client keeps QoS 1 while the broker is down; the persistent session holds it for ``sub``."""
    broker = MosquittoBroker(tmp_path / "persist", persistence=True, extra_config="user root")
    broker.start()
    options = dict(reconnect_min_s=0.1, reconnect_max_s=0.5)
    sub = MqttTransport(broker.url, "sub", clean_session=False, **options)
    pub = MqttTransport(broker.url, "pub", **options)
    try:
        sub.connect()
        pub.connect()
        sub.subscribe("later/#", qos=1)
        broker.stop()
        pub.publish("later/x", b"kept", qos=1)  # queued by the client until it is back
        broker.start()
        assert pub.wait_ready(10)
        assert pub.flush(10)
        assert sub.wait_ready(10)
        assert [m.payload for m in receive(sub, 1)] == [b"kept"]
        assert pub.connections == 2
    finally:
        pub.close()
        sub.close()
        broker.stop()


def test_will_is_registered_at_connect(broker: MosquittoBroker) -> None:
    watcher = MqttTransport(broker.url, "watcher")
    watcher.connect()
    watcher.subscribe("w/#", qos=1)
    dying = MqttTransport(broker.url, "dying", keepalive_s=5)
    dying.connect(Envelope("w/dying", b"CONNECTIONBROKEN", 1, True))
    dying.close(clean=False)
    try:
        got = receive(watcher, 1)
        assert [(m.topic, m.payload) for m in got] == [("w/dying", b"CONNECTIONBROKEN")]
        assert not dying.connected
    finally:
        watcher.close()


def test_close_while_broker_is_down_returns_and_reconnect_after_close_works(broker: MosquittoBroker) -> None:
    client = MqttTransport(broker.url, "c", reconnect_min_s=0.1, reconnect_max_s=0.2, ack_timeout_s=2)
    client.connect()
    client.subscribe("r/#", qos=1)
    broker.stop()
    client.publish("r/1", b"never acked", qos=1)
    client.close()  # must not hang on the unacknowledged message or the reconnect loop
    assert not client.connected
    broker.start()
    client.connect()  # the same object connects again and resubscribes its filters
    other = MqttTransport(broker.url, "other")
    other.connect()
    try:
        other.publish("r/2", b"again", qos=1)
        assert [m.payload for m in receive(client, 1)] == [b"again"]
    finally:
        other.close()
        client.close(clean=False)


def test_silent_server_times_out_with_a_clear_error() -> None:
    """A port that accepts TCP but never answers CONNECT (not a broker): error at the deadline."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        client = MqttTransport(f"mqtt://127.0.0.1:{port}", "c", connect_timeout_s=0.5)
        with pytest.raises(BusConnectionError, match=r"no CONNACK within 0.5 s"):
            client.connect()
        assert not client.connected


CRASHING_VEHICLE = """
import sys
from bus.mqtt import MqttTransport
from bus.transport import Envelope
t = MqttTransport(sys.argv[1], "agv-crash")
t.connect(Envelope("uagv/v2/bulletyard/agv-crash/connection", b"CONNECTIONBROKEN", 1, True))
print("connected", flush=True)
sys.stdin.read()  # until killed
"""


def test_will_when_the_vehicle_process_is_killed(broker: MosquittoBroker, tmp_path: Path) -> None:
    """SIGKILL: no DISCONNECT, the kernel closes the socket, the broker publishes the will."""
    watcher = MqttTransport(broker.url, "watcher")
    watcher.connect()
    watcher.subscribe("uagv/v2/+/+/connection", qos=1)
    script = tmp_path / "vehicle.py"
    script.write_text(CRASHING_VEHICLE)
    repo = Path(__file__).resolve().parents[2]
    vehicle = subprocess.Popen([sys.executable, str(script), broker.url], cwd=repo, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(repo)})
    try:
        assert vehicle.stdout is not None
        assert vehicle.stdout.readline().strip() == b"connected"
        vehicle.kill()
        vehicle.wait(timeout=10)
        got = receive(watcher, 1)
        assert [(m.topic, m.payload) for m in got] == [
            ("uagv/v2/bulletyard/agv-crash/connection", b"CONNECTIONBROKEN")
        ]
    finally:
        if vehicle.poll() is None:
            vehicle.kill()
        watcher.close()
