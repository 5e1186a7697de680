"""The organizer folder, two ways, with two organizers and a member against one real TLS WebDAV server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from davserver import DavFixture
from organizer_support import Organizer, organizer_cycle, server_files
from support import SUNDAY, TODAY, TUESDAY, Member, write_prefs

from daemon.core.records import LocalFile
from daemon.dav import Expect
from daemon.errors import FolderMissing, PreconditionFailed, RoleError, UnsafeToProceed
from daemon.sync.cleanup import clean_past_folders
from daemon.sync.connection import open_dav
from daemon.sync.discovery import Discovery, ServerSnapshot
from daemon.sync.journal import Journal
from daemon.sync.progress import Progress
from daemon.sync.uploads import STAGING_FOLDER, Stager
from daemon.sync.watch import OrganizerWatcher

STAGING = f"/{'congregation'}/{STAGING_FOLDER}"


@pytest.fixture
def org1(dav: DavFixture, tmp_path: Path) -> Organizer:
    write_prefs(dav)
    return Organizer(dav, tmp_path / "org1")


@pytest.fixture
def org2(dav: DavFixture, tmp_path: Path) -> Organizer:
    return Organizer(dav, tmp_path / "org2")


@pytest.fixture
def member(dav: DavFixture, tmp_path: Path) -> Member:
    return Member(dav, tmp_path / "member")


def staged_on_server(dav: DavFixture) -> list[str]:
    folder = dav.folder_path / STAGING_FOLDER
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# -- drop, replace, rename, delete --------------------------------------------------------------


def test_a_dropped_file_reaches_the_member(dav: DavFixture, org1: Organizer, member: Member):
    org1.drop(f"{TUESDAY}/talk.mp4", b"talk video")

    result = org1.sync()
    member.sync()

    assert result.uploaded == 1 and result.errors == []
    assert dav.read_file(f"Media/{TUESDAY}/talk.mp4") == b"talk video"
    assert member.files(TUESDAY) == {"talk.mp4": b"talk video"}
    assert staged_on_server(dav) == []


def test_the_watcher_asks_for_the_cycle_that_publishes_a_drop(
    dav: DavFixture, org1: Organizer, member: Member
):
    org1.sync()  # the folder exists, as after setup
    soon = threading.Event()
    watcher = OrganizerWatcher(org1.dir, soon.set, settle_seconds=0.3, debounce_seconds=0.1)
    watcher.start()
    try:
        org1.drop(f"{TUESDAY}/talk.mp4", b"talk video")
        assert soon.wait(10)
    finally:
        watcher.stop()
    org1.sync()
    member.sync()

    assert member.files(TUESDAY) == {"talk.mp4": b"talk video"}


def test_uploads_are_staged_outside_media_and_moved_into_place(dav: DavFixture, org1: Organizer):
    org1.drop(f"{TUESDAY}/talk.mp4", b"talk video")
    dav.faults.clear()

    org1.sync()

    puts = [r.path for r in dav.faults.requests if r.method == "PUT"]
    moves = [r.path for r in dav.faults.requests if r.method == "MOVE"]
    assert len(puts) == 1 and puts[0].startswith(STAGING + "/")
    assert len(moves) == 1 and moves[0] == puts[0]


def test_uploads_report_their_progress(dav: DavFixture, org1: Organizer):
    payload = os.urandom(1024 * 1024)
    org1.drop(f"{TUESDAY}/talk.mp4", payload)
    seen: list[Progress] = []

    org1.sync(on_progress=seen.append)

    assert seen and seen[-1].bytes_total == len(payload)
    assert seen[-1].bytes_done == len(payload) and seen[-1].files_done == 1
    assert len(seen) > 2  # reported while streaming, not only at the end


def test_abandoned_staged_uploads_are_swept_and_fresh_ones_kept(dav: DavFixture, org1: Organizer):
    old = time.time() - 2 * 86400
    dav.put_file(f"{STAGING_FOLDER}/abandoned.part", b"x", mtime=old)
    dav.put_file(f"{STAGING_FOLDER}/in-flight.part", b"y")

    org1.sync()

    assert staged_on_server(dav) == ["in-flight.part"]


def test_recurring_media_and_hidden_markers_are_published(
    dav: DavFixture, org1: Organizer, member: Member
):
    org1.drop(f"{TUESDAY}/talk.mp4", b"talk")
    org1.drop("Recurring/song.mp4", b"song")
    org1.drop(f"Hidden/{SUNDAY}/song.mp4", b"")

    org1.sync()
    member.sync()

    assert dav.read_file("Media/Recurring/song.mp4") == b"song"
    assert dav.read_file(f"Hidden/{SUNDAY}/song.mp4") == b""
    assert member.files(TUESDAY) == {"talk.mp4": b"talk", "song.mp4": b"song"}
    assert member.files(SUNDAY) == {}


def test_a_new_date_folder_uses_the_congregation_date_format(dav: DavFixture, org1: Organizer):
    write_prefs(
        dav, {"meeting": {"mwDay": 1, "weDay": 6}, "app": {"outputFolderDateFormat": "DD-MM-YYYY"}}
    )
    org1.drop(f"{TUESDAY}/talk.mp4", b"talk")

    org1.sync()

    assert dav.read_file("Media/08-01-2030/talk.mp4") == b"talk"


def test_an_existing_server_date_folder_is_reused(dav: DavFixture, org1: Organizer):
    dav.put_file("Media/08-01-2030 - Dienstag/intro.jpg", b"intro")
    org1.drop(f"{TUESDAY}/talk.mp4", b"talk")

    org1.sync()

    assert dav.read_file("Media/08-01-2030 - Dienstag/talk.mp4") == b"talk"
    assert org1.files()[f"{TUESDAY}/intro.jpg"] == b"intro"


def test_a_replaced_file_is_replaced_on_the_server_and_at_the_member(
    dav: DavFixture, org1: Organizer, member: Member
):
    org1.drop(f"{TUESDAY}/talk.mp4", b"version one")
    org1.sync()
    member.sync()

    org1.drop(f"{TUESDAY}/talk.mp4", b"version two, longer")
    result = org1.sync()
    member.sync()

    assert result.uploaded == 1
    assert member.files(TUESDAY) == {"talk.mp4": b"version two, longer"}


def test_a_rename_is_a_move_not_a_delete_and_upload(
    dav: DavFixture, org1: Organizer, member: Member
):
    org1.drop(f"{TUESDAY}/talk.mp4", b"talk video")
    org1.sync()
    member.sync()
    os.rename(org1.dir / TUESDAY / "talk.mp4", org1.dir / TUESDAY / "public talk.mp4")
    dav.faults.clear()

    result = org1.sync()
    member.sync()

    methods = [r.method for r in dav.faults.requests]
    assert "PUT" not in methods and "DELETE" not in methods and methods.count("MOVE") == 1
    assert result.moved == 1
    assert set(server_files(dav)) >= {f"Media/{TUESDAY}/public talk.mp4"}
    assert f"Media/{TUESDAY}/talk.mp4" not in server_files(dav)
    assert member.files(TUESDAY) == {"public talk.mp4": b"talk video"}


def test_moving_a_file_to_another_meeting_moves_it_on_the_server(dav: DavFixture, org1: Organizer):
    org1.drop(f"{TUESDAY}/talk.mp4", b"talk video")
    org1.sync()
    (org1.dir / SUNDAY).mkdir()
    os.rename(org1.dir / TUESDAY / "talk.mp4", org1.dir / SUNDAY / "talk.mp4")
    dav.faults.clear()

    org1.sync()

    assert dav.faults.count("MOVE") == 1 and dav.faults.count("PUT") == 0
    assert dav.read_file(f"Media/{SUNDAY}/talk.mp4") == b"talk video"


def test_an_atomic_save_is_an_update_not_a_delete(dav: DavFixture, org1: Organizer):
    org1.drop(f"{TUESDAY}/notes.txt", b"first")
    org1.sync()
    # What editors do: write a temp file beside it, then rename it over the original.
    temp = org1.dir / TUESDAY / ".notes.txt.swp"
    temp.write_bytes(b"second")
    os.replace(temp, org1.dir / TUESDAY / "notes.txt")
    dav.faults.clear()

    org1.sync()

    assert dav.faults.count("DELETE") == 0
    assert dav.read_file(f"Media/{TUESDAY}/notes.txt") == b"second"


def test_a_deleted_file_is_gone_on_the_member(dav: DavFixture, org1: Organizer, member: Member):
    org1.drop(f"{TUESDAY}/talk.mp4", b"talk")
    org1.drop(f"{TUESDAY}/keep.jpg", b"keep")
    org1.sync()
    member.sync()
    (org1.dir / TUESDAY / "talk.mp4").unlink()

    result = org1.sync()
    member.sync()

    assert result.deleted_remote == 1
    assert member.files(TUESDAY) == {"keep.jpg": b"keep"}


def test_temporary_and_system_files_are_never_uploaded(dav: DavFixture, org1: Organizer):
    for name in ("movie.mp4.part", "x.crdownload", "~$talk.pptx", ".DS_Store", "Thumbs.db"):
        org1.drop(f"{TUESDAY}/{name}", b"junk")

    org1.sync()

    assert not any(path.startswith("Media/") for path in server_files(dav))


def test_unsafe_names_are_published_readable_and_the_organizer_is_told(
    dav: DavFixture, org1: Organizer, member: Member
):
    org1.drop(f"{TUESDAY}/What? Why.mp4", b"q")

    result = org1.sync()
    member.sync()

    assert dav.read_file(f"Media/{TUESDAY}/What_ Why.mp4") == b"q"
    assert any("What_ Why.mp4" in w for w in result.warnings)
    assert member.files(TUESDAY) == {"What_ Why.mp4": b"q"}
    assert org1.sync().uploaded == 0  # the mapping is remembered, not re-uploaded


def test_a_file_still_being_written_is_left_for_later(dav: DavFixture, org1: Organizer):
    path = org1.dir / TUESDAY / "big.mp4"
    path.parent.mkdir(parents=True)
    stop = threading.Event()

    def keep_writing() -> None:
        with open(path, "wb") as fh:
            while not stop.is_set():
                fh.write(b"x" * 1000)
                fh.flush()
                time.sleep(0.02)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        time.sleep(0.1)
        org1.sync(settle=0.3)
    finally:
        stop.set()
        writer.join()

    assert dav.faults.count("PUT") == 0
    org1.sync(settle=0.05)
    assert dav.read_file(f"Media/{TUESDAY}/big.mp4") == path.read_bytes()


def test_a_large_file_copied_in_slowly_is_uploaded_once_and_complete(
    dav: DavFixture, org1: Organizer, member: Member
):
    payload = os.urandom(3 * 1024 * 1024)
    path = org1.dir / TUESDAY / "big.mp4"
    path.parent.mkdir(parents=True)
    done = threading.Event()

    def slow_copy() -> None:
        with open(path, "wb") as fh:
            for start in range(0, len(payload), 256 * 1024):
                fh.write(payload[start : start + 256 * 1024])
                fh.flush()
                time.sleep(0.1)
        done.set()

    copier = threading.Thread(target=slow_copy)
    copier.start()
    try:
        while not done.is_set():  # the daemon would keep polling meanwhile
            org1.sync(settle=0.4)
    finally:
        copier.join()
    # The copy kept changing under earlier looks: it must stay quiet longer than a fresh drop.
    # (The last cycle during the copy may already have seen it finished and published it.)
    deadline = time.monotonic() + 30
    while not dav.faults.count("PUT") and not org1.sync(settle=0.4).uploaded:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    member.sync()

    assert dav.faults.count("PUT") == 1
    assert dav.faults.count("MOVE", f"/congregation/{STAGING_FOLDER}") == 1
    assert dav.read_file(f"Media/{TUESDAY}/big.mp4") == payload
    assert member.files(TUESDAY)["big.mp4"] == payload


# -- a co-organizer ----------------------------------------------------------------------------


def test_a_co_organizers_changes_come_down(dav: DavFixture, org1: Organizer, org2: Organizer):
    org1.drop(f"{TUESDAY}/talk.mp4", b"v1")
    org1.drop("Recurring/song.mp4", b"song")
    org1.sync()

    org2.sync()
    assert org2.files() == {f"{TUESDAY}/talk.mp4": b"v1", "Recurring/song.mp4": b"song"}

    org2.drop(f"{TUESDAY}/talk.mp4", b"v2 from the co-organizer")
    (org2.dir / "Recurring/song.mp4").unlink()
    org2.sync()
    result = org1.sync()

    assert org1.files() == {f"{TUESDAY}/talk.mp4": b"v2 from the co-organizer"}
    assert result.updated == 1 and result.removed == 1
    assert list((org1.dir / ".congsync-trash").rglob("song.mp4"))


def test_a_rename_by_a_co_organizer_is_a_rename_here(
    dav: DavFixture, org1: Organizer, org2: Organizer
):
    org1.drop(f"{TUESDAY}/talk.mp4", b"talk")
    org1.sync()
    org2.sync()
    os.rename(org2.dir / TUESDAY / "talk.mp4", org2.dir / TUESDAY / "renamed.mp4")
    org2.sync()
    dav.faults.clear()

    result = org1.sync()

    assert result.moved == 1 and dav.faults.count("GET") == 0
    assert org1.files() == {f"{TUESDAY}/renamed.mp4": b"talk"}


def test_concurrent_edits_keep_both_versions_and_the_server_wins(
    dav: DavFixture, org1: Organizer, org2: Organizer, member: Member
):
    org1.drop(f"{TUESDAY}/talk.mp4", b"original")
    org1.sync()
    org2.sync()

    org1.drop(f"{TUESDAY}/talk.mp4", b"edit by organizer one")
    org2.drop(f"{TUESDAY}/talk.mp4", b"edit by organizer two")
    org2.sync()
    result = org1.sync()
    org1.sync()
    member.sync()

    assert result.conflicts == 1
    files = org1.files()
    assert files.pop(f"{TUESDAY}/talk.mp4") == b"edit by organizer two"
    ((copy_rel, copy),) = files.items()
    assert "talk (conflicted copy " in copy_rel and copy_rel.endswith(".mp4")
    assert copy == b"edit by organizer one"
    assert dav.read_file(f"Media/{TUESDAY}/talk.mp4") == b"edit by organizer two"
    assert member.files(TUESDAY) == {"talk.mp4": b"edit by organizer two"}  # no conflict copy


def test_new_on_both_sides_with_the_same_content_is_simply_in_sync(
    dav: DavFixture, org1: Organizer, org2: Organizer
):
    org1.drop(f"{TUESDAY}/talk.mp4", b"same bytes")
    org2.drop(f"{TUESDAY}/talk.mp4", b"same bytes")
    org1.sync()

    result = org2.sync()

    assert result.conflicts == 0 and result.uploaded == 0
    assert org2.files() == {f"{TUESDAY}/talk.mp4": b"same bytes"}
    assert org2.sync().unchanged == 1


def test_a_server_deletion_of_a_file_changed_here_uploads_it_again(
    dav: DavFixture, org1: Organizer, org2: Organizer
):
    org1.drop(f"{TUESDAY}/talk.mp4", b"v1")
    org1.sync()
    org2.sync()
    (org2.dir / TUESDAY / "talk.mp4").unlink()
    org2.sync()
    org1.drop(f"{TUESDAY}/talk.mp4", b"v2, improved meanwhile")

    result = org1.sync()

    assert result.uploaded == 1
    assert dav.read_file(f"Media/{TUESDAY}/talk.mp4") == b"v2, improved meanwhile"


def test_a_replacement_never_overwrites_a_version_it_did_not_know(
    dav: DavFixture, org1: Organizer, tmp_path: Path
):
    dav.put_file(f"Media/{TUESDAY}/talk.mp4", b"theirs")
    source = tmp_path / "mine.mp4"
    source.write_bytes(b"mine")
    st = source.stat()

    config = org1.profile.config
    with open_dav(config, dav.password) as client:
        stager = Stager(client)
        with pytest.raises(PreconditionFailed):
            stager.upload_file(
                source,
                ("Media", TUESDAY, "talk.mp4"),
                local=LocalFile(st.st_size, st.st_mtime_ns),
                expect=Expect("etag:an-older-version", '"an-older-version"'),
            )

    assert dav.read_file(f"Media/{TUESDAY}/talk.mp4") == b"theirs"
    assert staged_on_server(dav) == []


def test_the_server_honours_the_tagged_if_on_move(dav: DavFixture, org1: Organizer):
    dav.put_file(f"Media/{TUESDAY}/talk.mp4", b"theirs")
    dav.put_file(f"{STAGING_FOLDER}/x.part", b"mine")
    with open_dav(org1.profile.config, dav.password) as client:
        with pytest.raises(PreconditionFailed):
            client.move(
                (STAGING_FOLDER, "x.part"),
                ("Media", TUESDAY, "talk.mp4"),
                expect=Expect("etag:not-the-current-etag", '"not-the-current-etag"'),
            )
        current = client.stat(("Media", TUESDAY, "talk.mp4"))
        client.move(
            (STAGING_FOLDER, "x.part"), ("Media", TUESDAY, "talk.mp4"), expect=Expect.entry(current)
        )
    assert dav.read_file(f"Media/{TUESDAY}/talk.mp4") == b"mine"


# -- interruptions -----------------------------------------------------------------------------


def test_an_upload_killed_midway_keeps_the_previous_version_and_the_retry_completes(
    dav: DavFixture, org1: Organizer, member: Member
):
    org1.drop(f"{TUESDAY}/talk.mp4", b"previous version")
    org1.sync()
    new = os.urandom(1024 * 1024)
    org1.drop(f"{TUESDAY}/talk.mp4", new)
    dav.faults.slow_put(64 * 1024, path_prefix=f"/congregation/{STAGING_FOLDER}")
    env = dict(os.environ, CONGSYNC_PASSWORD=dav.password)
    child = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).parent.parent / "organizer_child.py"),
            str(org1.profile.paths.config_file),
            str(org1.profile.paths.state_dir),
            TODAY.isoformat(),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert dav.faults.wait_for_count(1, "PUT", timeout=20)
        staging = dav.folder_path / STAGING_FOLDER
        deadline = time.monotonic() + 20
        while not any(p.stat().st_size > 0 for p in staging.glob("*.part")):
            assert time.monotonic() < deadline, "the upload never started"
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    assert child.returncode == -signal.SIGKILL

    assert dav.read_file(f"Media/{TUESDAY}/talk.mp4") == b"previous version"
    member.sync()
    assert member.files(TUESDAY) == {"talk.mp4": b"previous version"}

    dav.faults.slow_put(None)
    result = org1.sync()
    member.sync()

    assert result.uploaded == 1 and result.errors == []
    assert dav.read_file(f"Media/{TUESDAY}/talk.mp4") == new
    assert member.files(TUESDAY) == {"talk.mp4": new}
    assert staged_on_server(dav) == []


def test_changes_made_while_congsync_was_not_running_are_found_at_start(
    dav: DavFixture, org1: Organizer
):
    org1.drop(f"{TUESDAY}/a.jpg", b"a")
    org1.drop(f"{TUESDAY}/b.jpg", b"b")
    org1.drop(f"{TUESDAY}/c.jpg", b"c")
    org1.sync()
    # congsync is off: the organizer renames one, deletes one, edits one, adds one.
    os.rename(org1.dir / TUESDAY / "a.jpg", org1.dir / TUESDAY / "a2.jpg")
    (org1.dir / TUESDAY / "b.jpg").unlink()
    org1.drop(f"{TUESDAY}/c.jpg", b"c edited")
    org1.drop(f"{SUNDAY}/d.jpg", b"d")

    result = org1.sync()

    assert (result.moved, result.deleted_remote, result.uploaded) == (1, 1, 2)
    assert {k: v for k, v in server_files(dav).items() if k.startswith("Media/")} == {
        f"Media/{TUESDAY}/a2.jpg": b"a",
        f"Media/{TUESDAY}/c.jpg": b"c edited",
        f"Media/{SUNDAY}/d.jpg": b"d",
    }


# -- safety ------------------------------------------------------------------------------------


def test_a_member_can_never_write_and_no_request_is_sent(
    dav: DavFixture, member: Member, tmp_path: Path
):
    config = member.profile.config.with_changes(organizer_dir=tmp_path / "dir")
    journal = Journal(tmp_path / "journal.sqlite3")
    dav.faults.clear()
    try:
        with open_dav(config, dav.password) as client:
            with pytest.raises(RoleError) as refused:
                organizer_cycle(config, client, journal)
            past = ServerSnapshot(
                span=(TODAY, None),
                root_version=None,
                prefs=None,
                staging_exists=False,
                media_exists=True,
                hidden_exists=False,
                root_complete=True,
                media_complete=True,
                hidden_complete=True,
                media_dates={date(2029, 1, 1): (("Media", "2029-01-01"),)},
            )
            with pytest.raises(RoleError):
                clean_past_folders(config, client, past, today=TODAY)
    finally:
        journal.close()

    assert "member" in refused.value.message and "organizer" in refused.value.message
    assert dav.faults.requests == []


def test_a_vanished_organizer_folder_changes_nothing(dav: DavFixture, org1: Organizer):
    org1.drop(f"{TUESDAY}/talk.mp4", b"talk")
    org1.sync()
    os.rename(org1.dir, org1.dir.with_name("unplugged"))

    with pytest.raises(FolderMissing):
        org1.sync()
    assert dav.read_file(f"Media/{TUESDAY}/talk.mp4") == b"talk"


def test_deleting_most_files_at_once_stops_and_asks(dav: DavFixture, org1: Organizer):
    for name in "abcd":
        org1.drop(f"{TUESDAY}/{name}.jpg", name.encode())
    org1.sync()
    for name in "abc":
        (org1.dir / TUESDAY / f"{name}.jpg").unlink()

    with pytest.raises(UnsafeToProceed):
        org1.sync()
    assert len([p for p in server_files(dav) if p.startswith("Media/")]) == 4

    org1.sync(accept_deletions=True)
    assert [p for p in server_files(dav) if p.startswith("Media/")] == [f"Media/{TUESDAY}/d.jpg"]


def test_a_failed_date_folder_listing_deletes_nothing_here(dav: DavFixture, org1: Organizer):
    org1.drop(f"{TUESDAY}/talk.mp4", b"talk")
    org1.sync()
    dav.faults.fail_next(
        10, status=500, methods=["PROPFIND"], path_prefix=f"/congregation/Media/{TUESDAY}"
    )

    result = org1.sync()

    assert (org1.dir / TUESDAY / "talk.mp4").exists()
    assert result.warnings


def test_past_meetings_are_left_alone_locally(dav: DavFixture, org1: Organizer):
    org1.drop(f"{TUESDAY}/talk.mp4", b"talk")
    org1.sync()
    later = TODAY.replace(day=20)

    org1.sync(today=later)

    assert (org1.dir / TUESDAY / "talk.mp4").exists()


# -- server cleanup ----------------------------------------------------------------------------


def test_cleanup_removes_only_old_date_folders_in_media_and_hidden(
    dav: DavFixture, org1: Organizer
):
    keep = {
        "Media/2030-01-02/recent.jpg": b"5 days ago",
        "Media/Recurring/r.jpg": b"r",
        "Media/notes/n.txt": b"not a date",
        "Media/2029-01-01.jpg": b"a file, not a folder",
        "Other/2029-01-01/q.jpg": b"outside Media and Hidden",
        "2029-01-01/x.jpg": b"at the root",
        "forcedPrefs.json": json.dumps({"meeting": {"mwDay": 1}}).encode(),
    }
    gone = {
        "Media/2029-12-20/old.jpg": b"old",
        "Media/20-12-2029 - Friday/old.jpg": b"old",
        "Hidden/2029-12-01/old.jpg": b"",
    }
    for rel, data in {**keep, **gone}.items():
        dav.put_file(rel, data)

    with open_dav(org1.profile.config, dav.password) as client:
        server = Discovery(client, {}, full_listing=True).snapshot((TODAY, None))
        removed = clean_past_folders(org1.profile.config, client, server, today=TODAY, keep_days=7)

    assert {"/".join(p) for p in removed} == {
        "Media/2029-12-20",
        "Media/20-12-2029 - Friday",
        "Hidden/2029-12-01",
    }
    assert server_files(dav) == keep


def test_the_cycle_cleans_up_the_server_once_a_day(dav: DavFixture, org1: Organizer):
    dav.put_file("Media/2029-12-20/old.jpg", b"old")

    org1.sync()

    assert "Media/2029-12-20/old.jpg" not in server_files(dav)
    dav.put_file("Media/2029-12-21/old.jpg", b"old")
    org1.sync()
    assert "Media/2029-12-21/old.jpg" in server_files(dav)  # already done today
