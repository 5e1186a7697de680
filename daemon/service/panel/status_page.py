"""The status page: the state as the tray shows it, the running sync, and each upcoming meeting.

`/status` is the page; `/status/live` is its changing part alone, which `static/status.js`
fetches again whenever the status document changes (it long-polls `/v1/events`), so that every
word is still said here, in Python, through `_()`. `/status/thumb` serves a small JPEG of an
image in one of the media folder's date folders, and of nothing else.
"""

from __future__ import annotations

import io
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any

from daemon.errors import CongsyncError, LocalDiskError
from daemon.i18n import _, format_day, format_when, human_size, ngettext, render_json, weekday_name
from daemon.service.control.api import Context, Request, Response, Route
from daemon.service.panel.services import PanelServices
from daemon.service.panel.web import page, refuse
from daemon.service.status import State, state_words
from daemon.sync.media_folder import (
    DEFERRED,
    FAILED,
    KEPT,
    NOT_CONVERTED,
    QUEUED,
    MediaFolder,
    MeetingFiles,
)

LOG_LINES = 40
THUMB_SIZE = (160, 100)
# Images a browser shows and Pillow reads; anything else gets no thumbnail.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp"})
# Videos show a placeholder (static/video.svg) instead: no frame is decoded for them.
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".mpg", ".mpeg"})
# A larger picture is not decoded for a thumbnail (a decompression bomb, or a poster print).
MAX_THUMB_PIXELS = 80_000_000


@dataclass(frozen=True)
class Problem:
    text: str
    advice: str


class Pace:
    """How fast the running sync moves, for "about 3 minutes left": bytes since it was first
    seen, per second (the status document carries no speed)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cycle = -1
        self._start: tuple[float, int] = (0.0, 0)

    def seconds_left(self, cycle: int, done: int, total: int) -> float | None:
        now = time.monotonic()
        with self._lock:
            if cycle != self._cycle or done < self._start[1]:
                self._cycle, self._start = cycle, (now, done)
                return None
            started, first = self._start
        elapsed, moved = now - started, done - first
        if elapsed < 2.0 or moved <= 0 or total <= done:
            return None
        return (total - done) / (moved / elapsed)


def routes(services: PanelServices) -> dict[str, dict[str, Route]]:
    pace = Pace()

    def status(context: Context, request: Request) -> Response:
        values = live_values(services, context.board.document(), pace)
        return page(context, request, services, "status.html", **values)

    def live(context: Context, request: Request) -> Response:
        values = live_values(services, context.board.document(), pace)
        return page(context, request, services, "status_live.html", **values)

    def thumb(context: Context, request: Request) -> Response:
        return thumbnail(services, request.query.get("date", ""), request.query.get("name", ""))

    return {
        "/status": {"GET": status},
        "/status/live": {"GET": live},
        "/status/thumb": {"GET": thumb},
    }


def live_values(services: PanelServices, document: dict[str, Any], pace: Pace) -> dict[str, Any]:
    """Everything the changing part of the status page shows, in words."""
    try:
        state = State(document.get("state", State.STOPPED))
    except ValueError:
        state = State.STOPPED
    meetings: list[MeetingFiles] = []
    media_dir = document.get("media_dir")
    media = MediaFolder(Path(media_dir)) if media_dir else None
    if media is not None:
        meetings = media.meeting_files(date.today())
    result = document.get("last_result") or {}
    errors = [str(e) for e in result.get("errors", [])]
    return {
        "status": document,
        "message": render_json(document.get("message")),  # the daemon's fact, said now
        "state_name": state.value,
        "state_words": state_words(state),
        "last_check": _moment(document.get("last_sync_at")),
        "next_check": _next_check(state, document),
        "progress": _progress(document, pace) if state is State.SYNCING else None,
        "meetings": [_meeting(m, errors, state, _copies(services, media)) for m in meetings],
        "problems": _problems(state, document, result, configured=services.configured),
        "log": list(services.log_tail(LOG_LINES)),
    }


def _moment(iso: Any) -> str | None:
    if not isinstance(iso, str) or not iso:
        return None
    try:
        return format_when(datetime.fromisoformat(iso))
    except ValueError:
        return None


def _next_check(state: State, document: dict[str, Any]) -> str | None:
    if state is State.SYNCING:
        return _("now")
    if state is State.PAUSED:
        until = _moment(document.get("paused_until"))
        return _("when paused syncing ends, {when}").format(when=until) if until else None
    if state in (State.OFFLINE, State.ERROR, State.ATTENTION):
        return _moment(document.get("next_retry_at"))
    if state is State.STOPPED:
        return None
    return _moment(document.get("next_check_at"))


def _progress(document: dict[str, Any], pace: Pace) -> dict[str, Any] | None:
    progress = document.get("progress")
    if not isinstance(progress, dict):
        return None
    files_done, files_total = (
        int(progress.get("files_done", 0)),
        int(progress.get("files_total", 0)),
    )
    done, total = int(progress.get("bytes_done", 0)), int(progress.get("bytes_total", 0))
    left = pace.seconds_left(int(document.get("cycles_started", 0)), done, total)
    files = (
        ngettext("{done} of {total} file", "{done} of {total} files", files_total).format(
            done=files_done, total=files_total
        )
        if files_total
        else _("Looking at the server…")
    )
    return {
        "files": files,
        "bytes": _("{done} of {total}").format(done=human_size(done), total=human_size(total))
        if total
        else None,
        "value": done,
        "max": total,
        "current": progress.get("current"),
        "left": _time_left(left) if left is not None else None,
    }


def _time_left(seconds: float) -> str:
    if seconds < 60:
        return _("less than a minute left")
    minutes = round(seconds / 60)
    if minutes < 90:
        return ngettext(
            "about {minutes} minute left", "about {minutes} minutes left", minutes
        ).format(minutes=minutes)
    hours = round(seconds / 3600)
    return ngettext("about {hours} hour left", "about {hours} hours left", hours).format(
        hours=hours
    )


def _meeting(
    meeting: MeetingFiles, errors: list[str], state: State, copies: list[Path]
) -> dict[str, Any]:
    day = date.fromisoformat(meeting.date)
    summary = meeting.summary
    ready = summary.files_expected > 0 and summary.files_present == summary.files_expected
    numbers = {"present": summary.files_present, "expected": summary.files_expected}
    which = _which_meeting(day)
    if summary.files_expected == 0:
        headline = _("No media for {meeting} yet.").format(meeting=which)
    elif ready:
        headline = ngettext(
            "Ready for {meeting}: {present} of {expected} file",
            "Ready for {meeting}: {present} of {expected} files",
            summary.files_expected,
        ).format(meeting=which, **numbers)
    else:
        headline = ngettext(
            "Not ready yet for {meeting}: {present} of {expected} file",
            "Not ready yet for {meeting}: {present} of {expected} files",
            summary.files_expected,
        ).format(meeting=which, **numbers)
    files = []
    for item in meeting.files:
        badges = []
        if item.recurring:
            badges.append(("recurring", _("recurring")))
        why = ""
        if not item.present:
            kind = item.reason or QUEUED
            # A manifest from before reasons were kept: the same words the sync uses for a
            # file it could not fetch.
            prefix = _("{date}/{name}: {reason}").format(
                date=meeting.date, name=item.name, reason=""
            )
            if kind == QUEUED and any(e.startswith(prefix) for e in errors):
                kind = FAILED
            badges.append((kind, _badge_words(kind)))
            why = item.detail
        files.append(
            {
                "name": item.name,
                "size": human_size(item.size),
                "present": item.present,
                "image": item.present and Path(item.name).suffix.lower() in IMAGE_SUFFIXES,
                "video": Path(item.name).suffix.lower() in VIDEO_SUFFIXES,
                "badges": badges,
                "why": why,
            }
        )
    hidden = [
        {
            "name": name,
            "size": human_size(size) if (size := _hidden_size(copies, meeting.date, name)) else "",
            "video": Path(name).suffix.lower() in VIDEO_SUFFIXES,
        }
        for name in meeting.hidden
    ]
    return {
        "date": meeting.date,
        "day": format_day(day),
        "ready": ready,
        "headline": headline,
        "files": files,
        "hidden": hidden,
        "syncing": state is State.SYNCING,
    }


def _badge_words(reason: str) -> str:
    words = {
        FAILED: _("failed"),
        DEFERRED: _("after the meeting"),
        KEPT: _("your own file kept"),
        NOT_CONVERTED: _("not converted"),
    }
    return words.get(reason, _("waiting"))


def _copies(services: PanelServices, media: MediaFolder | None) -> list[Path]:
    """Where this computer may keep a copy of a hidden file: set aside by the hiding (the
    user's own file), still in the media folder, or in the organizer folder (organizers)."""
    places = [media.hidden, media.root] if media is not None else []
    try:
        organizer_dir = services.profile.config.organizer_dir if services.configured else None
    except CongsyncError:
        organizer_dir = None
    if organizer_dir is not None:
        places.append(organizer_dir)
    return places


def _hidden_size(copies: list[Path], day: str, name: str) -> int | None:
    """The size of a hidden file, when this computer has a copy of it (see `_copies`)."""
    if "/" in name or "\\" in name or name in (".", ".."):
        return None
    for path in (place / day / name for place in copies):
        try:
            if path.is_file():
                return path.stat().st_size
        except OSError:
            continue
    return None


def _which_meeting(day: date) -> str:
    """ "today's meeting", "Thursday's meeting" (within a week), "the meeting on …" (later)."""
    days = (day - date.today()).days
    if days == 0:
        return _("today's meeting")
    if days == 1:
        return _("tomorrow's meeting")
    if 0 < days < 7:
        return _("{weekday}'s meeting").format(weekday=weekday_name(day))
    return _("the meeting on {day}").format(day=format_day(day))


def _problems(
    state: State, document: dict[str, Any], result: dict[str, Any], *, configured: bool = True
) -> list[Problem]:
    """Recent problems, each with one sentence on what to do."""
    problems = []
    message = render_json(document.get("message"))
    if not configured:
        if message:
            problems.append(
                Problem(
                    message,
                    _("Fill in the Setup page; congsync starts syncing once it is saved."),
                )
            )
    elif state is State.ATTENTION and document.get("needs_confirmation"):
        problems.append(
            Problem(
                message,
                _(
                    "If the organizer really removed these files, choose “Confirm the removals "
                    "and sync”; otherwise ask him first."
                ),
            )
        )
    elif state in (State.ERROR, State.ATTENTION, State.OFFLINE) and message:
        problems.append(
            Problem(
                message,
                _("congsync tries again by itself; choose “Sync now” once you have fixed it."),
            )
        )
    for error in result.get("errors", []):
        problems.append(
            Problem(
                str(error),
                _(
                    "congsync tries this again at every check; if it keeps failing, the log "
                    "below says more."
                ),
            )
        )
    for warning in result.get("warnings", []):
        problems.append(
            Problem(
                str(warning),
                _("Nothing is lost; tell the organizer if this keeps appearing."),
            )
        )
    return problems


def thumbnail(services: PanelServices, day: str, name: str) -> Response:
    """A small JPEG of the image `name` in the date folder `day` of the media folder."""
    nothing = refuse(HTTPStatus.NOT_FOUND, _("There is no such picture in the media folder."))
    try:
        media = MediaFolder(services.profile.config.media_dir)
        if date.fromisoformat(day).isoformat() != day:  # a date folder's name, nothing else
            raise nothing
        path = media.file_path(day, name)
    except (CongsyncError, ValueError):
        raise nothing from None
    root = media.root.resolve()
    real = path.resolve()
    # The date folder's own file, not a link out of the media folder or into congsync's corner.
    if real.parent != root / day or real.suffix.lower() not in IMAGE_SUFFIXES or not real.is_file():
        raise nothing
    return Response(
        HTTPStatus.OK,
        _thumbnail_bytes(real, nothing),
        "image/jpeg",
        headers={"Cache-Control": "private, max-age=300"},
    )


def _thumbnail_bytes(path: Path, nothing: Exception) -> bytes:
    from PIL import Image, ImageOps  # only the thumbnails need it

    try:
        with Image.open(path) as image:
            if image.width * image.height > MAX_THUMB_PIXELS:
                raise nothing
            image.draft("RGB", (THUMB_SIZE[0] * 2, THUMB_SIZE[1] * 2))  # JPEG: decode smaller
            small = ImageOps.exif_transpose(image) or image
            small.thumbnail(THUMB_SIZE)
            out = io.BytesIO()
            small.convert("RGB").save(out, "JPEG", quality=80)
            return out.getvalue()
    except (OSError, ValueError, Image.DecompressionBombError, LocalDiskError):
        raise nothing from None
