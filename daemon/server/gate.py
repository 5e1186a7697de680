"""What `congsync serve` puts in front of WsgiDAV: sign-in, roles, a brake on guessing, a log.

- Every request needs HTTP Basic credentials of an account in the accounts file.
- Members may only read: any method but GET, HEAD, OPTIONS and PROPFIND (so PUT, DELETE,
  MOVE, COPY, MKCOL, PROPPATCH, LOCK, UNLOCK and whatever else) is refused with 403.
- Failed sign-ins from one address make that address wait longer and longer (429 with
  Retry-After, before any password is checked), up to a ceiling; a success, or a quiet spell,
  forgets them, so the real user is never locked out for good.
- One access-log line per request: address, account, method, path, depth, status, bytes. Never
  the Authorization header, never a password.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import quote
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from daemon.server.accounts import AccountStore

__all__ = ["READ_METHODS", "LoginBrake", "ServeGate"]

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PROPFIND"})
ACCESS_LOGGER = "congsync.serve.access"

_REALM = 'Basic realm="congsync", charset="UTF-8"'


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0


class LoginBrake:
    """Per-address failed sign-ins and the wait they earn.

    The first `free` failures cost nothing (typos happen); each further one doubles the wait,
    from `base` seconds up to `ceiling`. Failures older than `forget_after` seconds are
    forgotten. `clock` is injectable so tests look at the state, never at the wall clock.
    """

    def __init__(
        self,
        *,
        free: int = 3,
        base: float = 1.0,
        ceiling: float = 60.0,
        forget_after: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free = free
        self.base = base
        self.ceiling = ceiling
        self.forget_after = forget_after
        self.clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, _Failures] = {}
        self._turns: dict[str, threading.Lock] = {}

    def delay(self, address: str) -> float:
        """The wait, in seconds, that the failures from `address` have earned."""
        with self._lock:
            record = self._current(address)
            return self._delay_for(record.count) if record else 0.0

    def failures(self, address: str) -> int:
        with self._lock:
            record = self._current(address)
            return record.count if record else 0

    def retry_after(self, address: str) -> float:
        """Seconds until `address` may try again (0: now)."""
        with self._lock:
            record = self._current(address)
            if record is None:
                return 0.0
            return max(0.0, record.last + self._delay_for(record.count) - self.clock())

    def failed(self, address: str) -> None:
        with self._lock:
            record = self._current(address) or _Failures()
            record.count += 1
            record.last = self.clock()
            self._failures[address] = record
            if len(self._failures) > 10_000:  # many addresses: drop the quiet ones
                for key in [k for k, v in self._failures.items() if self._stale(v)]:
                    del self._failures[key]
                    self._turns.pop(key, None)

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._failures.pop(address, None)
            self._turns.pop(address, None)

    @contextlib.contextmanager
    def turn(self, address: str) -> Iterator[None]:
        """Sign-ins from an address that has failed before are checked one at a time.

        Otherwise parallel guesses would all pass the wait before the first of them failed,
        and an address with many connections would get that many guesses per wait. An address
        without failures is never held up.
        """
        with self._lock:
            lock = (
                None
                if self._current(address) is None
                else self._turns.setdefault(address, threading.Lock())
            )
        if lock is None:
            yield
            return
        with lock:
            yield

    def _delay_for(self, count: int) -> float:
        if count <= self.free:
            return 0.0
        return float(min(self.ceiling, self.base * 2 ** (count - self.free - 1)))

    def _stale(self, record: _Failures) -> bool:
        return self.clock() - record.last > self.forget_after + self._delay_for(record.count)

    def _current(self, address: str) -> _Failures | None:
        record = self._failures.get(address)
        if record is not None and self._stale(record):
            del self._failures[address]
            self._turns.pop(address, None)
            return None
        return record


def _credentials(environ: WSGIEnvironment) -> tuple[str, str] | None:
    header = str(environ.get("HTTP_AUTHORIZATION", ""))
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    name, sep, password = decoded.partition(":")
    return (name, password) if sep else None


class ServeGate:
    """WSGI middleware in front of the WebDAV app (see the module's description)."""

    def __init__(
        self,
        app: WSGIApplication,
        accounts: AccountStore,
        brake: LoginBrake | None = None,
        access_log: logging.Logger | None = None,
    ) -> None:
        self.app = app
        self.accounts = accounts
        self.brake = brake or LoginBrake()
        self.log = access_log or logging.getLogger(ACCESS_LOGGER)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        address = str(environ.get("REMOTE_ADDR", "?"))
        method = str(environ.get("REQUEST_METHOD", "")).upper()
        record = _Record(self.log, environ, address, method)
        credentials = _credentials(environ)
        if credentials is None:
            return record.canned(start_response, 401, b"Sign-in required\n", [_challenge()])
        if self.brake.retry_after(address) > 0:  # answered at once, without queueing
            return self._too_many(record, credentials[0], start_response)
        with self.brake.turn(address):
            if self.brake.retry_after(address) > 0:  # a parallel guess failed meanwhile
                return self._too_many(record, credentials[0], start_response)
            account = self.accounts.authenticate(*credentials)
            if account is None:
                self.brake.failed(address)
                record.user = credentials[0]
                return record.canned(
                    start_response, 401, b"Wrong username or password\n", [_challenge()]
                )
            self.brake.succeeded(address)
        record.user = account.name
        if method not in READ_METHODS and not account.can_write:
            return record.canned(start_response, 403, b"Members may only read\n", [])
        # WsgiDAV runs without users of its own: the gate has signed the request in.
        environ.pop("HTTP_AUTHORIZATION", None)
        inner = self.app(environ, record.start_response(start_response))
        return record.relay(inner)

    def _too_many(
        self, record: _Record, user: str, start_response: StartResponse
    ) -> Iterable[bytes]:
        record.user = user
        wait = self.brake.retry_after(record.address)
        retry = [("Retry-After", str(max(1, round(wait + 0.5))))]
        return record.canned(start_response, 429, b"Too many failed sign-ins\n", retry)


def _challenge() -> tuple[str, str]:
    return ("WWW-Authenticate", _REALM)


class _Record:
    """One request's access-log line, written when its answer has been sent."""

    def __init__(
        self, log: logging.Logger, environ: WSGIEnvironment, address: str, method: str
    ) -> None:
        self.log = log
        self.address = address
        self.method = method
        # Percent-encoded again, so a name with spaces or newlines cannot forge log lines; the
        # same for the headers and the method, which anyone may send before signing in.
        self.path = quote(str(environ.get("PATH_INFO", "")), safe="/@:+,;=-._~!$&'()*")
        self.depth = quote(str(environ.get("HTTP_DEPTH", "-")), safe="-")
        self.user = "-"
        self.status = 0
        self.sent = 0

    def start_response(self, start_response: StartResponse) -> StartResponse:
        def recording(
            status: str, headers: list[tuple[str, str]], exc_info: object = None, /
        ) -> Callable[[bytes], object]:
            self.status = int(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)  # type: ignore[arg-type]

        return recording

    def canned(
        self,
        start_response: StartResponse,
        status: int,
        body: bytes,
        headers: list[tuple[str, str]],
    ) -> Iterable[bytes]:
        reasons = {401: "Unauthorized", 403: "Forbidden", 429: "Too Many Requests"}
        self.status = status
        start_response(
            f"{status} {reasons[status]}",
            [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(body))),
                *headers,
            ],
        )
        self.sent = len(body)
        self.write()
        return [body]

    def relay(self, inner: Iterable[bytes]) -> Iterator[bytes]:
        try:
            for chunk in inner:
                self.sent += len(chunk)
                yield chunk
        finally:
            close = getattr(inner, "close", None)
            if close is not None:
                close()
            self.write()

    def write(self) -> None:
        self.log.info(
            "%s %s %s %s depth=%s %d %d",
            self.address,
            quote(self.user, safe="@._-"),
            quote(self.method, safe="-_."),
            self.path,
            self.depth,
            self.status,
            self.sent,
        )
