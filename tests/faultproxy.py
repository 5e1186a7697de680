"""A fault-injecting TCP proxy on 127.0.0.1, put between congsync and the real TLS test server.

TLS runs end to end through it, so it acts on bytes, not on HTTP: it can reset a connection
after some bytes of the server's answer, stall one (stop forwarding, sockets left open), or
slow every connection down in both directions. Status-code faults (500, 429, 423, ...) are the
test server's own middleware (`davserver.FaultController`); this covers what only the
network does.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass

__all__ = ["FaultProxy"]

CHUNK = 16 * 1024
MAX_STALL_SECONDS = 60.0  # a stalled connection is let go after this, whatever the test does


@dataclass
class _Rule:
    kind: str  # "reset" or "stall"
    after_bytes: int  # of the server's answer on that connection
    connections: int | None  # how many connections it still hits; None: every one


class _Link:
    """One client connection and its upstream twin."""

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client = client
        self.upstream = upstream
        self.down_bytes = 0  # server -> client
        self.up_bytes = 0  # client -> server
        self.rule: _Rule | None = None
        self.closed = threading.Event()

    def close(self, *, reset: bool = False) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                if reset:
                    # linger 0: close() sends RST instead of FIN
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()


class FaultProxy:
    """Forwards 127.0.0.1:port to 127.0.0.1:upstream_port, with faults armed by the test."""

    def __init__(self, upstream_port: int, port: int = 0) -> None:
        self.upstream_port = upstream_port
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._rate: int | None = None  # bytes per second per direction and connection
        self._links: list[_Link] = []
        self._released = threading.Event()
        self.connections = 0  # accepted so far
        self.faults_fired: list[str] = []  # "reset" / "stall", in the order they hit
        self._listener = socket.create_server(("127.0.0.1", port), reuse_port=False)
        self.port: int = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, name="faultproxy", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/"

    # -- arming -------------------------------------------------------------------------------

    def reset_after(self, after_bytes: int, connections: int | None = 1) -> None:
        """The next `connections` connections whose answer passes `after_bytes` are reset (RST)."""
        with self._lock:
            self._rules.append(_Rule("reset", after_bytes, connections))

    def stall_after(self, after_bytes: int, connections: int | None = 1) -> None:
        """The next `connections` connections whose answer passes `after_bytes` stop moving
        (nothing forwarded either way, nothing closed) until `release()`."""
        with self._lock:
            self._rules.append(_Rule("stall", after_bytes, connections))
            self._released.clear()

    def throttle(self, bytes_per_second: int | None) -> None:
        """Forward about `bytes_per_second` each way on each connection (None: full speed)."""
        with self._lock:
            self._rate = bytes_per_second

    def release(self) -> None:
        """Disarm every fault, full speed again, and let stalled connections go (closed)."""
        with self._lock:
            self._rules.clear()
            self._rate = None
            self._released.set()

    def stop(self) -> None:
        self.release()
        self._stopping.set()
        self._thread.join(5)
        self._listener.close()
        with self._lock:
            links = list(self._links)
        for link in links:
            link.close()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- forwarding ---------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                ready, _w, _x = select.select([self._listener], [], [], 0.2)
                if not ready:
                    continue
                client, _addr = self._listener.accept()
            except (OSError, ValueError):
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()  # the server is down: the client sees the connection close
                continue
            link = _Link(client, upstream)
            with self._lock:
                self.connections += 1
                self._links.append(link)
            threading.Thread(target=self._pump, args=(link,), daemon=True).start()

    def _pump(self, link: _Link) -> None:
        # One thread per link, both directions: so that a reset is sent at once (a close()
        # while another thread sits in recv() on that socket would be deferred until it returns).
        try:
            while not link.closed.is_set():
                readable, _w, _x = select.select([link.client, link.upstream], [], [], 0.2)
                for source in readable:
                    down = source is link.upstream
                    target = link.client if down else link.upstream
                    data = source.recv(CHUNK)
                    if not data:
                        raise ConnectionAbortedError
                    if down and self._fault(link, data, target):
                        return
                    self._pace(len(data))
                    target.sendall(data)
                    if not down:
                        link.up_bytes += len(data)
        except OSError:
            pass
        finally:
            link.close()
            with self._lock:
                if link in self._links:
                    self._links.remove(link)

    def _fault(self, link: _Link, data: bytes, target: socket.socket) -> bool:
        """Forward what the armed rule lets through; True when the connection is done for."""
        with self._lock:
            if link.rule is None:
                for rule in self._rules:
                    if link.down_bytes + len(data) > rule.after_bytes:
                        link.rule = rule
                        if rule.connections is not None:
                            rule.connections -= 1
                            if rule.connections <= 0:
                                self._rules.remove(rule)
                        self.faults_fired.append(rule.kind)
                        break
            rule = link.rule
        if rule is None:
            link.down_bytes += len(data)
            return False
        keep = max(0, rule.after_bytes - link.down_bytes)
        if keep:
            target.sendall(data[:keep])
            link.down_bytes += keep
        if rule.kind == "reset":
            link.close(reset=True)
        else:
            self._released.wait(MAX_STALL_SECONDS)
            link.close()
        return True

    def _pace(self, n: int) -> None:
        rate = self._rate
        if rate:
            time.sleep(n / rate)
