"""Test support for the WebDAV server: fault injection, its controller, the `dav` fixture object."""

from __future__ import annotations

import base64
import binascii
import errno
import http
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from daemon.server.webdav import DavServer

if TYPE_CHECKING:
    from _typeshed import OptExcInfo

__all__ = ["DavFixture", "FaultController", "FaultInjector", "LoggedRequest"]

# Upper bound for any wait this module does on behalf of a test.
MAX_WAIT_SECONDS = 30.0


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the server saw it (a snapshot; `status` is None until headers are sent)."""

    method: str
    path: str  # URL-decoded, as the client addressed it
    depth: str | None
    range: str | None
    status: int | None
    bytes_sent: int
    # which fault answered ("fail", "propfind", "truncate", "slow", "auth") or None
    injected: str | None
    at: float = 0.0  # time.monotonic() when it arrived


@dataclass
class _Entry:
    method: str
    path: str
    depth: str | None
    range: str | None
    status: int | None = None
    bytes_sent: int = 0
    injected: str | None = None
    at: float = 0.0

    def snapshot(self) -> LoggedRequest:
        return LoggedRequest(
            self.method,
            self.path,
            self.depth,
            self.range,
            self.status,
            self.bytes_sent,
            self.injected,
            self.at,
        )


@dataclass
class _FailRule:
    remaining: int
    status: int
    retry_after: str | None
    methods: frozenset[str] | None
    path_prefix: str | None


@dataclass
class _TruncateRule:
    after_bytes: int
    path_prefix: str | None


@dataclass(frozen=True)
class _Throttle:
    bytes_per_second: int
    path_prefix: str | None


@dataclass(frozen=True)
class _Plan:
    """What to do with one request, decided atomically when it arrives."""

    fail: _FailRule | None = None
    propfind: tuple[int, bytes] | None = None
    truncate_after: int | None = None
    throttle: int | None = None
    put_throttle: int | None = None


def _normalize(path: str) -> str:
    path = "/" + path.lstrip("/")
    return path.rstrip("/") or "/"


def _matches(path: str, prefix: str | None) -> bool:
    return prefix is None or path.startswith("/" + prefix.lstrip("/"))


def _request_path(environ: WSGIEnvironment) -> str:
    # WSGI hands PATH_INFO over as latin-1 text of the decoded bytes; clients send UTF-8.
    raw = str(environ.get("PATH_INFO", "")) or "/"
    try:
        path = raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        path = raw
    return unquote(path) if "%" in path else path


def _reason(status: int) -> str:
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Injected"


class FaultController:
    """Thread-safe switchboard of faults and the request log, shared with `FaultInjector`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._log: list[_Entry] = []
        self._fail_rules: list[_FailRule] = []
        self._truncations: list[_TruncateRule] = []
        self._propfind: dict[str, tuple[int, bytes]] = {}
        self._throttle: _Throttle | None = None
        self._put_throttle: _Throttle | None = None
        self._released = threading.Event()
        # user -> (the password clients must now send, the one the WebDAV app was built with)
        self._passwords: dict[str, tuple[str, str]] = {}

    def wrap(self, app: WSGIApplication) -> FaultInjector:
        """Use as `DavServer(wsgi_wrapper=controller.wrap)`."""
        return FaultInjector(app, self)

    # --- the request log ---------------------------------------------------------------

    @property
    def requests(self) -> list[LoggedRequest]:
        with self._lock:
            return [entry.snapshot() for entry in self._log]

    def count(self, method: str | None = None, path_prefix: str | None = None) -> int:
        """How many requests (of that method, under that path) arrived since the last clear()."""
        wanted = method.upper() if method else None
        with self._lock:
            return sum(
                1
                for e in self._log
                if (wanted is None or e.method == wanted) and _matches(e.path, path_prefix)
            )

    def clear(self) -> None:
        """Forget the request log (faults stay armed)."""
        with self._lock:
            self._log.clear()

    def wait_for_count(
        self,
        n: int,
        method: str | None = None,
        path_prefix: str | None = None,
        timeout: float = 10.0,
    ) -> bool:
        """Wait until at least `n` such requests arrived; False on timeout (never forever)."""
        deadline = time.monotonic() + min(timeout, MAX_WAIT_SECONDS)
        wanted = method.upper() if method else None
        with self._changed:
            while True:
                seen = sum(
                    1
                    for e in self._log
                    if (wanted is None or e.method == wanted) and _matches(e.path, path_prefix)
                )
                if seen >= n:
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)

    # --- faults ------------------------------------------------------------------------

    def fail_next(
        self,
        n: int,
        status: int = 503,
        retry_after: str | None = "1",
        methods: Iterable[str] | None = None,
        path_prefix: str | None = None,
    ) -> None:
        """The next `n` matching requests get `status` (and Retry-After) without reaching WebDAV."""
        rule = _FailRule(
            remaining=n,
            status=status,
            retry_after=retry_after,
            methods=frozenset(m.upper() for m in methods) if methods is not None else None,
            path_prefix=path_prefix,
        )
        with self._lock:
            self._fail_rules.append(rule)

    def truncate_next_get(self, after_bytes: int, path_prefix: str | None = None) -> None:
        """The next matching GET sends its headers and `after_bytes` of body, then hangs up.

        The rule is spent on the next matching GET whatever it answers; a body shorter than
        `after_bytes` is sent complete.
        """
        if after_bytes < 0:
            raise ValueError("after_bytes must be >= 0")
        with self._lock:
            self._truncations.append(_TruncateRule(after_bytes, path_prefix))

    def override_propfind(self, path: str, body: bytes, status: int = 207) -> None:
        """Every PROPFIND of `path` (with or without trailing slash) returns this raw body."""
        with self._lock:
            self._propfind[_normalize(path)] = (status, body)

    def remove_propfind_override(self, path: str) -> None:
        with self._lock:
            self._propfind.pop(_normalize(path), None)

    def slow_get(self, bytes_per_second: int | None, path_prefix: str | None = None) -> None:
        """Throttle matching GET bodies to about `bytes_per_second` (None: full speed again)."""
        if bytes_per_second is not None and bytes_per_second <= 0:
            raise ValueError("bytes_per_second must be positive")
        with self._lock:
            if bytes_per_second is None:
                self._throttle = None
            else:
                self._throttle = _Throttle(bytes_per_second, path_prefix)
                self._released.clear()

    def slow_put(self, bytes_per_second: int | None, path_prefix: str | None = None) -> None:
        """Read matching PUT bodies at about `bytes_per_second` (None: full speed again).

        The client's upload stalls on a full TCP window, as it would on a slow uplink.
        """
        if bytes_per_second is not None and bytes_per_second <= 0:
            raise ValueError("bytes_per_second must be positive")
        with self._lock:
            if bytes_per_second is None:
                self._put_throttle = None
            else:
                self._put_throttle = _Throttle(bytes_per_second, path_prefix)
                self._released.clear()

    def change_password(self, username: str, served: str, new: str) -> None:
        """From now on `username` logs in with `new` and the old password is refused (401), as
        after a password change on the server. `served` is the password the WebDAV app knows;
        `reset` keeps the change (it is the account, not a fault)."""
        with self._lock:
            self._passwords[username] = (new, served)

    def _check_password(self, environ: WSGIEnvironment) -> bool:
        """False when the request logs in with a password that was changed; a request with the
        new one goes on with the password the WebDAV app knows."""
        header = str(environ.get("HTTP_AUTHORIZATION", ""))
        scheme, _sep, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return True
        try:
            username, _colon, password = base64.b64decode(encoded).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return True
        with self._lock:
            changed = self._passwords.get(username)
        if changed is None:
            return True
        new, served = changed
        if password != new:
            return False
        credentials = base64.b64encode(f"{username}:{served}".encode()).decode("ascii")
        environ["HTTP_AUTHORIZATION"] = f"Basic {credentials}"
        return True

    def release(self) -> None:
        """Stop throttling and wake every throttled response now (used at teardown)."""
        with self._lock:
            self._throttle = None
            self._put_throttle = None
            self._released.set()

    def reset(self) -> None:
        """Disarm every fault, release throttled responses and clear the log."""
        with self._lock:
            self._fail_rules.clear()
            self._truncations.clear()
            self._propfind.clear()
            self._throttle = None
            self._put_throttle = None
            self._released.set()
            self._log.clear()

    # --- used by FaultInjector -----------------------------------------------------------

    def _arrive(self, entry: _Entry) -> _Plan:
        with self._changed:
            self._log.append(entry)
            self._changed.notify_all()
            for rule in self._fail_rules:
                if (
                    rule.remaining > 0
                    and (rule.methods is None or entry.method in rule.methods)
                    and _matches(entry.path, rule.path_prefix)
                ):
                    rule.remaining -= 1
                    self._fail_rules = [r for r in self._fail_rules if r.remaining > 0]
                    entry.injected = "fail"
                    return _Plan(fail=rule)
            if entry.method == "PROPFIND":
                override = self._propfind.get(_normalize(entry.path))
                if override is not None:
                    entry.injected = "propfind"
                    return _Plan(propfind=override)
            if entry.method == "PUT":
                put = self._put_throttle
                if put is not None and _matches(entry.path, put.path_prefix):
                    entry.injected = "slow"
                    return _Plan(put_throttle=put.bytes_per_second)
            if entry.method != "GET":
                return _Plan()
            truncate_after = None
            for i, trunc in enumerate(self._truncations):
                if _matches(entry.path, trunc.path_prefix):
                    del self._truncations[i]
                    truncate_after = trunc.after_bytes
                    entry.injected = "truncate"
                    break
            throttle = None
            if self._throttle is not None and _matches(entry.path, self._throttle.path_prefix):
                throttle = self._throttle.bytes_per_second
                entry.injected = entry.injected or "slow"
            return _Plan(truncate_after=truncate_after, throttle=throttle)

    def _set_status(self, entry: _Entry, status_line: str) -> None:
        with self._lock:
            entry.status = int(status_line.split(" ", 1)[0])

    def _add_sent(self, entry: _Entry, n: int) -> None:
        with self._lock:
            entry.bytes_sent += n

    def _pause(self, seconds: float) -> bool:
        """Sleep for a throttle slice; True if released meanwhile (stop throttling)."""
        return self._released.wait(min(seconds, MAX_WAIT_SECONDS))


class FaultInjector:
    """WSGI middleware in front of the WebDAV app that obeys a `FaultController`."""

    def __init__(self, app: WSGIApplication, controller: FaultController | None = None) -> None:
        self.app = app
        self.controller = controller if controller is not None else FaultController()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        ctl = self.controller
        entry = _Entry(
            method=str(environ.get("REQUEST_METHOD", "")).upper(),
            path=_request_path(environ),
            depth=environ.get("HTTP_DEPTH"),
            range=environ.get("HTTP_RANGE"),
            at=time.monotonic(),
        )
        plan = ctl._arrive(entry)

        if not ctl._check_password(environ):
            entry.injected = "auth"
            body = b"Wrong username or password\n"
            headers = [
                ("Content-Type", "text/plain"),
                ("Content-Length", str(len(body))),
                ("WWW-Authenticate", 'Basic realm="/"'),
            ]
            return self._canned(entry, start_response, 401, headers, body)

        if plan.fail is not None:
            body = f"Injected failure: {plan.fail.status}\n".encode()
            headers = [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
            if plan.fail.retry_after is not None:
                headers.append(("Retry-After", plan.fail.retry_after))
            return self._canned(entry, start_response, plan.fail.status, headers, body)

        if plan.propfind is not None:
            status, body = plan.propfind
            headers = [
                ("Content-Type", 'application/xml; charset="utf-8"'),
                ("Content-Length", str(len(body))),
            ]
            return self._canned(entry, start_response, status, headers, body)

        if plan.put_throttle is not None:
            environ["wsgi.input"] = _ThrottledInput(environ["wsgi.input"], plan.put_throttle, ctl)

        def recording_start_response(
            status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None, /
        ) -> Callable[[bytes], object]:
            ctl._set_status(entry, status)
            return start_response(status, headers, exc_info)

        inner = self.app(environ, recording_start_response)
        return self._relay(entry, inner, plan)

    def _canned(
        self,
        entry: _Entry,
        start_response: StartResponse,
        status: int,
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> Iterable[bytes]:
        self.controller._set_status(entry, str(status))
        start_response(_reason(status), headers)
        self.controller._add_sent(entry, len(body))
        return [body]

    def _relay(self, entry: _Entry, inner: Iterable[bytes], plan: _Plan) -> Iterator[bytes]:
        ctl = self.controller
        budget = plan.truncate_after
        throttle = plan.throttle
        try:
            for chunk in inner:
                if budget is not None and entry.status not in (200, 206):
                    budget = None  # only bodies of successful GETs are cut short
                if budget is not None and len(chunk) >= budget:
                    if budget:
                        ctl._add_sent(entry, budget)
                        yield chunk[:budget]
                    # cheroot closes the connection quietly on this error, after the
                    # headers (with the full Content-Length) and the partial body went out.
                    raise ConnectionAbortedError(errno.ECONNABORTED, "injected truncation")
                if budget is not None:
                    budget -= len(chunk)
                if throttle is None:
                    ctl._add_sent(entry, len(chunk))
                    yield chunk
                    continue
                slice_size = max(1, throttle // 20)
                for start in range(0, len(chunk), slice_size):
                    piece = chunk[start : start + slice_size]
                    ctl._add_sent(entry, len(piece))
                    yield piece
                    if throttle is not None and ctl._pause(len(piece) / throttle):
                        throttle = None
        finally:
            close = getattr(inner, "close", None)
            if close is not None:
                close()


class _ThrottledInput:
    """A request body that reads at about `rate` bytes per second until the controller releases."""

    def __init__(self, inner: Any, rate: int, controller: FaultController) -> None:
        self._inner = inner
        self._rate: int | None = rate
        self._controller = controller

    def read(self, size: int = -1) -> bytes:
        if self._rate is None:
            return bytes(self._inner.read(size))
        slice_size = max(1, self._rate // 20)
        wanted = slice_size if size is None or size < 0 else min(size, slice_size)
        data = bytes(self._inner.read(wanted))
        if data and self._controller._pause(len(data) / self._rate):
            self._rate = None
        return data

    def readline(self, size: int = -1) -> bytes:
        return bytes(self._inner.readline(size))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@dataclass
class DavFixture:
    """A running test server and what a test needs to talk to it or arrange its disk."""

    server: DavServer
    base_url: str  # https://127.0.0.1:PORT/
    folder: str  # the congregation folder's path on the server
    root: Path  # the server's disk root
    folder_path: Path  # root / folder
    ca_path: Path
    username: str
    password: str
    faults: FaultController
    server_password: str | None = None  # the one the server was started with, once changed

    @property
    def folder_url(self) -> str:
        return f"{self.base_url}{self.folder}/"

    @property
    def auth(self) -> tuple[str, str]:
        return (self.username, self.password)

    def change_password(self, new: str) -> None:
        """Change the account's password on the server: from now on only `new` logs in."""
        served = self.server_password or self.password
        self.faults.change_password(self.username, served, new)
        self.server_password = served
        self.password = new

    def path(self, rel_path: str) -> Path:
        """Where `rel_path` (relative to the congregation folder) lives on the server's disk."""
        target = (self.folder_path / rel_path).resolve()
        if not target.is_relative_to(self.root.resolve()):
            raise ValueError(f"{rel_path!r} escapes the server root")
        return target

    def put_file(self, rel_path: str, data: bytes, *, mtime: float | None = None) -> Path:
        """Write a file straight onto the server's disk (parents created), as another client would.

        The file is replaced atomically (new inode, so a new ETag), and an overwrite always
        moves the modification time forward by at least a second, so that clients comparing
        size and whole-second Last-Modified see the change too.
        """
        target = self.path(rel_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        previous = target.stat().st_mtime if target.exists() else None
        # Staged beside the served tree (same filesystem), so no listing ever shows it.
        staging = self.root.parent / f"{self.root.name}-staging"
        staging.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=staging)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
        if mtime is None and previous is not None and int(time.time()) <= int(previous):
            mtime = int(previous) + 1
        if mtime is not None:
            os.utime(target, (mtime, mtime))
        return target

    def bump_mtime(self, rel_path: str, seconds: float = 1.0) -> float:
        """Move a file's or folder's modification time forward; returns the new mtime."""
        target = self.path(rel_path)
        new = target.stat().st_mtime + seconds
        os.utime(target, (new, new))
        return new

    def read_file(self, rel_path: str) -> bytes:
        return self.path(rel_path).read_bytes()

    def remove(self, rel_path: str) -> None:
        """Delete a file (or an empty folder) on the server's disk."""
        target = self.path(rel_path)
        if target.is_dir():
            target.rmdir()
        else:
            target.unlink()
