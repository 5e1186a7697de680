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
