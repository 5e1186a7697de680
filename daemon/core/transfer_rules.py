"""Pure rules for a Kingdom Hall's internet: quiet during meetings, the rate in force, and the
order (and sharing) of downloads. Nothing here touches the network, the disk or the clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from daemon.core.meetings import meeting_dates
from daemon.core.member_plan import Download

# ---------------------------------------------------------------------------------------------
# Quiet during meetings

QUIET_BEFORE = timedelta(minutes=30)
QUIET_AFTER = timedelta(hours=2)
# The cap on the meeting's own files during its quiet time when no max_rate is set: 500 KB/s
# (4 Mbit/s) leaves a 16 Mbit/s hall line three quarters free for the meeting's video call
# (Zoom asks for about 3 Mbit/s for HD group video) and still brings a 100 MB video in under
# four minutes.
QUIET_DEFAULT_RATE = 500 * 1000


def parse_start_time(text: str | None) -> time | None:
    """ "19:30" as a time of day; None when unset (layout already dropped garbage with a warning)."""
    if not text:
        return None
    hours, _sep, minutes = text.partition(":")
    try:
        return time(int(hours), int(minutes[:2]))
    except ValueError:
        return None


def quiet_meeting(
    now: datetime,
    mw_day: int | None,
    we_day: int | None,
    co_week: date | None,
    mw_start: time | None,
    we_start: time | None,
) -> date | None:
    """The meeting whose quiet time `now` (local wall-clock time) falls in, or None.

    Quiet time runs from QUIET_BEFORE a meeting's start until QUIET_AFTER it. A date that is a
    weekend meeting day uses `we_start`; any other meeting date (the midweek meeting, on
    Tuesday in the circuit overseer's week) uses `mw_start`. Yesterday counts too, so a late
    meeting's quiet time may run past midnight.
    """
    wall = now.replace(tzinfo=None)
    for day in (wall.date() - timedelta(days=1), wall.date()):
        if not meeting_dates(day, 0, mw_day, we_day, co_week):
            continue
        start_time = we_start if day.weekday() == we_day else mw_start
        if start_time is None:
            continue
        start = datetime.combine(day, start_time)
        if start - QUIET_BEFORE <= wall < start + QUIET_AFTER:
            return day
    return None


def rate_in_force(max_rate: int, quiet: bool) -> int:
    """The limit for this cycle's transfers (bytes per second, 0 = none)."""
    if quiet and max_rate == 0:
        return QUIET_DEFAULT_RATE
    return max_rate


# ---------------------------------------------------------------------------------------------
# Which download comes first, and which are one file placed at several meetings


def download_order(downloads: Sequence[Download]) -> list[Download]:
    """The next meeting's files first; within a date the smaller files first (readiness counts
    files, so one long video does not keep a meeting's songs and pictures waiting), then by
    name (the organizer's numbering)."""
    return sorted(downloads, key=lambda d: (d.date, d.remote.size or 0, d.name))


def share_downloads(downloads: Sequence[Download]) -> list[tuple[Download, tuple[Download, ...]]]:
    """Group the downloads of one server file (version and all) placed at several dates, such
    as recurring media: the first in order is downloaded, the others are copied from it."""
    groups: dict[tuple[tuple[str, ...], str], list[Download]] = {}
    for download in download_order(downloads):
        groups.setdefault((download.remote.path, download.remote.version), []).append(download)
    return [(first, tuple(rest)) for first, *rest in groups.values()]


def split_quiet(
    downloads: Sequence[Download], meeting: date | None
) -> tuple[list[Download], list[Download]]:
    """(to fetch now, deferred): during a meeting's quiet time only that meeting's files come."""
    if meeting is None:
        return list(downloads), []
    key = meeting.isoformat()
    return [d for d in downloads if d.date == key], [d for d in downloads if d.date != key]
