"""The one door every user-facing string goes through, so the interface can be translated."""

from __future__ import annotations

import gettext
from datetime import date, datetime
from pathlib import Path

_LOCALE_DIR = Path(__file__).parent / "locale"
_translation = gettext.translation("congsync", localedir=_LOCALE_DIR, fallback=True)


def _(message: str) -> str:
    """Translate one whole sentence (with `{named}` placeholders, never concatenated)."""
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a sentence whose form depends on a count."""
    return _translation.ngettext(singular, plural, n)


# -- names of days and months: from here only, so every face says them the same way ----------


def weekday_name(day: date) -> str:
    names = (
        _("Monday"),
        _("Tuesday"),
        _("Wednesday"),
        _("Thursday"),
        _("Friday"),
        _("Saturday"),
        _("Sunday"),
    )
    return names[day.weekday()]


def month_name(day: date) -> str:
    names = (
        _("January"),
        _("February"),
        _("March"),
        _("April"),
        _("May"),
        _("June"),
        _("July"),
        _("August"),
        _("September"),
        _("October"),
        _("November"),
        _("December"),
    )
    return names[day.month - 1]


def format_day(day: date) -> str:
    """E.g. "Tuesday 24 November"."""
    return _("{weekday} {day} {month}").format(
        weekday=weekday_name(day), day=day.day, month=month_name(day)
    )


def format_clock(moment: datetime) -> str:
    """E.g. "14:02"."""
    return _("{hour:02d}:{minute:02d}").format(hour=moment.hour, minute=moment.minute)


def format_moment(moment: datetime) -> str:
    """A moment in words, e.g. "Tuesday 24 November 14:02"."""
    return _("{day} {time}").format(day=format_day(moment.date()), time=format_clock(moment))


def format_when(moment: datetime, now: datetime | None = None) -> str:
    """A moment in local time, in words relative to `now`: "today at 21:43", "yesterday at
    08:10", "tomorrow at 07:00", else "Tuesday 24 November at 14:02" (with the year when it is
    not this year's). A moment without a time zone is taken as local time."""
    local = moment.astimezone()
    today = (now or datetime.now()).astimezone().date()
    clock = format_clock(local)
    days = (local.date() - today).days
    if days == 0:
        return _("today at {time}").format(time=clock)
    if days == -1:
        return _("yesterday at {time}").format(time=clock)
    if days == 1:
        return _("tomorrow at {time}").format(time=clock)
    day = format_day(local.date())
    if local.year != today.year:
        day = _("{day} {year}").format(day=day, year=local.year)
    return _("{day} at {time}").format(day=day, time=clock)


def human_size(size: int | None) -> str:
    """A size in words, e.g. "12.5 MB" ("?" when unknown)."""
    if size is None:
        return "?"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            shown = f"{value:.0f}" if unit == "B" else f"{value:.1f}"
            return _("{value} {unit}").format(value=shown, unit=unit)
        value /= 1000
    return str(size)  # pragma: no cover - the loop always returns
