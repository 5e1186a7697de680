"""What the organizer folder holds that is not published is told, and what is clear is published."""

from __future__ import annotations

import logging
import threading
from datetime import date
from pathlib import Path

import pytest
from davserver import DavFixture
from organizer_support import Organizer, server_files
from support import TUESDAY, Member, write_prefs

from daemon.sync.watch import OrganizerWatcher

DAY = date.fromisoformat(TUESDAY)
DMY = DAY.strftime("%d-%m-%Y")  # the other spelling the server format reads
LOOSE = f"{DAY.year}-{DAY.month}-{DAY.day}"  # 2030-1-8: probably meant, not a date folder


@pytest.fixture
def org1(dav: DavFixture, tmp_path: Path) -> Organizer:
    write_prefs(dav)
    return Organizer(dav, tmp_path / "org1")


def test_files_that_are_never_published_are_named_with_what_to_do(
    dav: DavFixture, org1: Organizer, caplog: pytest.LogCaptureFixture
):
    org1.drop("talk.mp4", b"in the root")
    org1.drop(f"{LOOSE}/song.mp4", b"unpadded date")
    org1.drop(f"{TUESDAY}/extra/clip.mp4", b"one level too deep")
    org1.drop("Videos/intro.mp4", b"not a date at all")
    org1.drop("Hidden/song.mp4", b"")
    org1.drop(f"{TUESDAY}/ok.mp4", b"published")
    (org1.dir / "empty-folder").mkdir()
    with caplog.at_level(logging.WARNING):
        result = org1.sync()

    assert result.uploaded == 1
    assert set(server_files(dav)) == {"forcedPrefs.json", f"Media/{TUESDAY}/ok.mp4"}
    text = "\n".join(result.warnings)
    assert "talk.mp4 is not published" in text and "Recurring" in text
    assert f"The folder {LOOSE} is not published" in text and f"rename it to {TUESDAY}" in text
    assert f"The folder {TUESDAY}/extra is not published" in text and "up one level" in text
    assert "The folder Videos is not published" in text and "YYYY-MM-DD" in text
    assert "Hidden/song.mp4 is not used" in text
    assert "empty-folder" not in text  # nothing in it, nothing to say
    assert len(result.warnings) == 5
    for sentence in result.warnings:
        assert sentence in caplog.text  # the log says it too


def test_a_date_folder_spelled_the_other_server_way_is_published_and_used(
    dav: DavFixture, org1: Organizer, tmp_path: Path
):
    org2 = Organizer(dav, tmp_path / "org2")
    member = Member(dav, tmp_path / "member")
    org1.drop(f"{DMY}/talk.mp4", b"talk")
    result = org1.sync()
    assert result.uploaded == 1 and not result.warnings
    member.sync()
    assert member.files(TUESDAY) == {"talk.mp4": b"talk"}

    # A co-organizer's file for that meeting lands in the folder the organizer uses.
    org2.sync()
    org2.drop(f"{TUESDAY}/song.mp4", b"song")
    org2.sync()
    org1.sync()
    assert org1.files() == {f"{DMY}/talk.mp4": b"talk", f"{DMY}/song.mp4": b"song"}
    assert org1.sync().uploaded == 0  # in step: nothing goes back and forth


def test_two_folders_for_one_meeting_publish_the_iso_one_and_say_so(
    dav: DavFixture, org1: Organizer
):
    org1.drop(f"{TUESDAY}/talk.mp4", b"talk")
    org1.drop(f"{DMY}/other.mp4", b"other")
    result = org1.sync()
    assert set(server_files(dav)) == {"forcedPrefs.json", f"Media/{TUESDAY}/talk.mp4"}
    assert any(f"The folder {DMY} is not published" in w for w in result.warnings)


def test_a_kept_conflict_copy_is_told_until_the_organizer_resolves_it(
    dav: DavFixture, org1: Organizer, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    org2 = Organizer(dav, tmp_path / "org2")
    org1.drop(f"{TUESDAY}/talk.mp4", b"original")
    org1.sync()
    org2.sync()
    org1.drop(f"{TUESDAY}/talk.mp4", b"edit by organizer one")
    org2.drop(f"{TUESDAY}/talk.mp4", b"edit by organizer two")
    org2.sync()
    with caplog.at_level(logging.WARNING):
        first = org1.sync()
    (copy,) = [rel for rel in org1.files() if "conflicted copy" in rel]
    assert first.conflicts == 1
    assert any(copy in w for w in first.warnings)
    assert copy in caplog.text  # the log names the kept copy

    later = org1.sync()  # the next cycles keep saying it while the copy is there
    assert any(copy in w and f"{TUESDAY}/talk.mp4" in w for w in later.warnings)
    (org1.dir / copy).unlink()
    assert not org1.sync().warnings


def test_the_watcher_sees_files_in_a_date_folder_spelled_the_other_way(tmp_path: Path):
    root = tmp_path / "organizer"
    (root / DMY).mkdir(parents=True)
    soon = threading.Event()
    watcher = OrganizerWatcher(root, soon.set, settle_seconds=0.2, debounce_seconds=0.1)
    watcher.start()
    try:
        (root / DMY / "talk.mp4").write_bytes(b"talk")
        assert soon.wait(10)
    finally:
        watcher.stop()


def test_status_names_what_the_organizer_must_check(
    dav: DavFixture, org1: Organizer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    import argparse

    from support import TODAY

    from daemon.commands import status
    from daemon.service.root import ProfileRoot

    org1.drop("talk.mp4", b"in the root")
    with ProfileRoot(org1.profile, password=dav.password) as root:
        root.run_cycle(threading.Event(), today=TODAY)
    capsys.readouterr()
    status.run(argparse.Namespace(json=False), org1.profile)
    out = capsys.readouterr().out
    assert "Needs your attention:" in out
    assert "talk.mp4 is not published" in out


def test_uploads_moves_and_deletions_are_logged_as_what_they_are(
    dav: DavFixture, org1: Organizer, caplog: pytest.LogCaptureFixture
):
    org1.drop(f"{TUESDAY}/talk.mp4", b"talk")
    with caplog.at_level(logging.INFO):
        org1.sync()
        (org1.dir / TUESDAY / "talk.mp4").rename(org1.dir / TUESDAY / "renamed.mp4")
        org1.sync()
        (org1.dir / TUESDAY / "renamed.mp4").unlink()
        org1.sync()
    assert f"uploaded {TUESDAY}/talk.mp4 (4 bytes)" in caplog.text
    assert f"moved {TUESDAY}/talk.mp4 to {TUESDAY}/renamed.mp4 on the server" in caplog.text
    assert f"deleted {TUESDAY}/renamed.mp4 on the server" in caplog.text
    assert "download" not in caplog.text.lower()
