"""The running daemon's local control endpoint (a tiny JSON API on 127.0.0.1) and its client.

The API, version 1. Every request must carry `Authorization: Bearer <secret>` and a `Host`
of `127.0.0.1:<port>` or `localhost:<port>`; a request with an `Origin` header must come
from that same origin. Anything else is refused (401 without the secret, 403 for a foreign
Host or Origin, which keeps DNS-rebinding web pages out). Bodies are JSON objects, answers
are JSON objects with `Cache-Control: no-store`; errors are `{"error": "<sentence>"}`.

    GET  /v1/status                  the status document (as in the status file: `state`,
                                     `message`, `progress`, `last_sync_at`, `last_result`,
                                     `next_retry_at`, `paused_until`, …, plus `version`,
                                     `cycles_started`, `cycles_finished`, `pid`)
    GET  /v1/events?since=N&timeout=T
                                     long poll: answers the status document as soon as its
                                     `version` exceeds N, or after T seconds (at most 25)
    POST /v1/sync    {"accept_deletions": false}
                                     sync now (or right after the running cycle); answers
                                     202 {"ticket": K}: the sync is over once the status
                                     document's `cycles_finished` reaches K
    POST /v1/pause   {"until": "2026-11-24T18:00:00+01:00" | null}
                                     pause (until a time, or until resumed); 202
    POST /v1/resume                  resume and sync at once; 202
    POST /v1/stop                    end the daemon; 202, then the process exits

Where to connect: the daemon writes `{"url", "port", "secret", "pid", "start_token"}` to
`Paths.control_file` with user-only permissions when it starts (a fresh secret each time)
and removes it when it stops. `ControlClient.from_paths` reads it.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import secrets
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import httpx

from daemon.errors import ControlError, DaemonNotRunning, RequestRefused
from daemon.files import write_json_atomic
from daemon.i18n import _
from daemon.paths import Paths
from daemon.service.instance import is_same_process, process_start_token
from daemon.service.logs import register_secret
from daemon.service.status import StatusBoard

logger = logging.getLogger(__name__)

API_PREFIX = "/v1"
CONTROL_FILE_FORMAT = 1
LONG_POLL_MAX = 25.0
_MAX_BODY = 64 * 1024


class DaemonControls(Protocol):
    """What the control endpoint asks of the daemon (implemented by `service.Daemon`)."""

    def sync_now(self, accept_deletions: bool = False) -> int: ...

    def pause(self, until: datetime | None = None) -> None: ...

    def resume(self) -> None: ...

    def quit(self) -> None: ...


class ControlServer:
    """Serves the API above on 127.0.0.1 (a random port) until `stop`."""

    def __init__(
        self,
        board: StatusBoard,
        controls: DaemonControls,
        paths: Paths,
        *,
        port: int = 0,
        long_poll_max: float = LONG_POLL_MAX,
        poll_interval: float = 0.5,
    ) -> None:
        self.board = board
        self.controls = controls
        self.long_poll_max = long_poll_max
        self.secret = secrets.token_urlsafe(32)
        self._control_file = paths.control_file
        self._port = port
        # How often the serving thread checks for `stop` (idle wake-ups cost laptop battery).
        self._poll_interval = poll_interval
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the control server is not running")
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Listen, then publish the address and secret in the control file."""
        register_secret(self.secret)
        httpd = _HTTPServer(("127.0.0.1", self._port), _Handler)
        httpd.control = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": self._poll_interval},
            name="congsync-control",
        )
        self._thread.daemon = True
        self._thread.start()
        pid = os.getpid()
        write_json_atomic(
            self._control_file,
            {
                "format": CONTROL_FILE_FORMAT,
                "url": self.url,
                "port": self.port,
                "secret": self.secret,
                "pid": pid,
                "start_token": process_start_token(pid),
            },
        )
        logger.info("Control endpoint listening on %s", self.url)

    def stop(self) -> None:
        """Stop listening and remove the control file (if it is still ours)."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=2)
        try:
            current = json.loads(self._control_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(current, dict) and current.get("secret") == self.secret:
            self._control_file.unlink(missing_ok=True)

    def allowed_hosts(self) -> set[str]:
        return {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # SO_REUSEADDR would let another local program bind the same port on Windows.
    allow_reuse_address = False
    control: ControlServer

    def server_bind(self) -> None:
        if hasattr(socket, "SO_EXCLUSIVEADDRUSE"):
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
        # HTTPServer.server_bind would resolve the host name, which can stall on some networks.
        socketserver.TCPServer.server_bind(self)
        self.server_name = "127.0.0.1"
        self.server_port = self.server_address[1]


_Route = Callable[["_Handler", dict[str, Any]], tuple[HTTPStatus, dict[str, Any]]]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer
    server_version = "congsync"
    sys_version = ""

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("control: " + format, *args)

    # -- one request --------------------------------------------------------------------------

    def _handle(self, method: str) -> None:
        control = self.server.control
        after: Callable[[], None] | None = None
        try:
            self._check_host_and_origin(control)
            self._check_secret(control)
            parts = urlsplit(self.path)
            routes = _ROUTES.get(parts.path)
            if routes is None:
                raise RequestRefused(HTTPStatus.NOT_FOUND, "no such endpoint")
            route = routes.get(method)
            if route is None:
                raise RequestRefused(HTTPStatus.METHOD_NOT_ALLOWED, "method not allowed")
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            if method == "POST":
                body = self._read_body()
            else:
                body = {}
                if self.headers.get("Content-Length", "0") != "0":
                    self.close_connection = True  # an unread body would garble the next request
            status, answer = route(self, {**query, **body})
            if parts.path == f"{API_PREFIX}/stop":
                after = control.controls.quit
        except RequestRefused as exc:
            # The request body may be unread: do not reuse this connection.
            self.close_connection = True
            status, answer = HTTPStatus(exc.status), {"error": exc.message}
        except Exception:
            logger.exception("The control endpoint failed on %s %s", method, self.path)
            self.close_connection = True
            status, answer = HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "internal error"}
        self._send(status, answer, allow=_ROUTES.get(urlsplit(self.path).path))
        if after is not None:
            after()

    def _check_host_and_origin(self, control: ControlServer) -> None:
        allowed = control.allowed_hosts()
        host = (self.headers.get("Host") or "").strip().lower()
        if host not in allowed:
            raise RequestRefused(HTTPStatus.FORBIDDEN, "this endpoint only answers to 127.0.0.1")
        origin = self.headers.get("Origin")
        if origin is not None and origin.strip().lower() not in {f"http://{h}" for h in allowed}:
            raise RequestRefused(HTTPStatus.FORBIDDEN, "cross-origin requests are refused")

    def _check_secret(self, control: ControlServer) -> None:
        given = self.headers.get("Authorization") or ""
        expected = f"Bearer {control.secret}"
        if not hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode()):
            raise RequestRefused(HTTPStatus.UNAUTHORIZED, "missing or wrong control secret")

    def _read_body(self) -> dict[str, Any]:
        if self.headers.get("Transfer-Encoding"):
            raise RequestRefused(HTTPStatus.LENGTH_REQUIRED, "send a Content-Length")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise RequestRefused(HTTPStatus.BAD_REQUEST, "bad Content-Length") from None
        if length < 0 or length > _MAX_BODY:
            raise RequestRefused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request body too large")
        raw = self.rfile.read(length) if length else b""
        if not raw.strip():
            return {}
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise RequestRefused(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send application/json")
        try:
            data = json.loads(raw)
        except ValueError:
            raise RequestRefused(HTTPStatus.BAD_REQUEST, "the body is not valid JSON") from None
        if not isinstance(data, dict):
            raise RequestRefused(HTTPStatus.BAD_REQUEST, "the body must be a JSON object")
        return data

    def _send(
        self, status: HTTPStatus, answer: dict[str, Any], allow: dict[str, _Route] | None
    ) -> None:
        payload = json.dumps(answer).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        if status == HTTPStatus.UNAUTHORIZED:
            self.send_header("WWW-Authenticate", 'Bearer realm="congsync"')
        if status == HTTPStatus.METHOD_NOT_ALLOWED and allow:
            self.send_header("Allow", ", ".join(sorted(allow)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)

    # -- the endpoints ------------------------------------------------------------------------

    def status(self, _args: dict[str, Any]) -> tuple[HTTPStatus, dict[str, Any]]:
        return HTTPStatus.OK, self.server.control.board.document()

    def events(self, args: dict[str, Any]) -> tuple[HTTPStatus, dict[str, Any]]:
        control = self.server.control
        since = _number(args.get("since"), "since", default=-1.0)
        timeout = _number(args.get("timeout"), "timeout", default=control.long_poll_max)
        timeout = max(0.0, min(timeout, control.long_poll_max))
        return HTTPStatus.OK, control.board.wait_for_change(int(since), timeout)

    def sync(self, args: dict[str, Any]) -> tuple[HTTPStatus, dict[str, Any]]:
        accept = args.get("accept_deletions", False)
        if not isinstance(accept, bool):
            raise RequestRefused(HTTPStatus.BAD_REQUEST, "accept_deletions must be true or false")
        ticket = self.server.control.controls.sync_now(accept_deletions=accept)
        return HTTPStatus.ACCEPTED, {"accepted": True, "ticket": ticket}

    def pause(self, args: dict[str, Any]) -> tuple[HTTPStatus, dict[str, Any]]:
        raw = args.get("until")
        until: datetime | None = None
        if raw is not None:
            try:
                until = datetime.fromisoformat(str(raw))
            except ValueError:
                raise RequestRefused(HTTPStatus.BAD_REQUEST, "until must be ISO 8601") from None
        self.server.control.controls.pause(until)
        return HTTPStatus.ACCEPTED, {"accepted": True}

    def resume(self, _args: dict[str, Any]) -> tuple[HTTPStatus, dict[str, Any]]:
        self.server.control.controls.resume()
        return HTTPStatus.ACCEPTED, {"accepted": True}

    def stop(self, _args: dict[str, Any]) -> tuple[HTTPStatus, dict[str, Any]]:
        # The daemon is told after the answer is sent (see _handle), so the client gets it.
        return HTTPStatus.ACCEPTED, {"accepted": True}


_ROUTES: dict[str, dict[str, _Route]] = {
    f"{API_PREFIX}/status": {"GET": _Handler.status},
    f"{API_PREFIX}/events": {"GET": _Handler.events},
    f"{API_PREFIX}/sync": {"POST": _Handler.sync},
    f"{API_PREFIX}/pause": {"POST": _Handler.pause},
    f"{API_PREFIX}/resume": {"POST": _Handler.resume},
    f"{API_PREFIX}/stop": {"POST": _Handler.stop},
}


def _number(raw: Any, name: str, default: float) -> float:
    if raw is None:
        return default
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise RequestRefused(HTTPStatus.BAD_REQUEST, f"{name} must be a number") from None


class ControlClient:
    """Talks to the running daemon of one configuration (for the CLI, later the tray)."""

    def __init__(
        self,
        url: str,
        secret: str,
        pid: int | None = None,
        start_token: str | None = None,
        *,
        timeout: float = 5.0,
    ) -> None:
        self.url = url
        self.pid = pid
        self.start_token = start_token
        register_secret(secret)
        # trust_env=False: a proxy from the environment must never see loopback traffic.
        self._http = httpx.Client(
            base_url=url,
            headers={"Authorization": f"Bearer {secret}"},
            timeout=timeout,
            trust_env=False,
        )

    @classmethod
    def from_paths(cls, paths: Paths, *, timeout: float = 5.0) -> ControlClient | None:
        """A client for the daemon of `paths`, or None when none runs (or it does not answer)."""
        try:
            data = json.loads(paths.control_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        url, secret, pid = data.get("url"), data.get("secret"), data.get("pid")
        if not isinstance(url, str) or not isinstance(secret, str):
            return None
        if isinstance(pid, int) and not is_same_process(pid, data.get("start_token")):
            return None
        client = cls(
            url,
            secret,
            pid if isinstance(pid, int) else None,
            data.get("start_token"),
            timeout=timeout,
        )
        try:
            client.status()
        except DaemonNotRunning:
            client.close()
            return None
        except BaseException:
            client.close()
            raise
        return client

    # -- commands -----------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """The daemon's status document (see `GET /v1/status`)."""
        return self._request("GET", "/status")

    def wait_for_change(self, since: int, timeout: float = LONG_POLL_MAX) -> dict[str, Any]:
        """The status document once its `version` exceeds `since` (or after `timeout`)."""
        return self._request(
            "GET",
            "/events",
            params={"since": since, "timeout": timeout},
            timeout=timeout + 10.0,
        )

    def sync_now(self, accept_deletions: bool = False) -> int:
        """Ask for a sync; returns the `cycles_finished` value at which it is over."""
        answer = self._request("POST", "/sync", json={"accept_deletions": accept_deletions})
        return int(answer["ticket"])

    def follow(
        self,
        ticket: int,
        on_update: Callable[[dict[str, Any]], None],
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Hand each status change to `on_update` until the sync of `ticket` is over.

        Returns the final status document (its `last_result` is that sync's result). Raises
        `DaemonNotRunning` if the daemon stops meanwhile, `ControlError` after `timeout`.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        document = self.status()
        while int(document.get("cycles_finished", 0)) < ticket:
            if document.get("state") == "stopped":
                raise DaemonNotRunning()
            on_update(document)
            wait = LONG_POLL_MAX
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
                if wait <= 0:
                    raise ControlError(_("The sync did not finish in time."))
            document = self.wait_for_change(int(document.get("version", 0)), wait)
        on_update(document)
        return document

    def pause(self, until: datetime | None = None) -> None:
        self._request(
            "POST", "/pause", json={"until": until.isoformat() if until is not None else None}
        )

    def resume(self) -> None:
        self._request("POST", "/resume")

    def stop(self, wait: float = 10.0) -> bool:
        """Ask the daemon to end; True once its process has exited (False after `wait` s)."""
        try:
            self._request("POST", "/stop")
        except DaemonNotRunning:
            return True
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not self._still_running():
                return True
            time.sleep(0.1)
        return not self._still_running()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- inside -------------------------------------------------------------------------------

    def _still_running(self) -> bool:
        if self.pid is not None:
            return is_same_process(self.pid, self.start_token)
        try:
            self._request("GET", "/status", timeout=1.0)
        except DaemonNotRunning:
            return False
        return True

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if timeout is not None:
            extra["timeout"] = timeout
        try:
            response = self._http.request(
                method, API_PREFIX + path, json=json, params=params, **extra
            )
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as exc:
            logger.debug("control endpoint unreachable: %s", exc)
            raise DaemonNotRunning() from None
        except httpx.TimeoutException:
            raise ControlError(_("The congsync daemon does not answer.")) from None
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        if response.status_code >= 400:
            raise ControlError(
                _("The congsync daemon refused the request: {reason}").format(
                    reason=answer.get("error") or response.reason_phrase
                )
            )
        return answer
