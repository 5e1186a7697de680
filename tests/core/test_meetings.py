"""Specification of meeting days, the circuit overseer's week and the sync window."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemon.core.meetings import in_window, is_past, meeting_dates, week_monday, window

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
TUESDAY = date(2026, 11, 24)

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1))
weeks = st.integers(min_value=0, max_value=10)
meeting_days = st.none() | st.integers(min_value=0, max_value=6)
co_weeks = st.none() | days


# --- window --------------------------------------------------------------------------------


def test_the_window_runs_from_today_through_whole_weeks_inclusive() -> None:
    assert window(TUESDAY, 2) == (TUESDAY, date(2026, 12, 8))


def test_a_window_of_one_week_includes_the_same_weekday_next_week() -> None:
    assert in_window(TUESDAY + timedelta(days=7), TUESDAY, 1)


def test_a_window_of_zero_weeks_is_today_alone() -> None:
    assert window(TUESDAY, 0) == (TUESDAY, TUESDAY)


def test_a_negative_number_of_weeks_is_refused() -> None:
    with pytest.raises(ValueError):
        window(TUESDAY, -1)


def test_yesterday_is_outside_the_window() -> None:
    assert not in_window(TUESDAY - timedelta(days=1), TUESDAY, 4)


def test_the_day_after_the_window_is_outside_it() -> None:
    assert not in_window(TUESDAY + timedelta(days=15), TUESDAY, 2)


@given(days, days, weeks)
def test_in_window_agrees_with_window(d: date, today: date, weeks_ahead: int) -> None:
    start, end = window(today, weeks_ahead)
    assert in_window(d, today, weeks_ahead) == (start <= d <= end)


# --- is_past -------------------------------------------------------------------------------


def test_yesterday_is_past() -> None:
    assert is_past(TUESDAY - timedelta(days=1), TUESDAY)


def test_today_is_not_past() -> None:
    assert not is_past(TUESDAY, TUESDAY)


def test_tomorrow_is_not_past() -> None:
    assert not is_past(TUESDAY + timedelta(days=1), TUESDAY)


# --- meeting_dates: examples ---------------------------------------------------------------


def test_meetings_fall_on_the_configured_days() -> None:
    assert meeting_dates(date(2026, 11, 2), 1, THU, SUN) == [date(2026, 11, 5), date(2026, 11, 8)]


def test_a_meeting_today_is_included() -> None:
    assert meeting_dates(TUESDAY, 0, TUE, SUN) == [TUESDAY]


def test_no_days_means_no_meetings() -> None:
    assert meeting_dates(TUESDAY, 4, None, None) == []


def test_a_congregation_without_a_midweek_meeting_has_only_weekends() -> None:
    assert meeting_dates(date(2026, 11, 23), 1, None, SAT) == [date(2026, 11, 28)]


def test_in_the_co_week_the_midweek_meeting_moves_to_tuesday() -> None:
    assert meeting_dates(date(2026, 11, 23), 1, THU, SUN, co_week=date(2026, 11, 26)) == [
        date(2026, 11, 24),
        date(2026, 11, 29),
    ]


def test_the_co_week_is_the_monday_to_sunday_week_containing_the_given_date() -> None:
    dates = meeting_dates(date(2026, 11, 16), 3, THU, SUN, co_week=date(2026, 11, 29))
    assert dates == [
        date(2026, 11, 19),
        date(2026, 11, 22),
        date(2026, 11, 24),  # the CO week: Tuesday instead of Thursday
        date(2026, 11, 29),
        date(2026, 12, 3),
        date(2026, 12, 6),
    ]


def test_the_weekend_meeting_is_unchanged_in_the_co_week() -> None:
    assert meeting_dates(date(2026, 11, 23), 1, WED, SAT, co_week=TUESDAY) == [
        date(2026, 11, 24),
        date(2026, 11, 28),
    ]


def test_without_a_midweek_meeting_the_co_week_adds_none() -> None:
    assert meeting_dates(date(2026, 11, 23), 1, None, SUN, co_week=TUESDAY) == [date(2026, 11, 29)]


def test_both_meetings_on_one_day_give_one_date() -> None:
    assert meeting_dates(date(2026, 11, 23), 0, MON, MON) == [date(2026, 11, 23)]


@pytest.mark.parametrize("bad", [-1, 7])
def test_an_impossible_meeting_day_is_refused(bad: int) -> None:
    with pytest.raises(ValueError):
        meeting_dates(TUESDAY, 1, bad, SUN)
    with pytest.raises(ValueError):
        meeting_dates(TUESDAY, 1, TUE, bad)


# --- meeting_dates: properties -------------------------------------------------------------


@given(days, weeks, meeting_days, meeting_days, co_weeks)
def test_every_meeting_date_is_in_the_window(
    today: date, weeks_ahead: int, mw: int | None, we: int | None, co: date | None
) -> None:
    for d in meeting_dates(today, weeks_ahead, mw, we, co):
        assert in_window(d, today, weeks_ahead)


@given(days, weeks, meeting_days, meeting_days, co_weeks)
def test_meeting_dates_are_sorted_and_unique(
    today: date, weeks_ahead: int, mw: int | None, we: int | None, co: date | None
) -> None:
    dates = meeting_dates(today, weeks_ahead, mw, we, co)
    assert dates == sorted(set(dates))


@given(days, weeks, meeting_days, meeting_days, co_weeks)
def test_there_are_at_most_two_meetings_a_week(
    today: date, weeks_ahead: int, mw: int | None, we: int | None, co: date | None
) -> None:
    per_week = Counter(week_monday(d) for d in meeting_dates(today, weeks_ahead, mw, we, co))
    assert all(count <= 2 for count in per_week.values())


@given(days, weeks, meeting_days, meeting_days, co_weeks)
def test_each_meeting_is_on_its_day_or_on_tuesday_in_the_co_week(
    today: date, weeks_ahead: int, mw: int | None, we: int | None, co: date | None
) -> None:
    co_monday = week_monday(co) if co is not None else None
    for d in meeting_dates(today, weeks_ahead, mw, we, co):
        in_co_week = week_monday(d) == co_monday
        midweek = TUE if in_co_week and mw is not None else mw
        assert d.weekday() in (midweek, we)


@given(days, weeks, meeting_days, meeting_days, co_weeks)
def test_no_meeting_day_in_the_window_is_missed(
    today: date, weeks_ahead: int, mw: int | None, we: int | None, co: date | None
) -> None:
    dates = set(meeting_dates(today, weeks_ahead, mw, we, co))
    start, end = window(today, weeks_ahead)
    co_monday = week_monday(co) if co is not None else None
    d = start
    while d <= end:
        midweek = TUE if week_monday(d) == co_monday and mw is not None else mw
        if d.weekday() in (midweek, we):
            assert d in dates
        d += timedelta(days=1)


@given(days, weeks, meeting_days, meeting_days)
def test_outside_the_co_week_the_co_setting_changes_nothing(
    today: date, weeks_ahead: int, mw: int | None, we: int | None
) -> None:
    far_away = today + timedelta(days=7 * (weeks_ahead + 2))
    assert meeting_dates(today, weeks_ahead, mw, we, far_away) == meeting_dates(
        today, weeks_ahead, mw, we
    )


@given(days, weeks, meeting_days, meeting_days, co_weeks)
def test_the_co_week_never_changes_the_weekend_meeting(
    today: date, weeks_ahead: int, mw: int | None, we: int | None, co: date | None
) -> None:
    with_co = meeting_dates(today, weeks_ahead, None, we, co)
    without = meeting_dates(today, weeks_ahead, None, we)
    assert with_co == without


@given(days)
def test_week_monday_is_a_monday_at_most_six_days_earlier(d: date) -> None:
    monday = week_monday(d)
    assert monday.weekday() == MON
    assert 0 <= (d - monday).days <= 6
