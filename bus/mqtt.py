"""``MqttTransport``: the Transport port on a real MQTT broker with paho-mqtt 2.x.

paho's network thread (``loop_start``) only enqueues: inbound messages go into a deque guarded
by a ``threading.Condition`` so the runner can :meth:`MqttTransport.wait` on it and
:meth:`~MqttTransport.drain` in order; no handler or controller code ever runs on that thread.
Reconnects are automatic with exponential back-off (``reconnect_min_s`` doubling up to
``reconnect_max_s``) and every subscription is sent again in ``on_connect``. QoS 1 publishes are
tracked until acknowledged so :meth:`~MqttTransport.flush` can wait for them.

``close(clean=False)`` shuts the TCP socket down without an MQTT DISCONNECT, which is exactly
what a crash or a cable pull looks like to the broker: it publishes the last will.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from collections import deque
from typing import Protocol

import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from bus.handlers import HandlerDispatch, HandlerTable, as_payload, check_qos, take
from bus.mqtt_client import PROTOCOLS, ClientSettings, make_paho_client
from bus.mqtt_url import BusConfigError, check_tls, parse_broker_url, redact_url
from bus.topicmatch import check_topic_filter, check_topic_name
from bus.transport import Envelope, Handler, NotConnectedError

log = logging.getLogger(__name__)

_RESUBSCRIBE_PENDING = -1  # stands for the resubscription between on_connect and its SUBSCRIBE


class BusConnectionError(ConnectionError):
    """The broker could not be reached, refused the connection, or did not answer in time."""


class NetworkLoop(Protocol):
    """Something that serves paho clients' sockets from its own thread (see
    :class:`bus.vda5050.shared_loop.SharedNetworkLoop`): hundreds of vehicles in one process
    cannot each have a network thread."""

    def adopt(self, client: paho.Client) -> None:
        """Take over ``client``'s network loop (its ``loop_start``/``loop_stop`` and write wakeups)."""
        ...


class MqttTransport(HandlerDispatch):
    """A client of an MQTT broker; implements :class:`bus.transport.Transport`.

    Args:
        url: ``mqtt://host:port`` or ``mqtts://host:port`` (see :func:`bus.mqtt_url.parse_broker_url`).
        client_id: the MQTT client id (unique per participant; persistent sessions are keyed on it).
        username: optional; overrides one given in the URL.
        password: optional; overrides one given in the URL.
        ca_file: PEM CA bundle; required for ``mqtts://``.
        cert_file: client certificate (PEM) for mutual TLS.
        key_file: the client certificate's key, if not inside ``cert_file``.
        keepalive_s: MQTT keepalive in seconds; the broker declares us dead after 1.5 times that.
        protocol: ``"3.1.1"`` (default) or ``"5"``.
        clean_session: False asks the broker to keep subscriptions and queue QoS 1 while we are away.
        reconnect_min_s: first reconnect delay; doubles after each failure.
        reconnect_max_s: ceiling of the reconnect delay.
        connect_timeout_s: how long :meth:`connect` waits for the broker's CONNACK.
        ack_timeout_s: how long :meth:`subscribe` / :meth:`unsubscribe` wait for the broker's ack.
        session_expiry_s: MQTT 5 only: how long the broker keeps a persistent session.
        max_inflight: cap on unacknowledged QoS 1 publishes; 0 (default): none. While capped,
            paho rescans its queue on every PUBACK, which halved QoS 1 throughput.
        tcp_nodelay: no Nagle delay on small messages (with the broker's ``set_tcp_nodelay``,
            QoS 0 state at 2,000/s went from p50 about 24 ms to 0.5 ms).
    """

    def __init__(
        self,
        url: str,
        client_id: str,
        *,
        username: str | None = None,
        password: str | None = None,
        ca_file: str | None = None,
        cert_file: str | None = None,
        key_file: str | None = None,
        keepalive_s: int = 30,
        protocol: str = "3.1.1",
        clean_session: bool = True,
        reconnect_min_s: float = 0.5,
        reconnect_max_s: float = 30.0,
        connect_timeout_s: float = 10.0,
        ack_timeout_s: float = 10.0,
        session_expiry_s: int = 3600,
        max_inflight: int = 0,
        tcp_nodelay: bool = True,
    ) -> None:
        if not client_id:
            raise BusConfigError("client_id must not be empty")
        if protocol not in PROTOCOLS:
            raise BusConfigError(f"protocol {protocol!r} is not supported (use '3.1.1' or '5')")
        if not 0 < reconnect_min_s <= reconnect_max_s:
            raise BusConfigError("need 0 < reconnect_min_s <= reconnect_max_s")
        self.url = url
        self.address = parse_broker_url(url)
        self.client_id = client_id
        self.protocol = protocol
        self.clean_session = clean_session
        self.keepalive_s = int(keepalive_s)
        self.connect_timeout_s = connect_timeout_s
        self.ack_timeout_s = ack_timeout_s
        self._session_expiry_s = session_expiry_s
        self._settings = ClientSettings(
            client_id=client_id,
            protocol=protocol,
            clean_session=clean_session,
            reconnect_s=(reconnect_min_s, reconnect_max_s),
            max_inflight=max_inflight,
            username=username if username is not None else self.address.username,
            password=password if password is not None else self.address.password,
            tls=check_tls(self.address, ca_file, cert_file, key_file),
            tcp_nodelay=tcp_nodelay,
        )
        self._network_loop: NetworkLoop | None = None
        self._client = self._new_client()
        self._client_used = False

        self._cond = threading.Condition()
        self._inbox: deque[Envelope] = deque()
        self._table = HandlerTable()
        self._connected = False
        self._connect_failure: str | None = None
        self._started = False
        self._inflight: set[int] = set()
        self._acks: dict[int, list[int]] = {}
        self._resubscribing: set[int] = set()
        self.connections = 0
        """How many times a CONNACK was accepted (1 + reconnects)."""

    def _new_client(self) -> paho.Client:
        """A configured paho client with our callbacks (a fresh one per connect)."""
        client = make_paho_client(self._settings)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        client.on_subscribe = self._on_subscribe
        client.on_unsubscribe = self._on_unsubscribe
        if self._network_loop is not None:
            self._network_loop.adopt(client)
        return client

    def use_network_loop(self, loop: NetworkLoop) -> None:
        """Let ``loop`` do this transport's socket work instead of a thread of its own (call before
        :meth:`connect`). It adopts the current paho client and every one a later connect creates."""
        self._network_loop = loop
        loop.adopt(self._client)

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True while the broker has accepted our connection."""
        return self._connected

    def connect(self, will: Envelope | None = None) -> None:
        """Connect and wait for the broker's CONNACK; raise :class:`BusConnectionError` if it fails."""
        if self._started:
            raise RuntimeError(f"{self.client_id} is already connected")
        if self._client_used:
            self._client = self._new_client()  # connecting again after close(): nothing stale is resent
        self._client_used = True
        client = self._client
        with self._cond:
            self._inflight.clear()
            self._connect_failure = None
        if will is not None:
            check_topic_name(will.topic)
            client.will_set(will.topic, will.payload, check_qos(will.qos), will.retain)
        properties = None
        if self.protocol == "5":
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]  # paho leaves it unannotated
            properties.SessionExpiryInterval = 0 if self.clean_session else self._session_expiry_s
        where = f"{self.address.host}:{self.address.port}"
        try:
            client.connect(
                self.address.host,
                self.address.port,
                keepalive=self.keepalive_s,
                clean_start=self.clean_session if self.protocol == "5" else paho.MQTT_CLEAN_START_FIRST_ONLY,
                properties=properties,
            )
        except ssl.SSLError as err:
            raise BusConnectionError(f"TLS handshake with MQTT broker {where} failed: {err}") from err
        except OSError as err:
            url = redact_url(self.url)
            raise BusConnectionError(f"cannot reach MQTT broker at {where} ({url}): {err}") from err
        self._started = True
        client.loop_start()
        deadline = time.monotonic() + self.connect_timeout_s
        with self._cond:
            done = self._cond.wait_for(
                lambda: self._connected or self._connect_failure is not None,
                max(0.0, deadline - time.monotonic()),
            )
            failure = self._connect_failure
        if failure is not None or not done:
            self._abort()
            reason = failure or f"no CONNACK within {self.connect_timeout_s} s"
            raise BusConnectionError(f"MQTT broker at {where} did not accept {self.client_id!r}: {reason}")

    def close(self, clean: bool = True) -> None:
        """Disconnect. ``clean=False`` drops the TCP connection with no DISCONNECT: the will goes out."""
        if not self._started:
            return
        self._started = False
        client = self._client
        if clean:
            if self._connected:
                self.flush(self.ack_timeout_s)
            client.disconnect()
            client.loop_stop()
        else:
            self._abort()
        with self._cond:
            self._connected = False
            abandoned = len(self._inflight)
            self._inflight.clear()
            self._cond.notify_all()
        if abandoned:
            log.warning("%s: closed with %d QoS 1 messages never acknowledged", self.client_id, abandoned)

    def _abort(self) -> None:
        """Stop reconnecting and shut the socket down under paho (no DISCONNECT packet)."""
        client = self._client
        # paho only takes this as a constructor argument; the loop reads it after a socket error.
        client._reconnect_on_failure = False
        sock = client.socket()
        if isinstance(sock, socket.socket):  # TCP or TLS (websockets are refused by parse_broker_url)
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        client.loop_stop()
        self._started = False

    # -- publish / subscribe ----------------------------------------------------------------

    def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> None:
        """Send a message. QoS 1 is kept (and resent after a reconnect) until the broker acks it.

        Raises :class:`NotConnectedError` before :meth:`connect` and after :meth:`close`; while
        paho is reconnecting, QoS 0 messages are dropped and QoS 1 ones wait.
        """
        if not self._started:
            raise NotConnectedError(f"{self.client_id}: publish to {topic!r} while not connected")
        if qos != 0 and qos != 1:
            check_qos(qos)
        if type(payload) is not bytes:
            payload = as_payload(payload)
        if "+" in topic or "#" in topic or not topic:
            check_topic_name(topic)
        if qos == 0:
            info = self._client.publish(topic, payload, 0, retain)
        else:
            # paho calls on_publish (PUBACK) while holding this re-entrant lock: holding it here
            # too means the ack cannot be handled before the mid is recorded as in flight.
            with self._client._out_message_mutex:
                info = self._client.publish(topic, payload, qos, retain)
                if info.rc in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
                    with self._cond:
                        self._inflight.add(info.mid)
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            raise BusConnectionError(f"publish to {topic!r} failed: {paho.error_string(info.rc)}")
        if info.rc == MQTTErrorCode.MQTT_ERR_NO_CONN and qos == 0:
            log.debug("QoS 0 message to %s dropped: not connected", topic)

    def subscribe(self, topic_filter: str, handler: Handler | None = None, qos: int = 0) -> None:
        """Subscribe and, when connected, wait for the broker's SUBACK (so publishes after this arrive)."""
        check_qos(qos)
        check_topic_filter(topic_filter)
        with self._cond:
            self._table.add(topic_filter, qos, handler)
            connected = self._connected
        if not connected:
            return  # on_connect will send it
        result, mid = self._client.subscribe(topic_filter, qos)
        if result == MQTTErrorCode.MQTT_ERR_SUCCESS and mid is not None:  # paho gives a mid on success
            codes = self._wait_ack(mid, f"SUBACK for {topic_filter!r}")
            if codes is not None and any(code >= 0x80 for code in codes):
                raise BusConnectionError(f"broker refused subscription to {topic_filter!r} (code {codes})")

    def unsubscribe(self, topic_filter: str) -> None:
        """Unsubscribe and, when connected, wait for the UNSUBACK."""
        self._table.remove(topic_filter)
        if not self._connected:
            return
        result, mid = self._client.unsubscribe(topic_filter)
        if result == MQTTErrorCode.MQTT_ERR_SUCCESS and mid is not None:
            self._wait_ack(mid, f"UNSUBACK for {topic_filter!r}")

    def _wait_ack(self, mid: int, what: str) -> list[int] | None:
        with self._cond:
            ok = self._cond.wait_for(lambda: mid in self._acks or not self._connected, self.ack_timeout_s)
            if mid in self._acks:
                return self._acks.pop(mid)
        if not ok:
            raise BusConnectionError(f"{self.client_id}: no {what} within {self.ack_timeout_s} s")
        return None  # disconnected meanwhile: on_connect resubscribes

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until every QoS 1 publish so far is acknowledged; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._inflight, timeout_s)

    def wait_ready(self, timeout_s: float = 10.0) -> bool:
        """Wait until connected with every subscription acknowledged (e.g. after a broker restart)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._connected and not self._resubscribing, timeout_s)

    def in_flight(self) -> int:
        """QoS 1 publishes not yet acknowledged."""
        with self._cond:
            return len(self._inflight)

    # -- inbound ----------------------------------------------------------------------------

    def drain(self, max_messages: int | None = None) -> list[Envelope]:
        """Take queued inbound messages, oldest first (thread-safe)."""
        with self._cond:
            return take(self._inbox, max_messages)

    def wait(self, timeout_s: float) -> bool:
        """Block up to ``timeout_s`` until an inbound message is queued; True if one is."""
        with self._cond:
            return self._cond.wait_for(lambda: bool(self._inbox), timeout_s)

    def pending(self) -> int:
        """How many inbound messages are queued."""
        return len(self._inbox)

    # -- paho callbacks (network thread: enqueue and notify only) ----------------------------

    def _on_connect(
        self, client: paho.Client, userdata: object, flags: paho.ConnectFlags, reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            with self._cond:
                self._connect_failure = str(reason_code)
                self._cond.notify_all()
            log.warning("%s: broker refused connection: %s", self.client_id, reason_code)
            return
        with self._cond:  # snapshot and "connected" together: a racing subscribe() sends its own
            filters = self._table.filters()
            self._connected = True
            self._connect_failure = None
            self.connections += 1
            if filters:
                self._resubscribing.add(_RESUBSCRIBE_PENDING)
        mid = None
        if filters:  # SUBACK is handled later on this same thread, so recording the mid after is safe
            result, mid = client.subscribe(filters)
            if result != MQTTErrorCode.MQTT_ERR_SUCCESS:
                mid = None
        with self._cond:
            self._resubscribing.discard(_RESUBSCRIBE_PENDING)
            if mid is not None:
                self._resubscribing.add(mid)
            self._cond.notify_all()
        if self.connections > 1:
            log.info("%s: reconnected, resubscribed %d filters", self.client_id, len(filters))

    def _on_disconnect(
        self, client: paho.Client, userdata: object, flags: paho.DisconnectFlags, reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        with self._cond:
            self._connected = False
            self._resubscribing.clear()
            self._cond.notify_all()
        if self._started:
            log.warning("%s: connection lost (%s); reconnecting", self.client_id, reason_code)

    def _on_message(self, client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        received_s = time.monotonic()
        # paho types the payload bytes | bytearray; bytes() of bytes is the same object (no copy)
        payload = bytes(message.payload)
        envelope = Envelope(message.topic, payload, message.qos, bool(message.retain), received_s)
        with self._cond:
            inbox = self._inbox
            inbox.append(envelope)
            if len(inbox) == 1:  # waiters only wait on an empty inbox: wake them once per batch
                self._cond.notify_all()

    def _on_publish(
        self, client: paho.Client, userdata: object, mid: int, reason_code: ReasonCode, properties: Properties
    ) -> None:
        with self._cond:
            if mid in self._inflight:  # QoS 0 mids are never in the set
                self._inflight.discard(mid)
                if not self._inflight:
                    self._cond.notify_all()

    def _on_subscribe(
        self, client: paho.Client, userdata: object, mid: int, reason_codes: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        with self._cond:
            if mid in self._resubscribing:
                self._resubscribing.discard(mid)
            else:
                self._acks[mid] = [int(code.value) for code in reason_codes]
            self._cond.notify_all()

    def _on_unsubscribe(
        self, client: paho.Client, userdata: object, mid: int, reason_codes: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        with self._cond:
            self._acks[mid] = [int(code.value) for code in reason_codes] if reason_codes else []
            self._cond.notify_all()
