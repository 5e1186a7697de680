"""What the control endpoint does: its routes, as plain functions over the daemon's protocol.

API version 1. Answers are JSON objects with `Cache-Control: no-store`; errors are
`{"error": "<sentence>"}` in the daemon's language. Bodies are JSON objects.

    GET  /v1/status                  the status document (as in the status file: `state`,
                                     `message`, `progress`, `last_sync_at`, `last_result`,
                                     `next_retry_at`, `paused_until`, …, plus `version`,
                                     `cycles_started`, `cycles_finished`, `pid`)
    GET  /v1/events?since=N&timeout=T
                                     long poll: answers the status document as soon as its
                                     `version` exceeds N, or after T seconds (at most 25)
    POST /v1/sync    {"accept_deletions": false}
                                     sync now (or right after the running cycle), looking at
                                     everything; answers 202 {"ticket": K}: the sync is over
                                     once the status document's `cycles_finished` reaches K
    POST /v1/pause   {"until": "2026-11-24T18:00:00+01:00" | null}
                                     pause (until a time, or until resumed); 202
    POST /v1/resume                  resume and sync at once; 202
    POST /v1/credentials             a new password was saved (setup): use it and sync now,
                                     also out of a "wrong password" error; 202
    POST /v1/stop                    end the daemon; 202, then the process exits
    POST /v1/signin  {"next": "/setup"}
                                     (secret only) a one-time sign-in path for a browser:
                                     {"path": "/signin?token=…&next=/setup"}
    GET  /signin?token=…&next=…      the browser's sign-in: a session cookie, then `next`

A route returns a `Response`: any content type (pages and static files fit as well as JSON),
extra headers (a session cookie), and something to do once it has been sent (`after`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from typing import Any, BinaryIO
from urllib.parse import urlencode

from daemon.errors import RequestRefused
from daemon.i18n import _, fact
from daemon.service.control.guards import SIGNIN_PATH, Guards
from daemon.service.protocol import DaemonControl
from daemon.service.status import StatusBoard

API_PREFIX = "/v1"
LONG_POLL_MAX = 25.0


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Mapping[str, str]
    body: Mapping[str, Any]  # a JSON object (empty without a body, or for a streaming route)
    headers: Mapping[str, str]
    via: str = "secret"  # how the caller proved itself: "secret", "session" or "signin"
    session: str | None = None  # the browser session, when there is one
    # A route marked `streams_body` reads its body itself (an upload of any size), from here:
    stream: BinaryIO | None = None
    length: int = 0


def streams_body(route: Route) -> Route:
    """Mark a route that reads its (large) body from `Request.stream` itself."""
    route.streams_body = True  # type: ignore[attr-defined]
    return route


@dataclass(frozen=True)
class Response:
    status: HTTPStatus
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)
    after: Callable[[], None] | None = None  # run once the answer is sent


def json_response(status: HTTPStatus, data: Mapping[str, Any], **extra: Any) -> Response:
    return Response(status, json.dumps(data).encode("utf-8"), **extra)


@dataclass(frozen=True)
class Context:
    """What a route works with."""

    board: StatusBoard
    controls: DaemonControl
    long_poll_max: float = LONG_POLL_MAX
    guards: Guards | None = None


Route = Callable[[Context, Request], Response]


def status(context: Context, request: Request) -> Response:
    return json_response(HTTPStatus.OK, context.board.document())


def events(context: Context, request: Request) -> Response:
    since = _number(request.query.get("since"), "since", default=-1.0)
    timeout = _number(request.query.get("timeout"), "timeout", default=context.long_poll_max)
    timeout = max(0.0, min(timeout, context.long_poll_max))
    return json_response(HTTPStatus.OK, context.board.wait_for_change(int(since), timeout))


def sync(context: Context, request: Request) -> Response:
    accept = request.body.get("accept_deletions", False)
    if not isinstance(accept, bool):
        raise RequestRefused(
            HTTPStatus.BAD_REQUEST, fact("accept_deletions must be true or false.")
        )
    ticket = context.controls.sync_now(accept_deletions=accept)
    return json_response(HTTPStatus.ACCEPTED, {"accepted": True, "ticket": ticket})


def pause(context: Context, request: Request) -> Response:
    raw = request.body.get("until")
    until: datetime | None = None
    if raw is not None:
        try:
            until = datetime.fromisoformat(str(raw))
        except ValueError:
            raise RequestRefused(
                HTTPStatus.BAD_REQUEST, fact("until must be a time written in ISO 8601.")
            ) from None
    context.controls.pause(until)
    return json_response(HTTPStatus.ACCEPTED, {"accepted": True})


def resume(context: Context, request: Request) -> Response:
    context.controls.resume()
    return json_response(HTTPStatus.ACCEPTED, {"accepted": True})


def credentials(context: Context, request: Request) -> Response:
    context.controls.credentials_changed()
    return json_response(HTTPStatus.ACCEPTED, {"accepted": True})


def _panel_path(path: object) -> bool:
    """A path of this endpoint, never another site (`//host`, `/\\host` read as one)."""
    return (
        isinstance(path, str)
        and path.startswith("/")
        and not path.startswith(("//", "/\\"))
        and "\\" not in path
        and all(ord(c) > 32 for c in path)
    )


def signin_token(context: Context, request: Request) -> Response:
    """A one-time sign-in address for a browser (the tray, `congsync open`); secret only."""
    if request.via != "secret" or context.guards is None:
        raise RequestRefused(HTTPStatus.FORBIDDEN, fact("Only congsync itself may ask for this."))
    after = request.body.get("next", "/")
    if not _panel_path(after):
        raise RequestRefused(HTTPStatus.BAD_REQUEST, fact("next must be a path of the panel."))
    token = context.guards.issue_signin()
    return json_response(
        HTTPStatus.OK,
        {"path": f"{SIGNIN_PATH}?{urlencode({'token': token, 'next': after})}"},
    )


def signin(context: Context, request: Request) -> Response:
    """Turn a one-time token into a session cookie and go on to the page asked for."""
    session = (
        context.guards.redeem_signin(request.query.get("token", "")) if context.guards else None
    )
    if session is None:
        return Response(
            HTTPStatus.FORBIDDEN,
            _(
                "This sign-in address was used already or is too old. Open congsync again from "
                "its tray icon, or run “congsync open”."
            ).encode("utf-8"),
            "text/plain; charset=utf-8",
        )
    after = request.query.get("next", "/")
    if not _panel_path(after):
        after = "/"
    assert context.guards is not None  # a session was just issued by them
    cookie = f"{context.guards.cookie_name}={session}; HttpOnly; SameSite=Strict; Path=/"
    return Response(
        HTTPStatus.SEE_OTHER,
        b"",
        "text/plain; charset=utf-8",
        headers={"Location": after, "Set-Cookie": cookie},
    )


def stop(context: Context, request: Request) -> Response:
    # The daemon is told once the answer is on its way, so the client gets it.
    return json_response(HTTPStatus.ACCEPTED, {"accepted": True}, after=context.controls.quit)


ROUTES: dict[str, dict[str, Route]] = {
    f"{API_PREFIX}/status": {"GET": status},
    f"{API_PREFIX}/events": {"GET": events},
    f"{API_PREFIX}/sync": {"POST": sync},
    f"{API_PREFIX}/pause": {"POST": pause},
    f"{API_PREFIX}/resume": {"POST": resume},
    f"{API_PREFIX}/credentials": {"POST": credentials},
    f"{API_PREFIX}/stop": {"POST": stop},
    f"{API_PREFIX}/signin": {"POST": signin_token},
    SIGNIN_PATH: {"GET": signin},
}


def _number(raw: Any, name: str, default: float) -> float:
    if raw is None:
        return default
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise RequestRefused(
            HTTPStatus.BAD_REQUEST, fact("{name} must be a number.", name=name)
        ) from None
