"""Decides which desktop notifications a status change deserves: few, and only ones that help."""

from __future__ import annotations

from typing import Any

from daemon.i18n import _, format_day, ngettext
from daemon.service.status import State, StatusSnapshot
from tray.menu import parse_day

Notification = tuple[str, str]  # (title, message)

_PROBLEM_STATES = (State.ERROR, State.ATTENTION)


def notifications_for(
    previous: StatusSnapshot | None, current: StatusSnapshot, enabled: bool
) -> list[Notification]:
    """What to show on the change from `previous` (None: nothing seen yet) to `current`.

    One summary after a sync that brought new media, never one per file; one when the state
    turns to error or attention; nothing otherwise, and nothing at all when `enabled` is off.
    """
    if not enabled:
        return []
    notes: list[Notification] = []
    media = _new_media(previous, current)
    if media is not None:
        notes.append(media)
    problem = _problem(previous, current)
    if problem is not None:
        notes.append(problem)
    told = _new_warnings(previous, current)
    if told is not None:
        notes.append(told)
    return notes


def _warnings(snapshot: StatusSnapshot) -> list[str]:
    result = snapshot.last_result or {}
    found = result.get("warnings")
    return [w for w in found if isinstance(w, str)] if isinstance(found, list) else []


def _new_warnings(previous: StatusSnapshot | None, current: StatusSnapshot) -> Notification | None:
    """One notification when a cycle found something to tell (a conflict copy kept, a file
    that is not published and why); a warning repeated by later cycles is not told again."""
    if previous is None or current.last_result is None:
        return None
    if (previous.last_result or {}).get("finished_at") == current.last_result.get("finished_at"):
        return None  # not a new cycle's result
    seen = set(_warnings(previous))
    new = [w for w in dict.fromkeys(_warnings(current)) if w not in seen]
    if not new:
        return None
    title = _("congsync: please check")
    if len(new) == 1:
        return (title, new[0])
    more = ngettext(
        "{count} more thing to check: see View log.",
        "{count} more things to check: see View log.",
        len(new) - 1,
    ).format(count=len(new) - 1)
    return (title, _("{first}\n{more}").format(first=new[0], more=more))


def _new_media(previous: StatusSnapshot | None, current: StatusSnapshot) -> Notification | None:
    # Without a previous snapshot the last result may be hours old (read back at start-up).
    if previous is None or not current.last_sync_at:
        return None
    if current.last_sync_at == previous.last_sync_at:
        return None
    counts = _new_counts(current.last_result)
    if not counts:
        return None
    total = sum(counts.values())
    if len(counts) == 1:
        (date_text,) = counts
        day = parse_day(date_text)
        message = ngettext(
            "{count} new file for {meeting}",
            "{count} new files for {meeting}",
            total,
        ).format(count=total, meeting=format_day(day) if day else date_text)
    else:
        # Translators: {meetings} is always 2 or more.
        message = ngettext(
            "{count} new file for {meetings} meetings",
            "{count} new files for {meetings} meetings",
            total,
        ).format(count=total, meetings=len(counts))
    return (_("New meeting media"), message)


def _new_counts(last_result: dict[str, Any] | None) -> dict[str, int]:
    """The positive per-meeting counts of `last_result["new_by_date"]`, ignoring anything odd."""
    if not last_result:
        return {}
    by_date = last_result.get("new_by_date")
    if not isinstance(by_date, dict):
        return {}
    return {
        str(day): count
        for day, count in by_date.items()
        if isinstance(count, int) and not isinstance(count, bool) and count > 0
    }


def _problem(previous: StatusSnapshot | None, current: StatusSnapshot) -> Notification | None:
    if current.state not in _PROBLEM_STATES:
        return None
    if previous is not None and previous.state is current.state:
        return None
    if current.state is State.ERROR:
        title = _("congsync cannot sync")
        fallback = _("Open the congsync menu and choose View log for details.")
    else:
        title = _("congsync needs your attention")
        fallback = _("Open the congsync menu to see what needs your decision.")
    return (title, str(current.message) or fallback)
