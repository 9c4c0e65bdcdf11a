"""One network thread for many ``MqttTransport`` clients: how one process hosts hundreds of vehicles.

Each vehicle must have its own MQTT connection (its own client id and last will), but paho's
``loop_start`` gives every client its own thread plus a socket pair, and its ``select()`` loop
breaks once file descriptors pass 1024 (about 330 clients in one process). :class:`SharedNetworkLoop`
serves all clients from one thread with an epoll selector instead, using paho's external-loop API
(``loop_read`` / ``loop_write`` / ``loop_misc``):

- :meth:`SharedNetworkLoop.attach` makes a transport's ``connect`` register its socket here
  rather than start a thread, and its ``close`` unregister it; everything else about
  ``MqttTransport`` (inbox, handlers, acks, wills) is unchanged.
- Every socket write happens on the loop thread (paho calls ``on_socket_register_write`` when a
  packet is queued; the loop is woken through its own socket pair), so a publish from the fleet
  thread never races a write from the network thread.
- ``loop_misc`` (keepalive pings) runs for every client once a second.
- A connection lost while attached is re-established with exponential back-off
  (0.5 s doubling to 30 s); MqttTransport's ``on_connect`` then resubscribes.

It lives beside the VDA 5050 models because the robots helper owns this folder; it only needs
``bus.mqtt`` and belongs next to it.
"""

from __future__ import annotations

import logging
import selectors
import socket
import threading
import time
from typing import Any

from bus.mqtt import MqttTransport

log = logging.getLogger(__name__)

MISC_INTERVAL_S = 1.0
RECONNECT_MIN_S = 0.5
RECONNECT_MAX_S = 30.0


class SharedNetworkLoop:
    """An epoll-driven network thread serving many paho clients (see the module docstring)."""

    def __init__(self, name: str = "mqtt-shared-loop", *, activity: threading.Event | None = None) -> None:
        """``activity`` (optional) is set after every read from any socket, so a runner can wait on it."""
        self.activity = activity
        self._sel = selectors.DefaultSelector()
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._sel.register(self._wake_r, selectors.EVENT_READ, None)
        self._clients: dict[Any, Any] = {}  # paho client -> registered socket (or None)
        self._to_add: list[Any] = []
        self._to_remove: list[Any] = []
        self._want_write: set[Any] = set()
        self._retry: dict[Any, tuple[float, float]] = {}  # client -> (when, delay)
        self._woken = False
        self._stop = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    # --- wiring ---------------------------------------------------------------------------
    def attach(self, transport: MqttTransport) -> MqttTransport:
        """Route ``transport``'s network work through this loop (call before ``connect``); a client
        the transport makes to connect again after a close is routed here too."""
        transport.use_network_loop(self)
        return transport

    def adopt(self, client: Any) -> None:
        """Serve one paho client: its ``loop_start``/``loop_stop`` register and unregister its
        socket here, and its queued writes wake this thread (paho's external-loop API)."""
        client.loop_start = lambda: self._add(client)
        client.loop_stop = lambda: self._remove(client)
        client.on_socket_register_write = lambda c, userdata, sock: self._request_write(c)
        client.on_socket_unregister_write = lambda c, userdata, sock: None

    def _wake(self) -> None:
        if not self._woken:
            self._woken = True
            try:
                self._wake_w.send(b"x")
            except OSError:  # buffer full (already woken) or the loop was closed
                pass

    def _add(self, client: Any) -> None:
        with self._lock:
            self._to_add.append(client)
            self._wake()

    def _remove(self, client: Any) -> None:
        with self._lock:
            self._to_remove.append(client)  # pending writes (DISCONNECT) still go out first
            self._wake()

    def _request_write(self, client: Any) -> None:
        with self._lock:
            self._want_write.add(client)
            self._wake()

    def close(self) -> None:
        """Stop the thread (clients should be closed first)."""
        self._stop = True
        with self._lock:
            self._wake()
        self._thread.join(5)
        self._sel.close()
        self._wake_r.close()
        self._wake_w.close()

    @property
    def client_count(self) -> int:
        """Clients currently served."""
        return len(self._clients)

    # --- the thread -----------------------------------------------------------------------
    def _register(self, client: Any) -> None:
        sock = client.socket()
        old = self._clients.get(client)
        if old is not None:
            try:
                self._sel.unregister(old)
            except (KeyError, ValueError):
                pass
        self._clients[client] = sock
        if sock is not None:
            self._sel.register(sock, selectors.EVENT_READ, client)

    def _unregister(self, client: Any) -> None:
        """The transport closed: forget the client and close its socket (paho would on its next read)."""
        sock = self._clients.pop(client, None)
        self._retry.pop(client, None)
        if sock is not None:
            try:
                self._sel.unregister(sock)
            except (KeyError, ValueError):
                pass
            sock.close()  # DISCONNECT (if any) was written earlier in this pass

    def _lost(self, client: Any, now: float) -> None:
        """A connection dropped while attached: unregister it and schedule a reconnect."""
        sock = self._clients.get(client)
        if sock is not None:
            try:
                self._sel.unregister(sock)
            except (KeyError, ValueError):
                pass
            self._clients[client] = None
        if client not in self._retry:
            self._retry[client] = (now + RECONNECT_MIN_S, RECONNECT_MIN_S)

    def _reconnect_due(self, now: float) -> None:
        for client, (when, delay) in list(self._retry.items()):
            if now < when:
                continue
            try:
                client.reconnect()
            except OSError as err:
                nxt = min(RECONNECT_MAX_S, delay * 2)
                self._retry[client] = (now + nxt, nxt)
                log.debug("reconnect failed (%s); next try in %.1f s", err, nxt)
                continue
            del self._retry[client]
            self._register(client)

    def _run(self) -> None:
        next_misc = time.monotonic() + MISC_INTERVAL_S
        pending = False
        while not self._stop:
            timeout = 0.005 if pending else max(0.0, min(next_misc - time.monotonic(), 0.5))
            for key, _ in self._sel.select(timeout):
                if key.data is None:
                    try:
                        while self._wake_r.recv(4096):
                            pass
                    except BlockingIOError:
                        pass
                    continue
                client = key.data
                if client in self._clients and client.loop_read() != 0:
                    self._lost(client, time.monotonic())
                if self.activity is not None:
                    self.activity.set()
            with self._lock:
                self._woken = False
                adds, self._to_add = self._to_add, []
                removes, self._to_remove = self._to_remove, []
                writes, self._want_write = self._want_write, set()
            for client in adds:
                self._register(client)
            pending = False
            for client in writes:
                if client.loop_write() != 0 and client in self._clients:
                    self._lost(client, time.monotonic())
                elif client.want_write():  # socket buffer full: try again on the next pass
                    pending = True
                    with self._lock:
                        self._want_write.add(client)
            for client in removes:
                self._unregister(client)
            now = time.monotonic()
            if now >= next_misc:
                next_misc = now + MISC_INTERVAL_S
                for client, sock in list(self._clients.items()):
                    if sock is not None and client.loop_misc() != 0:
                        self._lost(client, now)
                self._reconnect_due(now)
