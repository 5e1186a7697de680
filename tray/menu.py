"""The tray menu and tooltip as plain data derived from a status snapshot, testable without a display."""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Final

from daemon.i18n import _, format_clock, format_day, ngettext, weekday_name
from daemon.service.readiness_words import next_meeting, readiness_sentence
from daemon.service.status import MeetingSummary, State, StatusSnapshot, state_words


class Action(StrEnum):
    """What a menu item asks for; `TrayApp.dispatch` carries it out."""

    OPEN_PANEL = "open_panel"
    SYNC_NOW = "sync_now"
    CONFIRM_REMOVALS = "confirm_removals"
    PAUSE_HOUR = "pause:1h"
    PAUSE_TOMORROW = "pause:tomorrow"
    PAUSE_INDEFINITE = "pause:indefinite"
    RESUME = "resume"
    OPEN_MEDIA = "open_media"
    OPEN_ORGANIZER = "open_organizer"
    MANAGE_MEDIA = "manage_media"
    SETTINGS = "settings"
    VIEW_LOG = "view_log"
    QUIT = "quit"


@dataclass(frozen=True)
class MenuItem:
    """One line of the menu. `action` is None for information lines, separators and submenus."""

    label: str
    action: str | None
    enabled: bool = True
    default: bool = False  # what a (double-)click on the icon does, where the platform has that
    checked: bool = False
    submenu: tuple[MenuItem, ...] = ()

    @property
    def is_separator(self) -> bool:
        return self == SEPARATOR


SEPARATOR: Final = MenuItem(label="", action=None, enabled=False)

# Windows cuts tooltips at 127 characters (and refuses longer ones); menus get unwieldy sooner.
TOOLTIP_LIMIT: Final = 127
_MENU_LINE_WIDTH: Final = 60
_MENU_MESSAGE_LINES: Final = 3


def build_menu(status: StatusSnapshot, now: datetime) -> tuple[MenuItem, ...]:
    """The whole menu for `status`, as seen at `now` (local time)."""
    running = status.state is not State.STOPPED
    # The control panel first: the way in for volunteers who know screens rather than menus.
    items: list[MenuItem] = [MenuItem(_("Open congsync…"), Action.OPEN_PANEL, enabled=running)]
    items.append(SEPARATOR)
    if status.state in (State.ERROR, State.ATTENTION) and status.message:
        # The message says what to do; give it whole lines rather than a truncated tooltip.
        items.append(_info(_headline(status)))
        wrapped = textwrap.wrap(str(status.message), _MENU_LINE_WIDTH)
        if len(wrapped) > _MENU_MESSAGE_LINES:
            wrapped = [
                *wrapped[: _MENU_MESSAGE_LINES - 1],
                _shorten(" ".join(wrapped[_MENU_MESSAGE_LINES - 1 :]), _MENU_LINE_WIDTH),
            ]
        items.extend(_info(line) for line in wrapped)
    else:
        items.append(_info(_shorten(status_text(status, now))))
    meeting = next_meeting_text(status.meetings, now)
    if meeting:
        items.append(_info(meeting))
    items.append(SEPARATOR)

    if status.state is State.PAUSED:
        items.append(MenuItem(_("Resume syncing"), Action.RESUME, default=True))
    else:
        items.append(MenuItem(_("Sync now"), Action.SYNC_NOW, enabled=running, default=running))
        if status.state is State.ATTENTION and status.needs_confirmation:
            # The one way out of a safety stop from the tray: the user confirms the removals.
            items.append(MenuItem(_("Confirm the removals and sync"), Action.CONFIRM_REMOVALS))
        items.append(
            MenuItem(
                _("Pause syncing"),
                None,
                enabled=running,
                submenu=(
                    MenuItem(_("For 1 hour"), Action.PAUSE_HOUR),
                    MenuItem(_("Until tomorrow"), Action.PAUSE_TOMORROW),
                    MenuItem(_("Until I resume"), Action.PAUSE_INDEFINITE),
                ),
            )
        )
    items.append(SEPARATOR)
    items.append(MenuItem(_("Open media folder"), Action.OPEN_MEDIA))
    if status.role == "organizer":
        items.append(MenuItem(_("Open organizer folder"), Action.OPEN_ORGANIZER))
        items.append(MenuItem(_("Manage media…"), Action.MANAGE_MEDIA, enabled=running))
    items.append(SEPARATOR)
    items.append(MenuItem(_("Settings…"), Action.SETTINGS, enabled=running))
    items.append(MenuItem(_("View log"), Action.VIEW_LOG))
    items.append(SEPARATOR)
    items.append(MenuItem(_("Quit"), Action.QUIT))
    return tuple(items)


def tooltip(status: StatusSnapshot, now: datetime) -> str:
    """The icon's hover text: the state in words, when it last synced or will retry, and
    whether the next meeting is ready ("Ready for Thursday: 12 of 12 files")."""
    text = status_text(status, now)
    meeting = next_meeting(status.meetings, now.date())
    if meeting is not None:
        text = _("{state} · {readiness}").format(
            state=text, readiness=readiness_sentence(meeting, now.date())
        )
    return _shorten(text, TOOLTIP_LIMIT)


def status_text(status: StatusSnapshot, now: datetime) -> str:
    """One line for the state, e.g. "Up to date · 14:02" or "Offline · retrying in 2 min"."""
    state = status.state
    if state is State.IDLE:
        last = to_local(status.last_sync_at, now)
        if last is None:
            return _("Waiting for the first sync")
        return _("Up to date · {when}").format(when=format_moment(last, now))
    if state is State.SYNCING:
        progress = status.progress
        if progress is not None and progress.files_total > 0:
            return ngettext(
                "Syncing · {done} of {total} file",
                "Syncing · {done} of {total} files",
                progress.files_total,
            ).format(done=progress.files_done, total=progress.files_total)
        return _("Syncing…")
    if state is State.PAUSED:
        until = to_local(status.paused_until, now)
        if until is None:
            return _("Paused")
        return _("Paused until {when}").format(when=format_moment(until, now))
    if state is State.OFFLINE:
        return _offline_text(to_local(status.next_retry_at, now), now)
    if state in (State.ERROR, State.ATTENTION) and status.message:
        if state is State.ERROR:
            return _("Error · {message}").format(message=status.message)
        return _("Needs attention · {message}").format(message=status.message)
    return _headline(status)


def next_meeting_text(meetings: tuple[MeetingSummary, ...], now: datetime) -> str | None:
    """E.g. "Next meeting: Tuesday 24 November · 5 of 6 files"; None when none is coming."""
    today = now.date()
    upcoming = sorted(
        (day, meeting)
        for meeting in meetings
        if (day := parse_day(meeting.date)) is not None and day >= today
    )
    if not upcoming:
        return None
    day, meeting = upcoming[0]
    if meeting.files_expected <= 0:
        if day == today:
            return _("Today's meeting · no media")
        return _("Next meeting: {day} · no media").format(day=format_day(day))
    numbers = {"present": meeting.files_present, "expected": meeting.files_expected}
    if day == today:
        return ngettext(
            "Today's meeting · {present} of {expected} file",
            "Today's meeting · {present} of {expected} files",
            meeting.files_expected,
        ).format(**numbers)
    return ngettext(
        "Next meeting: {day} · {present} of {expected} file",
        "Next meeting: {day} · {present} of {expected} files",
        meeting.files_expected,
    ).format(day=format_day(day), **numbers)


# --- words for moments, shared with the notifications -------------------------------------------


def to_local(iso: str | None, now: datetime) -> datetime | None:
    """Parse an ISO 8601 moment from the status into the time zone `now` is in.

    A moment without an offset is taken as local time; an unparsable one as unknown.
    """
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return None
    if now.tzinfo is None:
        return moment.astimezone().replace(tzinfo=None) if moment.tzinfo else moment
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.astimezone(now.tzinfo)


def parse_day(iso: str) -> date | None:
    try:
        return date.fromisoformat(iso)
    except ValueError:
        return None


def format_moment(moment: datetime, now: datetime) -> str:
    """A moment near `now` in the fewest words: "14:02", "yesterday 14:02", "Friday 09:30"."""
    days = (moment.date() - now.date()).days
    clock = format_clock(moment)
    if days == 0:
        return clock
    if days == -1:
        return _("yesterday {time}").format(time=clock)
    if days == 1:
        return _("tomorrow {time}").format(time=clock)
    if -6 <= days <= 6:
        return _("{weekday} {time}").format(weekday=weekday_name(moment.date()), time=clock)
    return format_day(moment.date())


def _offline_text(retry: datetime | None, now: datetime) -> str:
    if retry is None:
        return _("Offline")
    seconds = (retry - now).total_seconds()
    if seconds <= 0:
        return _("Offline · retrying now")
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return ngettext(
            "Offline · retrying in {minutes} min",
            "Offline · retrying in {minutes} min",
            minutes,
        ).format(minutes=minutes)
    return _("Offline · retrying at {when}").format(when=format_moment(retry, now))


def _headline(status: StatusSnapshot) -> str:
    """The state alone, for lines that have no room or no detail."""
    return state_words(status.state)


def _info(label: str) -> MenuItem:
    return MenuItem(label, None, enabled=False)


def _shorten(text: str, limit: int = _MENU_LINE_WIDTH + 20) -> str:
    text = " ".join(text.split())  # menus and tooltips show one line
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"
