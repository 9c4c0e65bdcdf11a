"""A TCP forwarder that can partition a client from the broker without closing anything.

A real cable pull or a Wi-Fi dead zone sends no FIN and no RST: both TCP ends stay open and the
bytes just stop. Closing the client socket (``close(clean=False)``) is not the same thing, since
the broker sees the FIN at once. This proxy sits between a client and the broker; after
:meth:`PartitionProxy.partition` it stops moving bytes in both directions but keeps every socket
open, so only the MQTT keepalive (1.5 x keepalive without a packet) can reveal the loss.
TLS passes through untouched (the proxy never looks inside).
"""

from __future__ import annotations

import selectors
import socket
import threading


class PartitionProxy:
    """Forwards ``127.0.0.1:port`` to ``target``; one thread, selectors, bounded buffers.

    Args:
        target: (host, port) of the broker.
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.setblocking(False)
        self.port = int(self._listener.getsockname()[1])
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._listener, selectors.EVENT_READ, None)
        self._peer: dict[socket.socket, socket.socket] = {}
        self._partitioned = threading.Event()
        self._stop = threading.Event()
        self._wake_r, self._wake_w = socket.socketpair()
        self._sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._thread = threading.Thread(target=self._run, name="partition-proxy", daemon=True)
        self._thread.start()

    @property
    def url_host_port(self) -> str:
        """``127.0.0.1:PORT`` to put in a broker URL."""
        return f"127.0.0.1:{self.port}"

    def partition(self) -> None:
        """Stop forwarding (both directions); sockets stay open and unread."""
        self._partitioned.set()
        self._wake_w.send(b"x")

    def close(self) -> None:
        """Stop the thread and close every socket."""
        self._stop.set()
        self._wake_w.send(b"x")
        self._thread.join(timeout=5)
        for s in [*self._peer, self._listener, self._wake_r, self._wake_w]:
            s.close()
        self._sel.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._sel.select(timeout=0.5):
                sock = key.fileobj
                if key.data == "wake":
                    self._wake_r.recv(64)
                    if self._partitioned.is_set():  # stop reading: bytes pile up in kernel buffers
                        for s in list(self._peer):
                            try:
                                self._sel.unregister(s)
                            except KeyError:
                                pass
                elif sock is self._listener:
                    self._accept()
                else:
                    self._forward(sock)  # type: ignore[arg-type]

    def _accept(self) -> None:
        client, _ = self._listener.accept()
        upstream = socket.create_connection(self.target, timeout=5)
        for s in (client, upstream):
            s.setblocking(True)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._peer[client] = upstream
        self._peer[upstream] = client
        if not self._partitioned.is_set():
            self._sel.register(client, selectors.EVENT_READ, "data")
            self._sel.register(upstream, selectors.EVENT_READ, "data")

    def _forward(self, sock: socket.socket) -> None:
        other = self._peer[sock]
        try:
            data = sock.recv(65536)
        except OSError:
            data = b""
        if not data:  # an orderly close on one side: pass it on (not a partition)
            for s in (sock, other):
                try:
                    self._sel.unregister(s)
                except KeyError:
                    pass
                s.close()
                self._peer.pop(s, None)
            return
        other.sendall(data)
