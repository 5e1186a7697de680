"""The pure rules for a Kingdom Hall's internet: bandwidth limits, quiet during meetings, order."""

from __future__ import annotations

import json
from datetime import date, datetime, time

import pytest

from daemon.config import Config
from daemon.core.layout import CongregationSettings, parse_forced_prefs
from daemon.core.member_plan import Download
from daemon.core.rates import parse_rate
from daemon.core.records import RemoteFile
from daemon.core.settings import describe, effective, set_local
from daemon.core.transfer_rules import (
    QUIET_DEFAULT_RATE,
    download_order,
    parse_start_time,
    quiet_meeting,
    rate_in_force,
    share_downloads,
    split_quiet,
)
from daemon.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("2MB/s", 2_000_000),
        ("2 MB/s", 2_000_000),
        ("500KB/s", 500_000),
        ("500 KiB/s", 512_000),
        ("1.5MiB", 1_572_864),
        ("1GB/s", 1_000_000_000),
        ("20000", 20_000),
        ("20000 B/s", 20_000),
        ("2mb/s", 2_000_000),
        ("0", 0),
        ("", 0),
        ("  ", 0),
        ("unlimited", 0),
        (3_000_000, 3_000_000),
    ],
)
def test_bandwidth_limits_are_read_as_people_write_them(text: object, rate: int):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["fast", "2 MB/h", "2XB/s", "-1MB/s", "1,5MB/s", "5 B/s", True])
def test_a_bad_bandwidth_limit_is_a_clear_error(text: object):
    with pytest.raises(ValueError, match="bandwidth limit"):
        parse_rate(text)


def config(**changes: object) -> Config:
    values: dict[str, object] = {
        "url": "https://example.org/dav/",
        "username": "u",
        "folder": "c",
        "media_dir": "/tmp/m",
    }
    values.update(changes)
    return Config(**values)  # type: ignore[arg-type]


def prefs(data: dict[str, object]) -> CongregationSettings:
    settings, warnings = parse_forced_prefs(json.dumps(data).encode())
    assert warnings == []
    return settings


def test_max_rate_is_a_local_setting_and_the_congregation_can_enforce_it():
    local = set_local(config(), "max_rate", " 2MB/s ", CongregationSettings())
    assert local.max_rate == "2MB/s"
    assert effective(local, CongregationSettings()).max_rate == 2_000_000

    enforced = prefs({"congsync": {"maxRate": "500KB/s"}})
    assert effective(local, enforced).max_rate == 500_000
    view = next(v for v in describe(local, enforced) if v.key == "max_rate")
    assert (view.value, view.locked, view.source) == ("500KB/s", True, "congregation")
    with pytest.raises(ConfigError, match=r"congsync\.maxRate"):
        set_local(local, "max_rate", "1MB/s", enforced)


def test_a_bad_max_rate_is_refused_and_changes_nothing():
    with pytest.raises(ConfigError, match="bandwidth limit"):
        set_local(config(), "max_rate", "fast please", CongregationSettings())
    with pytest.raises(ConfigError, match="max_rate"):
        effective(config(max_rate="fast"), CongregationSettings())


def test_a_bad_congregation_max_rate_is_ignored_with_a_warning():
    settings, warnings = parse_forced_prefs(b'{"congsync": {"maxRate": "as fast as you can"}}')
    assert "maxRate" not in settings.congsync
    assert len(warnings) == 1 and "congsync.maxRate" in warnings[0]
    assert effective(config(max_rate="1MB/s"), settings).max_rate == 1_000_000


def test_start_times():
    assert parse_start_time("19:30") == time(19, 30)
    assert parse_start_time("7:05") == time(7, 5)
    assert parse_start_time(None) is None
    assert parse_start_time("") is None


def test_start_times_from_forced_prefs_ignore_garbage_with_a_warning():
    settings, warnings = parse_forced_prefs(
        b'{"meeting": {"mwStartTime": "half past seven", "weStartTime": "10:00"}}'
    )
    assert settings.mw_start_time is None and settings.we_start_time == "10:00"
    assert len(warnings) == 1 and "mwStartTime" in warnings[0]


MW, WE = time(19, 30), time(10, 0)
THURSDAY = date(2030, 1, 10)  # meetings: Thursday evening (3) and Sunday morning (6)


def quiet(now: datetime, co_week: date | None = None) -> date | None:
    return quiet_meeting(now, 3, 6, co_week, MW, WE)


def test_quiet_from_half_an_hour_before_until_two_hours_after_the_start():
    assert quiet(datetime(2030, 1, 10, 18, 59)) is None
    assert quiet(datetime(2030, 1, 10, 19, 0)) == THURSDAY
    assert quiet(datetime(2030, 1, 10, 21, 29)) == THURSDAY
    assert quiet(datetime(2030, 1, 10, 21, 30)) is None
    # The weekend meeting has its own start time.
    assert quiet(datetime(2030, 1, 13, 9, 29)) is None
    assert quiet(datetime(2030, 1, 13, 9, 30)) == date(2030, 1, 13)
    assert quiet(datetime(2030, 1, 13, 19, 30)) is None
    # Not a meeting day: never quiet.
    assert quiet(datetime(2030, 1, 11, 19, 30)) is None


def test_in_the_circuit_overseers_week_the_midweek_quiet_time_moves_to_tuesday():
    co = date(2030, 1, 16)  # the week of 14–20 January
    assert quiet(datetime(2030, 1, 15, 19, 45), co) == date(2030, 1, 15)
    assert quiet(datetime(2030, 1, 17, 19, 45), co) is None
    assert quiet(datetime(2030, 1, 10, 19, 45), co) == THURSDAY  # another week: as usual


def test_a_late_meetings_quiet_time_runs_past_midnight():
    assert quiet_meeting(datetime(2030, 1, 11, 0, 30), 3, None, None, time(23, 0), None) == THURSDAY


def test_no_start_time_means_no_quiet_time():
    assert quiet_meeting(datetime(2030, 1, 10, 19, 45), 3, 6, None, None, WE) is None


def test_the_meetings_own_files_are_capped_during_quiet_time():
    assert rate_in_force(0, quiet=False) == 0
    assert rate_in_force(0, quiet=True) == QUIET_DEFAULT_RATE
    assert rate_in_force(2_000_000, quiet=True) == 2_000_000
    assert rate_in_force(2_000_000, quiet=False) == 2_000_000


def dl(day: str, name: str, size: int, path: tuple[str, ...] | None = None) -> Download:
    remote = RemoteFile(path or ("Media", day, name), size, f"v-{name}", None, None, None)
    return Download(day, name, remote, "new")


def test_the_next_meeting_comes_first_then_small_files_then_by_name():
    later = dl("2030-01-13", "a.jpg", 1)
    big = dl("2030-01-10", "01 talk.mp4", 900)
    small = dl("2030-01-10", "02 song.jpg", 10)
    small_too = dl("2030-01-10", "03 map.jpg", 10)
    assert download_order([later, small_too, big, small]) == [small, small_too, big, later]


def test_one_server_file_at_several_dates_is_downloaded_once():
    recurring = ("Media", "Recurring", "year.png")
    first = dl("2030-01-10", "year.png", 5, recurring)
    second = dl("2030-01-13", "year.png", 5, recurring)
    third = dl("2030-01-17", "year.png", 5, recurring)
    own = dl("2030-01-13", "own.png", 5)
    assert share_downloads([third, own, second, first]) == [
        (first, (second, third)),
        (own, ()),
    ]


def test_quiet_time_lets_only_that_meetings_files_through():
    today = dl("2030-01-10", "a.jpg", 1)
    other = dl("2030-01-13", "b.jpg", 1)
    assert split_quiet([today, other], THURSDAY) == ([today], [other])
    assert split_quiet([today, other], None) == ([today, other], [])
