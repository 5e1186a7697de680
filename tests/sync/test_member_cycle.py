"""The member's mirror, end to end against a real WebDAV server over TLS on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from davserver import DavFixture
from support import NEXT_SUNDAY, NEXT_TUESDAY, SUNDAY, TODAY, TUESDAY, Member, write_prefs

from daemon.errors import AuthError, Cancelled, FolderMissing, UnsafeToProceed


@pytest.fixture
def member(dav: DavFixture, tmp_path: Path) -> Member:
    write_prefs(dav)
    return Member(dav, tmp_path / "member")


def test_dated_and_recurring_media_land_in_meeting_date_folders(dav: DavFixture, member: Member):
    dav.put_file(f"Media/{TUESDAY}/talk.jpg", b"talk")
    dav.put_file("Media/Recurring/yeartext.png", b"year")

    result = member.sync()

    assert member.files(TUESDAY) == {"talk.jpg": b"talk", "yeartext.png": b"year"}
    for day in (SUNDAY, NEXT_TUESDAY, NEXT_SUNDAY):
        assert member.files(day) == {"yeartext.png": b"year"}
    assert result.downloaded == 5 and result.errors == []
    assert result.new_by_date[TUESDAY] == 2


def test_every_date_folder_format_is_read_and_written_as_iso(dav: DavFixture, member: Member):
    dav.put_file("Media/08-01-2030 - Dienstag/a.jpg", b"a")
    dav.put_file("Media/2030-01-13 - 日曜日/b.jpg", b"b")
    dav.put_file("Media/15-01-2030/c.jpg", b"c")
    dav.put_file("Media/2030-01-20/d.jpg", b"d")
    dav.put_file("Media/notes/ignored.txt", b"x")

    member.sync()

    assert member.all_paths() == {
        f"{TUESDAY}/a.jpg",
        f"{SUNDAY}/b.jpg",
        f"{NEXT_TUESDAY}/c.jpg",
        f"{NEXT_SUNDAY}/d.jpg",
    }
    assert (dav.folder_path / "Media/notes/ignored.txt").exists()


def test_dated_file_beats_recurring_file_of_the_same_name(dav: DavFixture, member: Member):
    dav.put_file("Media/Recurring/song.mp4", b"recurring")
    dav.put_file(f"Media/{TUESDAY}/song.mp4", b"special")

    member.sync()

    assert member.files(TUESDAY)["song.mp4"] == b"special"
    assert member.files(SUNDAY)["song.mp4"] == b"recurring"


def test_recurring_media_follows_the_co_week_tuesday(dav: DavFixture, member: Member):
    write_prefs(dav, {"meeting": {"mwDay": 3, "weDay": 6, "coWeek": "2030-01-16"}})
    dav.put_file("Media/Recurring/y.png", b"y")

    member.sync()

    # First week: Thursday as configured; CO week (14–20 Jan): Tuesday instead.
    assert {p.split("/")[0] for p in member.all_paths()} == {
        "2030-01-10",
        SUNDAY,
        NEXT_TUESDAY,
        NEXT_SUNDAY,
    }


def test_legacy_flat_prefs_set_the_meeting_days(dav: DavFixture, member: Member):
    write_prefs(dav, {"mwDay": "2", "weDay": "5"})
    dav.put_file("Media/Recurring/y.png", b"y")

    member.sync()

    assert {p.split("/")[0] for p in member.all_paths()} == {
        "2030-01-09",
        "2030-01-12",
        "2030-01-16",
        "2030-01-19",
    }


def test_hidden_media_is_not_downloaded(dav: DavFixture, member: Member):
    dav.put_file(f"Media/{TUESDAY}/a.jpg", b"a")
    dav.put_file(f"Media/{TUESDAY}/b.jpg", b"b")
    dav.put_file(f"Hidden/{TUESDAY}/b.jpg", b"hide")

    member.sync()

    assert set(member.files(TUESDAY)) == {"a.jpg"}
    manifest = json.loads((member.media / ".congsync/manifest.json").read_text())
    assert manifest["dates"][TUESDAY]["hidden"] == ["b.jpg"]
    assert manifest["dates"][TUESDAY]["files"] == ["a.jpg"]


def test_hiding_an_owned_file_removes_it_and_unhiding_brings_it_back(
    dav: DavFixture, member: Member
):
    dav.put_file(f"Media/{TUESDAY}/a.jpg", b"a")
    member.sync()
    dav.put_file(f"Hidden/{TUESDAY}/a.jpg", b"")

    member.sync()
    assert member.files(TUESDAY) == {}

    (dav.folder_path / f"Hidden/{TUESDAY}/a.jpg").unlink()
    member.sync()
    assert member.files(TUESDAY) == {"a.jpg": b"a"}


def test_a_users_file_the_vo_hid_is_moved_aside_and_back(dav: DavFixture, member: Member):
    dav.put_file(f"Media/{TUESDAY}/a.jpg", b"a")
    member.sync()
    mine = member.media / TUESDAY / "own song.mp4"
    mine.write_bytes(b"mine")
    dav.put_file(f"Hidden/{TUESDAY}/own song.mp4", b"hide")

    result = member.sync()
    assert result.hidden == 1
    assert not mine.exists()
    assert (member.media / ".congsync/hidden" / TUESDAY / "own song.mp4").read_bytes() == b"mine"

    (dav.folder_path / f"Hidden/{TUESDAY}/own song.mp4").unlink()
    result = member.sync()
    assert result.unhidden == 1
    assert mine.read_bytes() == b"mine"


def test_owned_file_changed_or_deleted_locally_is_restored(dav: DavFixture, member: Member):
    dav.put_file(f"Media/{TUESDAY}/a.jpg", b"original")
    dav.put_file(f"Media/{TUESDAY}/b.jpg", b"bee")
    member.sync()
    (member.media / TUESDAY / "a.jpg").write_bytes(b"edited by someone")
    (member.media / TUESDAY / "b.jpg").unlink()

    result = member.sync()

    assert member.files(TUESDAY) == {"a.jpg": b"original", "b.jpg": b"bee"}
    assert result.updated == 2
    trashed = list((member.media / ".congsync/trash").rglob("a.jpg"))
    assert [p.read_bytes() for p in trashed] == [b"edited by someone"]


def test_a_file_changed_on_the_server_is_updated(dav: DavFixture, member: Member):
    dav.put_file(f"Media/{TUESDAY}/a.jpg", b"v1")
    member.sync()
    dav.put_file(f"Media/{TUESDAY}/a.jpg", b"version two")

    result = member.sync()

    assert member.files(TUESDAY) == {"a.jpg": b"version two"}
    assert result.updated == 1


def test_files_congsync_does_not_own_are_never_touched(dav: DavFixture, member: Member):
    folder = member.media / TUESDAY
    folder.mkdir(parents=True)
    (folder / "a.jpg").write_bytes(b"users own a")
    (folder / "notes.txt").write_bytes(b"notes")
    dav.put_file(f"Media/{TUESDAY}/a.jpg", b"server a")

    result = member.sync()
    member.sync(TODAY + timedelta(days=10))  # the date is past now

    assert (folder / "a.jpg").read_bytes() == b"users own a"
    assert (folder / "notes.txt").read_bytes() == b"notes"
    assert any("a.jpg" in w for w in result.warnings)


def test_a_file_removed_from_the_server_is_removed_locally_into_the_trash(
    dav: DavFixture, member: Member
):
    for name in ("a", "b", "c", "d"):
        dav.put_file(f"Media/{TUESDAY}/{name}.jpg", name.encode())
    member.sync()
    (dav.folder_path / f"Media/{TUESDAY}/a.jpg").unlink()

    result = member.sync()

    assert set(member.files(TUESDAY)) == {"b.jpg", "c.jpg", "d.jpg"}
    assert result.removed == 1
    assert list((member.media / ".congsync/trash").rglob("a.jpg"))


def test_owned_files_of_past_dates_are_removed_after_the_day(dav: DavFixture, member: Member):
    dav.put_file(f"Media/{TUESDAY}/a.jpg", b"a")
    member.sync()

    member.sync(TODAY + timedelta(days=1))  # Tuesday itself: still there
    assert member.files(TUESDAY) == {"a.jpg": b"a"}

    member.sync(TODAY + timedelta(days=2))  # Wednesday: the meeting is over
    assert not (member.media / TUESDAY).exists()


def test_mass_deletion_stops_and_changes_nothing_until_accepted(dav: DavFixture, member: Member):
    for i in range(6):
        dav.put_file(f"Media/{TUESDAY}/{i}.jpg", b"x")
    member.sync()
    for i in range(4):
        (dav.folder_path / f"Media/{TUESDAY}/{i}.jpg").unlink()

    with pytest.raises(UnsafeToProceed) as stop:
        member.sync()
    assert "--accept-deletions" in stop.value.message
    assert len(member.files(TUESDAY)) == 6

    result = member.sync(accept_deletions=True)
    assert result.removed == 4
    assert set(member.files(TUESDAY)) == {"4.jpg", "5.jpg"}


def test_media_folder_vanishing_stops_without_changes(dav: DavFixture, member: Member):
    dav.put_file(f"Media/{TUESDAY}/a.jpg", b"a")
    member.sync()
    shutil.rmtree(dav.folder_path / "Media")

    with pytest.raises(FolderMissing):
        member.sync()
    assert member.files(TUESDAY) == {"a.jpg": b"a"}


def test_congregation_folder_vanishing_stops_without_changes(dav: DavFixture, member: Member):
    dav.put_file(f"Media/{TUESDAY}/a.jpg", b"a")
    member.sync()
    shutil.rmtree(dav.folder_path)

    with pytest.raises(FolderMissing):
        member.sync()
    assert member.files(TUESDAY) == {"a.jpg": b"a"}


def test_a_failed_date_folder_listing_deletes_nothing(dav: DavFixture, member: Member):
    dav.put_file(f"Media/{TUESDAY}/a.jpg", b"a")
    dav.put_file(f"Media/{SUNDAY}/b.jpg", b"b")
    member.sync()
    dav.faults.fail_next(
        10, status=500, retry_after=None, path_prefix=f"/congregation/Media/{TUESDAY}"
    )

    result = member.sync()

    assert member.files(TUESDAY) == {"a.jpg": b"a"}
    assert any(TUESDAY in w for w in result.warnings)


def test_never_sends_depth_infinity_or_a_propfind_without_depth(dav: DavFixture, member: Member):
    dav.put_file(f"Media/{TUESDAY}/a.jpg", b"a")
    dav.put_file("Media/Recurring/r.jpg", b"r")
    dav.put_file(f"Hidden/{TUESDAY}/x", b"")

    member.sync()

    depths = {r.depth for r in dav.faults.requests if r.method == "PROPFIND"}
    assert depths and depths <= {"0", "1"}


def test_an_interrupted_download_resumes_with_a_range_request(dav: DavFixture, member: Member):
    payload = os.urandom(3 * 1024 * 1024)
    dav.put_file(f"Media/{TUESDAY}/video.mp4", payload)
    dav.faults.truncate_next_get(1024 * 1024, path_prefix=f"/congregation/Media/{TUESDAY}")

    result = member.sync()

    assert result.errors == []
    assert member.files(TUESDAY)["video.mp4"] == payload
    gets = [r for r in dav.faults.requests if r.method == "GET" and r.path.endswith("video.mp4")]
    assert len(gets) == 2
    assert gets[1].range is not None and gets[1].range.startswith("bytes=")
    assert gets[1].status == 206


def test_a_cancelled_cycle_keeps_the_partial_download_and_the_next_one_resumes(
    dav: DavFixture, member: Member
):
    payload = os.urandom(4 * 1024 * 1024)
    dav.put_file(f"Media/{TUESDAY}/video.mp4", payload)
    dav.faults.slow_get(512 * 1024)
    cancel = threading.Event()
    timer = threading.Timer(1.5, cancel.set)
    timer.start()
    with pytest.raises(Cancelled):
        member.sync(cancel=cancel)
    timer.cancel()
    assert member.files(TUESDAY) == {}  # nothing partial appears in the date folder
    partials = list((member.media / ".congsync/tmp").glob("*.part"))
    kept = partials[0].stat().st_size if len(partials) == 1 else 0
    assert 0 < kept < len(payload)

    dav.faults.slow_get(None)
    member.sync()

    assert member.files(TUESDAY)["video.mp4"] == payload
    resumed = [r for r in dav.faults.requests if r.method == "GET"][-1]
    assert (resumed.range, resumed.status) == (f"bytes={kept}-", 206)


def test_a_busy_server_answering_503_with_retry_after_is_waited_for(
    dav: DavFixture, member: Member
):
    dav.put_file(f"Media/{TUESDAY}/a.jpg", b"a")
    dav.faults.fail_next(2, status=503, retry_after="1")

    result = member.sync()

    assert result.errors == []
    assert member.files(TUESDAY) == {"a.jpg": b"a"}
    statuses = [r.status for r in dav.faults.requests]
    assert statuses[:2] == [503, 503]


def test_a_rate_limited_download_is_retried(dav: DavFixture, member: Member):
    dav.put_file(f"Media/{TUESDAY}/a.jpg", b"a")
    dav.faults.fail_next(1, status=429, retry_after="1", methods=("GET",))

    result = member.sync()

    assert result.errors == []
    assert member.files(TUESDAY) == {"a.jpg": b"a"}


def test_a_download_that_keeps_failing_is_reported_and_the_rest_still_arrive(
    dav: DavFixture, member: Member
):
    dav.put_file(f"Media/{TUESDAY}/a.jpg", b"a")
    dav.put_file(f"Media/{TUESDAY}/b.jpg", b"b")
    dav.faults.fail_next(
        20,
        status=403,
        retry_after=None,
        methods=("GET",),
        path_prefix=f"/congregation/Media/{TUESDAY}/a",
    )

    result = member.sync()

    assert member.files(TUESDAY) == {"b.jpg": b"b"}
    assert len(result.errors) == 1 and "a.jpg" in result.errors[0]


def test_wrong_password_is_an_authentication_error(dav: DavFixture, member: Member):
    with pytest.raises(AuthError) as error:
        member.sync(password="wrong")
    assert "password" in error.value.message


def test_a_malformed_listing_changes_nothing(dav: DavFixture, member: Member):
    dav.put_file(f"Media/{TUESDAY}/a.jpg", b"a")
    member.sync()
    dav.faults.override_propfind("/congregation/Media/", b"<not-xml")

    with pytest.raises(Exception) as error:
        member.sync()
    assert "XML" in str(error.value)
    assert member.files(TUESDAY) == {"a.jpg": b"a"}


def test_a_full_disk_is_reported_and_loses_nothing(dav: DavFixture, tmp_path: Path):
    # Needs a tiny real file system; mounting one needs root (CI runs as root).
    small = tmp_path / "small"
    small.mkdir()
    if os.system(f"mount -t tmpfs -o size=512k tmpfs {small} 2>/dev/null") != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        write_prefs(dav)
        member = Member(dav, tmp_path / "m", media_dir=small / "media")
        dav.put_file(f"Media/{TUESDAY}/small.jpg", b"s" * 1000)
        dav.put_file(f"Media/{TUESDAY}/big.mp4", os.urandom(2 * 1024 * 1024))

        result = member.sync()

        assert any("big.mp4" in e and "full" in e for e in result.errors)
        assert "big.mp4" not in member.files(TUESDAY)  # nothing partial in the date folder
        # the partial video is dropped so the disk is not left full
        assert list((small / "media" / ".congsync/tmp").glob("*.part")) == []

        (dav.folder_path / f"Media/{TUESDAY}/big.mp4").unlink()
        assert member.sync().errors == []
        assert member.files(TUESDAY) == {"small.jpg": b"s" * 1000}
    finally:
        os.system(f"umount {small}")


def test_the_trash_keeps_removed_files_a_week_and_then_empties(dav: DavFixture, member: Member):
    for name in ("a", "b"):
        dav.put_file(f"Media/{TUESDAY}/{name}.jpg", name.encode())
    member.sync()
    (dav.folder_path / f"Media/{TUESDAY}/a.jpg").unlink()
    member.sync()
    trash = member.media / ".congsync" / "trash"
    (stamp,) = list(trash.iterdir())
    six_days_ago = time.time() - 6 * 86400
    os.utime(stamp, (six_days_ago, six_days_ago))

    member.sync()
    assert stamp.exists()  # six days: still kept

    eight_days_ago = time.time() - 8 * 86400
    os.utime(stamp, (eight_days_ago, eight_days_ago))
    member.sync()
    assert not stamp.exists()


def test_abandoned_partial_downloads_are_dropped_after_a_day(dav: DavFixture, member: Member):
    member.sync()
    tmp = member.media / ".congsync" / "tmp"
    stale, fresh = tmp / "stale.part", tmp / "fresh.part"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"y")
    two_days_ago = time.time() - 2 * 86400
    os.utime(stale, (two_days_ago, two_days_ago))

    member.sync()

    assert not stale.exists()
    assert fresh.exists()
