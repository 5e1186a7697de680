"""Congregation-wide settings: forcedPrefs.json overrides and locks local settings."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from davserver import DavFixture
from support import SUNDAY, TODAY, TUESDAY, Member, write_prefs

from daemon.cli import main
from daemon.errors import ExitCode


def cli(monkeypatch: pytest.MonkeyPatch, member: Member, *args: str) -> tuple[int, str, str]:
    monkeypatch.setenv("CONGSYNC_CONFIG", str(member.profile.paths.config_file))
    monkeypatch.setenv("CONGSYNC_STATE_DIR", str(member.profile.paths.state_dir))
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def test_a_locked_setting_is_shown_as_locked_and_cannot_be_changed(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    write_prefs(dav, {"meeting": {"mwDay": 1, "weDay": 6}, "congsync": {"weeksAhead": 3}})
    member = Member(dav, tmp_path / "m")
    member.sync()

    code, out, _ = cli(monkeypatch, member, "settings", "show", "--json")
    views = {v["key"]: v for v in json.loads(out)}
    assert code == 0
    assert views["weeks_ahead"] == {
        "key": "weeks_ahead",
        "value": 3,
        "locked": True,
        "source": "congregation",
    }
    assert views["interval"]["locked"] is False

    code, _, err = cli(monkeypatch, member, "settings", "set", "weeks_ahead=1")
    assert code == ExitCode.CONFIG
    assert "whole congregation" in err

    code, _, _ = cli(monkeypatch, member, "settings", "set", "interval=120")
    assert code == 0
    assert member.profile.reload().interval == 120


def test_the_congregations_weeks_ahead_widens_the_window(dav: DavFixture, tmp_path: Path):
    write_prefs(dav, {"meeting": {"mwDay": 1, "weDay": 6}, "congsync": {"weeksAhead": 3}})
    dav.put_file("Media/2030-01-27/far.jpg", b"far")  # 20 days ahead: outside 2 weeks, inside 3
    member = Member(dav, tmp_path / "m", weeks_ahead=2)

    member.sync()

    assert member.files("2030-01-27") == {"far.jpg": b"far"}


def test_a_changed_prefs_file_is_picked_up_by_a_cheap_poll(dav: DavFixture, tmp_path: Path):
    write_prefs(dav, {"meeting": {"mwDay": 1, "weDay": 6}})
    dav.put_file("Media/Recurring/y.png", b"y")
    member = Member(dav, tmp_path / "m")
    member.sync()
    assert member.files(TUESDAY) and member.files(SUNDAY)

    write_prefs(dav, {"meeting": {"mwDay": 2, "weDay": 6}})
    member.sync(full_listing=False)

    assert member.files(TUESDAY) == {}
    assert member.files("2030-01-09") == {"y.png": b"y"}


def test_a_malformed_prefs_file_keeps_the_last_good_values(dav: DavFixture, tmp_path: Path):
    write_prefs(dav, {"meeting": {"mwDay": 1, "weDay": 6}})
    dav.put_file("Media/Recurring/y.png", b"y")
    member = Member(dav, tmp_path / "m")
    member.sync()

    dav.put_file("forcedPrefs.json", b"{ this is not json")
    result = member.sync(TODAY)

    assert any("forcedPrefs.json" in w for w in result.warnings)
    assert member.files(TUESDAY) == {"y.png": b"y"}


def test_server_and_account_keys_in_prefs_are_never_applied(dav: DavFixture, tmp_path: Path):
    write_prefs(
        dav,
        {
            "meeting": {"mwDay": 1, "weDay": 6},
            "app": {"congServer": "https://evil.invalid", "localOutputPath": "/etc"},
        },
    )
    dav.put_file(f"Media/{TUESDAY}/a.jpg", b"a")
    member = Member(dav, tmp_path / "m")

    member.sync()

    assert member.files(TUESDAY) == {"a.jpg": b"a"}
    assert member.profile.reload().url == dav.base_url
