"""Is this computer ready for the next meeting, in words: the status carries the facts (date,
files expected and present, why each missing one is missing); the CLI, the tray and the panel
say them with these sentences."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from daemon.i18n import _, format_day, ngettext, weekday_name
from daemon.sync.media_folder import (
    DEFERRED,
    FAILED,
    KEPT,
    NOT_CONVERTED,
    MeetingSummary,
    MissingFile,
)


def next_meeting(meetings: Iterable[MeetingSummary], today: date) -> MeetingSummary | None:
    """The first meeting of today or later, or None."""
    upcoming = sorted(
        (m for m in meetings if _day(m.date) is not None and m.date >= today.isoformat()),
        key=lambda m: m.date,
    )
    return upcoming[0] if upcoming else None


def meeting_day(day: date, today: date) -> str:
    """ "today", "tomorrow", "Thursday" (within a week), else "Thursday 10 December"."""
    days = (day - today).days
    if days == 0:
        return _("today")
    if days == 1:
        return _("tomorrow")
    if 0 < days < 7:
        return weekday_name(day)
    return format_day(day)


def readiness_sentence(meeting: MeetingSummary, today: date) -> str:
    """ "Ready for Thursday: 12 of 12 files" or "Not ready for Thursday: 10 of 12 files"."""
    day = _day(meeting.date)
    when = meeting_day(day, today) if day is not None else meeting.date
    if meeting.files_expected == 0:
        return _("No media for {day} yet").format(day=when)
    numbers = {"day": when, "present": meeting.files_present, "expected": meeting.files_expected}
    if meeting.files_present >= meeting.files_expected:
        return ngettext(
            "Ready for {day}: {present} of {expected} file",
            "Ready for {day}: {present} of {expected} files",
            meeting.files_expected,
        ).format(**numbers)
    return ngettext(
        "Not ready for {day}: {present} of {expected} file",
        "Not ready for {day}: {present} of {expected} files",
        meeting.files_expected,
    ).format(**numbers)


def reason_words(missing: MissingFile) -> str:
    """Why one file is not there yet, e.g. "waiting until after the meeting"."""
    if missing.reason == FAILED:
        return _("failed: {error}").format(error=missing.detail or _("unknown error"))
    if missing.reason == DEFERRED:
        return _("waiting until after the meeting")
    if missing.reason == KEPT:
        return _("a different file of yours has this name and is kept")
    if missing.reason == NOT_CONVERTED:
        return _("could not be converted: {error}").format(
            error=missing.detail or _("unknown error")
        )
    return _("downloading or waiting its turn")


def missing_lines(meeting: MeetingSummary) -> list[str]:
    """One line per missing file: "talk.mp4: waiting until after the meeting"."""
    return [_("{name}: {why}").format(name=m.name, why=reason_words(m)) for m in meeting.missing]


def _day(iso: str) -> date | None:
    try:
        return date.fromisoformat(iso)
    except ValueError:
        return None
