"""The Manage media page (organizers): each upcoming meeting and Recurring, with their files.

Every change is the command line's: `Publisher.add_media` / `add_recurring` (staged,
conditional uploads, as `congsync media add`), `remove_media` / `remove_recurring`, `hide` and
`unhide`. An upload arrives as the raw body of `PUT /media/upload?date=…&name=…` (the page
streams the dropped file), is written in chunks into a folder of its own under the state folder
(never held in memory), published from there, and deleted.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable
from datetime import date
from http import HTTPStatus
from pathlib import Path
from typing import Any, TypeVar

from daemon.core.names import is_safe_local_name
from daemon.errors import CongsyncError, RequestRefused
from daemon.i18n import _, format_day, human_size
from daemon.service.control.api import Context, Request, Response, Route, streams_body
from daemon.service.panel.services import PanelServices
from daemon.service.panel.web import ok, page, refuse
from daemon.sync.publishing import Publisher, parse_day

RECURRING = "recurring"  # the `date` that names the Recurring folder
CHUNK = 1024 * 1024
MAX_NAME = 255

T = TypeVar("T")


def routes(services: PanelServices) -> dict[str, dict[str, Route]]:
    def show(context: Context, request: Request) -> Response:
        return page(context, request, services, "media.html", **media_values(services))

    @streams_body
    def upload(context: Context, request: Request) -> Response:
        return receive_upload(services, request)

    def change(
        act: Callable[[Publisher, date | None, str], str | list[str]],
    ) -> Route:
        def route(context: Context, request: Request) -> Response:
            day = _day(request.body.get("date"))
            name = request.body.get("name")
            if not isinstance(name, str) or not name:
                raise refuse(HTTPStatus.BAD_REQUEST, _("Say which file."))
            answer = _publishing(services, lambda publisher: act(publisher, day, name))
            return ok({"message": " ".join([answer] if isinstance(answer, str) else answer)})

        return route

    def remove(publisher: Publisher, day: date | None, name: str) -> str:
        if day is None:
            return publisher.remove_recurring(name)
        return publisher.remove_media(day, name)

    def hide(publisher: Publisher, day: date | None, name: str) -> list[str]:
        return publisher.hide(_meeting(day), name)

    def unhide(publisher: Publisher, day: date | None, name: str) -> str:
        return publisher.unhide(_meeting(day), name)

    return {
        "/media": {"GET": show},
        "/media/upload": {"PUT": upload},
        "/media/remove": {"POST": change(remove)},
        "/media/hide": {"POST": change(hide)},
        "/media/unhide": {"POST": change(unhide)},
    }


def media_values(services: PanelServices) -> dict[str, Any]:
    """What the page shows: the upcoming meetings (meeting days of the window, the CO week,
    and every later date already on the server) and Recurring, or why not."""
    try:
        config = services.profile.config
    except CongsyncError as exc:
        return {"allowed": False, "problem": exc.message}
    if not config.is_organizer:
        return {"allowed": False, "problem": None}
    try:
        with services.reading() as publisher:
            listed = {meeting.day: meeting for meeting in publisher.media()}
            meeting_days = set(publisher.meeting_days())
            days = sorted(set(listed) | meeting_days)
            recurring = publisher.recurring()
    except CongsyncError as exc:
        return {"allowed": True, "problem": exc.message, "meetings": [], "recurring": []}
    meetings = []
    for day in days:
        found = listed.get(day)
        files = found.files if found else ()
        hidden = found.hidden if found else ()
        hidden_keys = {h.casefold() for h in hidden}
        shown = {f.name.casefold() for f in files}
        # Recurring media is placed at every meeting: it can be hidden at one of them.
        placed = [
            {
                "name": f.name,
                "size": human_size(f.size),
                "hidden": f.name.casefold() in hidden_keys,
            }
            for f in recurring
            if day in meeting_days and f.name.casefold() not in shown
        ]
        shown |= {str(r["name"]).casefold() for r in placed}
        meetings.append(
            {
                "date": day.isoformat(),
                "day": format_day(day),
                "files": [
                    {"name": f.name, "size": human_size(f.size), "hidden": f.hidden} for f in files
                ],
                "recurring": placed,
                # The other markers of that date (names of no media listed here): un-hide them.
                "markers": [h for h in hidden if h.casefold() not in shown],
            }
        )
    return {
        "allowed": True,
        "problem": None,
        "meetings": meetings,
        "recurring": [{"name": f.name, "size": human_size(f.size)} for f in recurring],
    }


def receive_upload(services: PanelServices, request: Request) -> Response:
    """Write the streamed body to a file of its own, publish it as `media add` does, delete it."""
    query = request.query
    day = _day(query.get("date"))
    name = query.get("name", "")
    replace = query.get("replace") in ("1", "true", "yes")
    if (
        not name
        or name in (".", "..")
        or len(name) > MAX_NAME
        or any(c in name for c in "/\\\x00")
        or not name.strip()
        # A drive ("D:x"), a device ("CON") or another name Windows reads otherwise.
        or not is_safe_local_name(name)
    ):
        raise refuse(HTTPStatus.BAD_REQUEST, _("“{name}” is not a file name.").format(name=name))
    try:
        services.profile.config.require_organizer()  # before a single byte is read
    except CongsyncError as exc:
        raise refuse(HTTPStatus.FORBIDDEN, exc.message) from None
    if request.stream is None:
        raise refuse(HTTPStatus.BAD_REQUEST, _("Send the file as the request body."))
    folder = services.profile.paths.state_dir / "uploads" / secrets.token_hex(8)
    try:
        folder.mkdir(parents=True, mode=0o700)
        target = folder / name
        _receive(request, target)
        messages = _publishing(
            services,
            lambda publisher: (
                publisher.add_recurring([target], replace=replace)
                if day is None
                else publisher.add_media(day, [target], replace=replace)
            ),
        )
    except OSError as exc:
        raise refuse(
            HTTPStatus.INSUFFICIENT_STORAGE,
            _("congsync could not keep the file while sending it: {reason}.").format(
                reason=exc.strerror or exc
            ),
        ) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return ok({"message": " ".join(messages)})


def _receive(request: Request, target: Path) -> None:
    """Copy exactly `request.length` bytes of the body to `target`, one chunk at a time."""
    assert request.stream is not None
    remaining = request.length
    with open(target, "wb") as out:
        while remaining > 0:
            try:
                chunk = request.stream.read(min(CHUNK, remaining))
            except (ConnectionError, TimeoutError):
                chunk = b""
            if not chunk:
                raise refuse(
                    HTTPStatus.BAD_REQUEST,
                    _("The upload was interrupted; nothing was published. Try again."),
                )
            out.write(chunk)
            remaining -= len(chunk)


def _publishing(services: PanelServices, act: Callable[[Publisher], T]) -> T:
    """Run one of the organizer's commands; its refusal becomes the page's sentence."""
    try:
        with services.publisher(True) as publisher:
            return act(publisher)
    except RequestRefused:
        raise
    except CongsyncError as exc:
        raise refuse(HTTPStatus.CONFLICT, exc.message) from None


def _day(raw: Any) -> date | None:
    """The meeting a request names (YYYY-MM-DD), or None for Recurring."""
    if raw == RECURRING:
        return None
    if not isinstance(raw, str):
        raise refuse(HTTPStatus.BAD_REQUEST, _("Say which meeting."))
    try:
        return parse_day(raw)
    except CongsyncError as exc:
        raise refuse(HTTPStatus.BAD_REQUEST, exc.message) from None


def _meeting(day: date | None) -> date:
    if day is None:
        raise refuse(
            HTTPStatus.BAD_REQUEST,
            _("Recurring media is hidden at one meeting: choose that meeting's Hide button."),
        )
    return day
