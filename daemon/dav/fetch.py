"""GET requests for downloads on the standard library's http.client instead of httpx.

Measured on 1 GB over TLS on loopback from nginx (bench/get_paths.py): httpx's `iter_raw` costs
2-3 s of CPU per GB, because its transport reads the socket 64 KiB at a time (a TLS record,
16 KiB, per read) and passes every piece through h11's parser and httpx's re-chunking;
http.client's `readinto` of a 256 KiB buffer costs about 1 s, because the buffered socket reader
fills the buffer in C. Listings, writes and small files stay on httpx; only the bodies of
downloads come this way. Where httpx would go through a proxy (environment variables), the
download goes through httpx too (see `uses_proxy`).

Connections are kept alive and reused (one per download thread at a time). A connection the
server closed while it was idle is retried once on a fresh one, as httpx does.
"""

from __future__ import annotations

import base64
import http.client
import ssl
import threading
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

# What a kept-alive connection the server has since closed looks like when it is used again.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


def uses_proxy(host: str) -> bool:
    """Whether httpx (which honours HTTPS_PROXY, ALL_PROXY and NO_PROXY) would use a proxy."""
    proxies = urllib.request.getproxies_environment()
    if not (proxies.get("https") or proxies.get("all")):
        return False
    # in urllib.request on every platform, but not in typeshed's stubs
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
    return not bypass(host, proxies)


def basic_auth(username: str, password: str) -> str:
    """The Authorization header httpx sends for auth=(username, password)."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


class FetchFailed(Exception):
    """A transport failure of a fetch: `cause` is the OSError or HTTPException behind it,
    `connecting` whether it happened before a connection stood."""

    def __init__(self, cause: BaseException, *, connecting: bool) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.connecting = connecting


@dataclass
class Answer:
    """A response whose body is still to be read: status, headers and the body in pieces."""

    status_code: int
    headers: httpx.Headers
    chunks: Callable[[int], Iterator[memoryview | bytes]]  # pieces of at most n bytes


class Fetcher:
    """Kept-alive HTTPS connections to one server, for GET requests with a streamed body."""

    def __init__(
        self,
        host: str,
        port: int,
        context: ssl.SSLContext,
        *,
        timeout: float,
        connect_timeout: float,
        headers: dict[str, str],
    ) -> None:
        self._host = host
        self._port = port
        self._context = context
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._headers = headers
        self._lock = threading.Lock()
        self._idle: list[http.client.HTTPSConnection] = []
        self._closed = False

    def close(self) -> None:
        """Close the idle connections now and those still busy when their GET ends."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    @contextmanager
    def get(self, target: str, headers: dict[str, str]) -> Iterator[Answer]:
        """GET `target` (a path with its query): the answer, its body read through `chunks`.

        Raises FetchFailed for a transport failure, before the answer or while reading it.
        """
        conn, response = self._request(target, {**self._headers, **headers})
        reusable = False
        try:
            answer = Answer(
                response.status,
                httpx.Headers(response.getheaders()),
                lambda n: _pieces(response, n),
            )
            yield answer
            # Reusable only with the body read to its end and a server that keeps it open.
            reusable = response.isclosed() and not response.will_close
        finally:
            if reusable:
                with self._lock:
                    reusable = not self._closed
                    if reusable:
                        self._idle.append(conn)
            if not reusable:
                response.close()
                conn.close()

    def _request(
        self, target: str, headers: dict[str, str]
    ) -> tuple[http.client.HTTPSConnection, http.client.HTTPResponse]:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is not None:
            try:
                conn.request("GET", target, headers=headers)
                return conn, conn.getresponse()
            except _STALE:
                conn.close()  # closed by the server while idle: once more on a new connection
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                raise FetchFailed(exc, connecting=False) from exc
        conn = self._connect()
        try:
            conn.request("GET", target, headers=headers)
            return conn, conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise FetchFailed(exc, connecting=False) from exc

    def _connect(self) -> http.client.HTTPSConnection:
        conn = http.client.HTTPSConnection(
            self._host, self._port, timeout=self._connect_timeout, context=self._context
        )
        try:
            conn.connect()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise FetchFailed(exc, connecting=True) from exc
        assert conn.sock is not None
        conn.sock.settimeout(self._timeout)
        return conn


def _pieces(response: http.client.HTTPResponse, size: int) -> Iterator[memoryview]:
    """The body in pieces of at most `size` bytes, read into one reused buffer (each piece is
    valid until the next is asked for)."""
    buffer = memoryview(bytearray(size))
    while True:
        try:
            n = response.readinto(buffer)
        except (OSError, http.client.HTTPException) as exc:
            raise FetchFailed(exc, connecting=False) from exc
        if not n:
            return
        yield buffer[:n]
