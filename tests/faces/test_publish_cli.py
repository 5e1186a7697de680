"""The organizer's commands (media, hide, recurring, settings push/unlock) against the real test server."""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from pathlib import Path

import pytest
from davserver import DavFixture
from memory_keyring import MemoryKeyring
from support import SUNDAY, TUESDAY, Member, write_prefs

from daemon.cli import main
from daemon.commands import settings as settings_command
from daemon.config import Config, Profile
from daemon.credentials import store_password
from daemon.errors import ExitCode


def configure(dav: DavFixture, tmp_path: Path, role: str) -> Config:
    """Set up this test's default profile (the one the CLI uses) and store the password."""
    config = Config(
        url=dav.base_url,
        username=dav.username,
        folder=dav.folder,
        media_dir=tmp_path / "media",
        role=role,
        organizer_dir=tmp_path / "organizer" if role == "organizer" else None,
        ca_bundle=dav.ca_path,
    )
    Profile.from_environment(os.environ).save(config)
    store_password(config, dav.password)
    return config


@pytest.fixture
def organizer(dav: DavFixture, tmp_path: Path, isolated_environment: MemoryKeyring) -> Config:
    write_prefs(dav)
    return configure(dav, tmp_path, "organizer")


@pytest.fixture
def member(dav: DavFixture, tmp_path: Path) -> Member:
    return Member(dav, tmp_path / "member")


def cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def a_file(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / "source" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return str(path)


def test_media_add_publishes_for_members_and_ls_lists_it(
    dav: DavFixture,
    organizer: Config,
    member: Member,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    talk = a_file(tmp_path, "talk.mp4", b"talk video")
    photo = a_file(tmp_path, "photo.jpg", b"jpeg")

    code, out, err = cli(monkeypatch, "media", "add", TUESDAY, talk, photo)
    assert code == 0, err
    assert "talk.mp4" in out and "photo.jpg" in out

    code, out, _err = cli(monkeypatch, "media", "ls", TUESDAY)
    assert code == 0 and "talk.mp4" in out and "photo.jpg" in out

    member.sync()
    assert member.files(TUESDAY) == {"talk.mp4": b"talk video", "photo.jpg": b"jpeg"}


def test_media_add_never_replaces_silently(
    dav: DavFixture, organizer: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    dav.put_file(f"Media/{TUESDAY}/talk.mp4", b"old")
    talk = a_file(tmp_path, "talk.mp4", b"new")

    code, _out, err = cli(monkeypatch, "media", "add", TUESDAY, talk)
    assert code == ExitCode.CONFIG and "--replace" in err
    assert dav.read_file(f"Media/{TUESDAY}/talk.mp4") == b"old"

    code, out, _err = cli(monkeypatch, "media", "add", "--replace", TUESDAY, talk)
    assert code == 0 and "Replaced" in out
    assert dav.read_file(f"Media/{TUESDAY}/talk.mp4") == b"new"


def test_media_add_names_the_safe_name_it_used(
    dav: DavFixture, organizer: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    odd = a_file(tmp_path, "Q&A: why?.mp4", b"q")

    code, out, _err = cli(monkeypatch, "media", "add", TUESDAY, odd)

    assert code == 0 and "Q&A_ why_.mp4" in out
    assert dav.read_file(f"Media/{TUESDAY}/Q&A_ why_.mp4") == b"q"


def test_media_add_for_a_past_meeting_is_refused(
    dav: DavFixture, organizer: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    talk = a_file(tmp_path, "talk.mp4", b"talk")

    code, _out, err = cli(monkeypatch, "media", "add", "2020-01-07", talk)

    assert code == ExitCode.CONFIG and "over" in err


def test_media_rm_removes_it_for_members(
    dav: DavFixture, organizer: Config, member: Member, monkeypatch: pytest.MonkeyPatch
):
    dav.put_file(f"Media/{TUESDAY}/talk.mp4", b"talk")
    dav.put_file(f"Media/{TUESDAY}/keep.jpg", b"keep")
    member.sync()

    code, _out, err = cli(monkeypatch, "media", "rm", TUESDAY, "talk.mp4")
    member.sync()

    assert code == 0, err
    assert member.files(TUESDAY) == {"keep.jpg": b"keep"}
    code, _out, err = cli(monkeypatch, "media", "rm", TUESDAY, "talk.mp4")
    assert code == ExitCode.SERVER and "talk.mp4" in err


def test_hide_and_unhide(
    dav: DavFixture, organizer: Config, member: Member, monkeypatch: pytest.MonkeyPatch
):
    dav.put_file(f"Media/{TUESDAY}/talk.mp4", b"talk")
    dav.put_file("Media/Recurring/song.mp4", b"song")

    code, out, err = cli(monkeypatch, "hide", TUESDAY, "song.mp4")
    assert code == 0, err
    assert dav.read_file(f"Hidden/{TUESDAY}/song.mp4") == b""
    member.sync()
    assert member.files(TUESDAY) == {"talk.mp4": b"talk"}
    assert member.files(SUNDAY) == {"song.mp4": b"song"}
    code, out, _err = cli(monkeypatch, "media", "ls", TUESDAY)
    assert "song.mp4  (hidden at this meeting)" in out

    code, out, err = cli(monkeypatch, "unhide", TUESDAY, "song.mp4")
    assert code == 0, err
    member.sync()
    assert member.files(TUESDAY) == {"talk.mp4": b"talk", "song.mp4": b"song"}


def test_recurring_add_ls_rm(
    dav: DavFixture,
    organizer: Config,
    member: Member,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    song = a_file(tmp_path, "song.mp4", b"song")

    assert cli(monkeypatch, "recurring", "add", song)[0] == 0
    code, out, _err = cli(monkeypatch, "recurring", "ls")
    assert code == 0 and "song.mp4" in out
    member.sync()
    assert member.files(TUESDAY) == {"song.mp4": b"song"}

    assert cli(monkeypatch, "recurring", "rm", "song.mp4")[0] == 0
    member.sync(accept_deletions=True)  # every file the member has goes: its safety stop asks
    assert member.files(TUESDAY) == {}


def test_settings_push_is_locked_on_members_and_keeps_unknown_keys(
    dav: DavFixture, organizer: Config, member: Member, monkeypatch: pytest.MonkeyPatch
):
    write_prefs(dav, {"meeting": {"mwDay": 1, "weDay": 6}, "app": {"theme": "dark"}, "x": [1]})

    code, out, err = cli(
        monkeypatch, "settings", "push", "congsync.weeksAhead=3", "meeting.mwDay=2"
    )
    assert code == 0, err
    assert "congsync.weeksAhead = 3" in out

    prefs = json.loads(dav.read_file("forcedPrefs.json"))
    assert prefs == {
        "meeting": {"mwDay": 2, "weDay": 6},
        "app": {"theme": "dark"},
        "x": [1],
        "congsync": {"weeksAhead": 3},
    }
    member.sync()
    out_buffer = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out_buffer)
    settings_command.run(
        argparse.Namespace(settings_action="show", json=True), profile=member.profile
    )
    shown = {v["key"]: v for v in json.loads(out_buffer.getvalue())}
    assert shown["weeks_ahead"] == {
        "key": "weeks_ahead",
        "value": 3,
        "locked": True,
        "source": "congregation",
    }
    assert shown["mw_day"]["value"] == 2 and shown["mw_day"]["locked"]


def test_settings_push_validates_before_writing(
    dav: DavFixture, organizer: Config, monkeypatch: pytest.MonkeyPatch
):
    dav.faults.clear()

    for bad in ("meeting.mwDay=9", "app.congServer=https://evil.example", "weeksAhead"):
        code, _out, err = cli(monkeypatch, "settings", "push", bad)
        assert code == ExitCode.CONFIG, bad
        assert err

    assert dav.faults.count("PUT") == 0


def test_settings_unlock_removes_the_setting_and_its_legacy_alias(
    dav: DavFixture, organizer: Config, monkeypatch: pytest.MonkeyPatch
):
    write_prefs(dav, {"meeting": {"mwDay": 1, "weDay": 6}, "mwDay": "1"})

    code, _out, err = cli(monkeypatch, "settings", "unlock", "meeting.mwDay")

    assert code == 0, err
    assert json.loads(dav.read_file("forcedPrefs.json")) == {"meeting": {"weDay": 6}}


def test_every_write_command_is_refused_to_a_member_before_any_request(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    configure(dav, tmp_path, "member")
    talk = a_file(tmp_path, "talk.mp4", b"talk")
    dav.faults.clear()

    for args in (
        ("media", "add", TUESDAY, talk),
        ("media", "rm", TUESDAY, "talk.mp4"),
        ("hide", TUESDAY, "talk.mp4"),
        ("unhide", TUESDAY, "talk.mp4"),
        ("recurring", "add", talk),
        ("recurring", "rm", "talk.mp4"),
        ("settings", "push", "meeting.mwDay=2"),
        ("settings", "unlock", "meeting.mwDay"),
    ):
        code, _out, err = cli(monkeypatch, *args)
        assert code == ExitCode.CONFIG, args
        assert "member" in err and "organizer" in err, args

    assert dav.faults.requests == []


def test_members_may_look(dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    configure(dav, tmp_path, "member")
    dav.put_file(f"Media/{TUESDAY}/talk.mp4", b"talk")

    code, out, _err = cli(monkeypatch, "media", "ls")

    assert code == 0 and TUESDAY in out and "talk.mp4" in out
