"""Setup asks for (or takes, or warns about) the meeting days the congregation leaves open:
without them recurring media is placed into no meeting."""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from davserver import DavFixture
from support import write_prefs
from test_cli import run_cli, setup_args
from test_setup_interactive import setup_in_a_terminal

from daemon.errors import ExitCode


def saved() -> dict[str, Any]:
    return tomllib.loads(Path(os.environ["CONGSYNC_CONFIG"]).read_text())


def test_setup_takes_the_meeting_days_as_flags_when_the_congregation_leaves_them_open(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    args = setup_args(dav, tmp_path, "--midweek-day", "Thursday", "--weekend-day", "6")

    code, _out, err = run_cli(monkeypatch, args, stdin=dav.password + "\n")

    assert code == 0, err
    assert (saved()["mw_day"], saved()["we_day"]) == (3, 6)
    assert "Warning" not in err


def test_setup_warns_when_nobody_says_on_which_days_the_meetings_are(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    write_prefs(dav, {"app": {"congregationName": "Test"}})  # settings, but no meeting days

    code, _out, err = run_cli(monkeypatch, setup_args(dav, tmp_path), stdin=dav.password + "\n")

    assert code == 0, err
    assert "recurring media" in err
    assert "--midweek-day DAY, --weekend-day DAY" in err
    assert "mw_day" not in saved()


def test_setup_needs_only_the_days_the_congregation_leaves_open(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    write_prefs(dav, {"meeting": {"mwDay": 1}})
    args = setup_args(dav, tmp_path, "--weekend-day", "sunday")

    code, _out, err = run_cli(monkeypatch, args, stdin=dav.password + "\n")

    assert code == 0, err
    assert err == ""  # no warning: the congregation sets the midweek day
    assert saved()["we_day"] == 6
    assert "mw_day" not in saved()


def test_setup_warns_only_about_the_day_left_open(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    write_prefs(dav, {"meeting": {"weDay": 5}})
    args = setup_args(dav, tmp_path)

    code, _out, err = run_cli(monkeypatch, args, stdin=dav.password + "\n")

    assert code == 0, err
    assert "--midweek-day DAY" in err and "--weekend-day" not in err


def test_setup_refuses_a_meeting_day_that_is_not_a_day(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    args = setup_args(dav, tmp_path, "--midweek-day", "Someday")

    code, _out, err = run_cli(monkeypatch, args, stdin=dav.password + "\n")

    assert code == ExitCode.CONFIG
    assert "--midweek-day" in err and "Someday" in err
    assert dav.faults.requests == []


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_interactive_setup_asks_for_the_meeting_days_the_congregation_leaves_open(
    dav: DavFixture, tmp_path: Path
):
    output = setup_in_a_terminal(
        dav,
        tmp_path,
        ("Day of the midweek meeting (Monday … Sunday", "Thorsday"),  # a typing mistake …
        ("is not a day of the week", "thursday"),  # … is asked again
        ("Day of the weekend meeting", "Sun"),
    )

    assert "do not say on which days the meetings are" in output
    assert "Warning" not in output
    assert (saved()["mw_day"], saved()["we_day"]) == (3, 6)
