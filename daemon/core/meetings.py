"""Which dates are meeting days and which of them fall inside the sync window."""

from __future__ import annotations

from datetime import date, timedelta

from daemon.i18n import _

# During the circuit overseer's visit the midweek meeting moves to Tuesday.
CO_WEEK_MIDWEEK_DAY = 1


def window(today: date, weeks_ahead: int) -> tuple[date, date]:
    """The sync window: `today` through `today + 7 * weeks_ahead` days, both ends included.

    Including the last day means a meeting today also has next week's meeting on the same
    weekday in the window when `weeks_ahead` is 1; `weeks_ahead` 0 is today alone.
    """
    if weeks_ahead < 0:
        raise ValueError(
            _("The number of weeks ahead must be 0 or more, not {weeks}.").format(weeks=weeks_ahead)
        )
    return today, today + timedelta(days=7 * weeks_ahead)


def in_window(d: date, today: date, weeks_ahead: int) -> bool:
    """Whether `d` lies in the sync window of `window(today, weeks_ahead)`."""
    start, end = window(today, weeks_ahead)
    return start <= d <= end


def is_past(d: date, today: date) -> bool:
    """Whether the day `d` is over (strictly before `today`)."""
    return d < today


def week_monday(d: date) -> date:
    """The Monday of the Monday–Sunday week containing `d`."""
    return d - timedelta(days=d.weekday())


def _check_day(day: int | None) -> None:
    if day is not None and not 0 <= day <= 6:
        raise ValueError(
            _("A meeting day must be from 0 (Monday) to 6 (Sunday), not {day}.").format(day=day)
        )


def meeting_dates(
    today: date,
    weeks_ahead: int,
    mw_day: int | None,
    we_day: int | None,
    co_week: date | None = None,
) -> list[date]:
    """The meeting dates in the sync window, sorted and without repeats.

    Days are 0 = Monday … 6 = Sunday; None means the congregation has no such meeting.
    In the week (Monday–Sunday) containing `co_week` the midweek meeting is on Tuesday
    instead of `mw_day`, if there is a midweek meeting at all; the weekend is unchanged.
    """
    _check_day(mw_day)
    _check_day(we_day)
    start, end = window(today, weeks_ahead)
    co_monday = week_monday(co_week) if co_week is not None else None
    dates: list[date] = []
    day = start
    while day <= end:
        midweek = mw_day
        if midweek is not None and week_monday(day) == co_monday:
            midweek = CO_WEEK_MIDWEEK_DAY
        if day.weekday() in (midweek, we_day):
            dates.append(day)
        day += timedelta(days=1)
    return dates
