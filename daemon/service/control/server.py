"""The control endpoint's HTTP plumbing on 127.0.0.1: guards first, then a route, then the answer.

Where to connect: when it starts, the endpoint writes `{"url", "port", "secret", "pid",
"start_token"}` to `Paths.control_file` with user-only permissions (a fresh secret each time)
and removes it when it stops. `ControlClient.from_paths` reads it.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import socketserver
import threading
from collections.abc import Callable, Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, BinaryIO
from urllib.parse import parse_qs, urlencode, urlsplit

from daemon.errors import RequestRefused
from daemon.files import write_json_atomic
from daemon.i18n import _, fact
from daemon.paths import Paths
from daemon.service.control.api import (
    LONG_POLL_MAX,
    ROUTES,
    Context,
    Request,
    Response,
    Route,
    json_response,
)
from daemon.service.control.guards import SIGNIN_PATH, Guards
from daemon.service.instance import process_start_token
from daemon.service.logs import register_secret
from daemon.service.protocol import DaemonControl
from daemon.service.status import StatusBoard

logger = logging.getLogger(__name__)

CONTROL_FILE_FORMAT = 1
_MAX_BODY = 64 * 1024


class ControlServer:
    """Serves the control API (and any routes added) on 127.0.0.1, a random port, until `stop`."""

    def __init__(
        self,
        board: StatusBoard,
        controls: DaemonControl,
        paths: Paths,
        *,
        port: int = 0,
        long_poll_max: float = LONG_POLL_MAX,
        poll_interval: float = 0.5,
        routes: Mapping[str, Mapping[str, Route]] | None = None,
    ) -> None:
        self.guards = Guards(secrets.token_urlsafe(32))
        self.context = Context(board, controls, long_poll_max, self.guards)
        self.routes: dict[str, dict[str, Route]] = {p: dict(m) for p, m in ROUTES.items()}
        for path, methods in (routes or {}).items():
            self.routes.setdefault(path, {}).update(methods)
        self._control_file = paths.control_file
        self._port = port
        # How often the serving thread checks for `stop` (idle wake-ups cost laptop battery).
        self._poll_interval = poll_interval
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def secret(self) -> str:
        return self.guards.secret

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the control server is not running")
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def signin_url(self, page: str = "/") -> str:
        """A one-time sign-in address that opens `page` of the panel in a browser."""
        query = urlencode({"token": self.guards.issue_signin(), "next": page})
        return f"{self.url}{SIGNIN_PATH}?{query}"

    def start(self) -> None:
        """Listen, then publish the address and secret in the control file."""
        register_secret(self.secret)
        httpd = _HTTPServer(("127.0.0.1", self._port), _Handler)
        httpd.control = self
        self._httpd = httpd
        self.guards.port = self.port
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": self._poll_interval},
            name="congsync-control",
        )
        self._thread.daemon = True
        self._thread.start()
        self.publish_address()
        logger.info("Control endpoint listening on %s", self.url)

    def publish_address(self) -> None:
        """(Re)write the control file with this endpoint's address and secret."""
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

    def publishes_address(self) -> bool:
        """Whether the control file names this endpoint (it may have been deleted)."""
        try:
            current = json.loads(self._control_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return isinstance(current, dict) and current.get("secret") == self.secret

    def stop(self) -> None:
        """Stop listening and remove the control file (if it is still ours)."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self.publishes_address():
            self._control_file.unlink(missing_ok=True)

    def answer(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str],
        read_body: Callable[[], bytes],
        open_body: Callable[[], tuple[BinaryIO, int]] | None = None,
    ) -> Response:
        """One request, checked and routed (what the HTTP handler calls); the body is read only
        once the guards let the request in (by the route itself if it streams its body)."""
        parts = urlsplit(target)
        via = self.guards.check(method, headers, parts.path)
        methods = self.routes.get(parts.path)
        if methods is None:
            raise RequestRefused(HTTPStatus.NOT_FOUND, fact("There is no such endpoint."))
        route = methods.get(method)
        if route is None:
            raise RequestRefused(
                HTTPStatus.METHOD_NOT_ALLOWED, fact("This method is not allowed here.")
            )
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        session = self.guards.session_of(headers) if via == "session" else None
        if getattr(route, "streams_body", False) and open_body is not None:
            stream, length = open_body()
            request = Request(method, parts.path, query, {}, headers, via, session, stream, length)
        else:
            body = _json_body(read_body(), headers)
            request = Request(method, parts.path, query, body, headers, via, session)
        return route(self.context, request)


def _json_body(raw: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
    if not raw.strip():
        return {}
    content_type = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise RequestRefused(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, fact("Send the body as JSON."))
    try:
        data = json.loads(raw)
    except ValueError:
        raise RequestRefused(HTTPStatus.BAD_REQUEST, fact("The body is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise RequestRefused(HTTPStatus.BAD_REQUEST, fact("The body must be a JSON object."))
    return data


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

    def _handle(self, method: str) -> None:
        control = self.server.control
        allow: Mapping[str, Route] | None = None
        try:
            allow = control.routes.get(urlsplit(self.path).path)
            # Header names in one spelling ("Content-Type"), as routes and guards look them up.
            headers = {name.title(): value for name, value in self.headers.items()}
            response = control.answer(
                method,
                self.path,
                headers,
                lambda: self._read_body(method),
                self._open_body,
            )
        except RequestRefused as exc:
            # The request body may be unread: do not reuse this connection.
            self.close_connection = True
            if "text/html" in (self.headers.get("Accept") or ""):
                # A browser opening a page: the sentence, not JSON.
                response = Response(
                    HTTPStatus(exc.status), exc.message.encode(), "text/plain; charset=utf-8"
                )
            else:
                # "error": the sentence for the panel (the daemon's language); "fact": the
                # same as a fact, for a command line that speaks another (`--lang`)
                response = json_response(
                    HTTPStatus(exc.status), {"error": exc.message, "fact": exc.text.to_json()}
                )
        except Exception:
            logger.exception("The control endpoint failed on %s %s", method, self.path)
            self.close_connection = True
            response = json_response(
                HTTPStatus.INTERNAL_SERVER_ERROR, {"error": _("The daemon failed on this request.")}
            )
        self._send(response, allow)
        if response.after is not None:
            response.after()

    def _read_body(self, method: str) -> bytes:
        if method == "GET":
            if self.headers.get("Content-Length", "0") != "0":
                self.close_connection = True  # an unread body would garble the next request
            return b""
        length = self._content_length()
        if length > _MAX_BODY:
            raise RequestRefused(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE, fact("The body is too large.")
            )
        return self.rfile.read(length) if length else b""

    def _open_body(self) -> tuple[BinaryIO, int]:
        """The request body as a stream of exactly Content-Length bytes (uploads of any size)."""
        length = self._content_length()
        # Whatever the route leaves unread would garble the next request on this connection.
        self.close_connection = True
        return self.rfile, length  # type: ignore[return-value]

    def _content_length(self) -> int:
        """The body's declared length; a chunked or unreadable one is refused."""
        if self.headers.get("Transfer-Encoding"):
            raise RequestRefused(HTTPStatus.LENGTH_REQUIRED, fact("Send a Content-Length."))
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            raise RequestRefused(
                HTTPStatus.BAD_REQUEST, fact("The Content-Length is not a number.")
            )
        return length

    def _send(self, response: Response, allow: Mapping[str, Route] | None) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.status == HTTPStatus.UNAUTHORIZED:
            self.send_header("WWW-Authenticate", 'Bearer realm="congsync"')
        if response.status == HTTPStatus.METHOD_NOT_ALLOWED and allow:
            self.send_header("Allow", ", ".join(sorted(allow)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(response.body)
