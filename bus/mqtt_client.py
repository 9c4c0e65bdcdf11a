"""A paho-mqtt 2 client configured for the bus: protocol, auth, TLS, back-off, in-flight, Nagle.

:class:`bus.mqtt.MqttTransport` makes a fresh one on every :meth:`~bus.mqtt.MqttTransport.connect`
(so nothing stale from an earlier connection is resent) and attaches its own callbacks.
"""

from __future__ import annotations

import logging
import socket
import ssl
from dataclasses import dataclass

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from bus.mqtt_url import TlsFiles

log = logging.getLogger(__name__)

PROTOCOLS = {"3.1.1": paho.MQTTv311, "5": paho.MQTTv5}


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """Everything a paho client needs before connecting.

    Attributes:
        client_id: the MQTT client id.
        protocol: ``"3.1.1"`` or ``"5"``.
        clean_session: MQTT 3.1.1 clean-session flag (MQTT 5 sets clean start at connect).
        reconnect_s: (first, longest) reconnect delay in seconds; doubles after each failure.
        max_inflight: cap on unacknowledged QoS 1 publishes, 0 for none.
        username: optional user name.
        password: optional password.
        tls: TLS files, or None for plaintext.
        tcp_nodelay: disable Nagle's algorithm on the socket.
    """

    client_id: str
    protocol: str
    clean_session: bool
    reconnect_s: tuple[float, float]
    max_inflight: int
    username: str | None
    password: str | None
    tls: TlsFiles | None
    tcp_nodelay: bool


def set_tcp_nodelay(client: paho.Client, userdata: object, sock: paho.SocketLike) -> None:
    """Disable Nagle's algorithm on the broker connection (TLS sockets included)."""
    if not isinstance(sock, socket.socket):  # paho's socket-like wrappers take no options
        log.debug("could not set TCP_NODELAY on %r", sock)
        return
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        log.debug("could not set TCP_NODELAY on %r", sock)


def make_paho_client(settings: ClientSettings) -> paho.Client:
    """A paho client with callback API v2, ready for ``connect``; callbacks are the caller's."""
    client = paho.Client(
        CallbackAPIVersion.VERSION2,
        client_id=settings.client_id,
        protocol=PROTOCOLS[settings.protocol],
        clean_session=None if settings.protocol == "5" else settings.clean_session,
    )
    client.reconnect_delay_set(*settings.reconnect_s)  # type: ignore[arg-type]
    client.max_inflight_messages_set(settings.max_inflight)
    client.max_queued_messages_set(0)  # unbounded: QoS 1 waits while offline instead of failing
    if settings.username is not None:
        client.username_pw_set(settings.username, settings.password)
    if settings.tls is not None:
        client.tls_set(
            ca_certs=settings.tls.ca_file,
            certfile=settings.tls.cert_file,
            keyfile=settings.tls.key_file,
            cert_reqs=ssl.CERT_REQUIRED,
            tls_version=ssl.PROTOCOL_TLS_CLIENT,
        )
    if settings.tcp_nodelay:
        client.on_socket_open = set_tcp_nodelay
    return client
