"""What Meeting Media Manager writes into the folder it watches is tolerated.

M³ creates empty date folders for the meeting days about five weeks ahead, deletes the date
folders of weeks that are over, and writes `.section-order.json` through a temporary file and
a rename. None of it may make congsync download, upload, warn, count a loss or change the
server, on a member's media folder and on an organizer's media and organizer folders.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

from davserver import DavFixture
from m3_support import entry, m3_writes_layout
from organizer_support import server_files
from support import SUNDAY, TODAY, TUESDAY, Member, write_prefs

from daemon.sync.result import SyncResult

NEXT_MONDAY = TODAY + timedelta(days=7)
WRITES = ("PUT", "MOVE", "MKCOL", "DELETE", "COPY", "PROPPATCH")


def congregation(dav: DavFixture, *, recurring: bool = True) -> None:
    """Media for this week; recurring media also lands in the days a later window adds."""
    write_prefs(dav)
    dav.put_file(f"Media/{TUESDAY}/talk.mp4", b"video")
    dav.put_file(f"Media/{SUNDAY}/photo.jpg", b"image")
    if recurring:
        dav.put_file("Media/Recurring/song.mp3", b"song")


def organizer(dav: DavFixture, tmp_path: Path) -> Member:
    home = tmp_path / "organizer"
    return Member(dav, home, role="organizer", organizer_dir=home / "organizer")


def empty_meeting_folders(root: Path, start: date) -> None:
    """ensureWatchedMeetingDayFolders: every Tuesday and Sunday some five weeks ahead."""
    for offset in range(36):
        day = start + timedelta(days=offset)
        if day.weekday() in (1, 6):
            (root / day.isoformat()).mkdir(parents=True, exist_ok=True)


def nothing_happened(dav: DavFixture, result: SyncResult) -> None:
    assert result.errors == []
    assert result.warnings == []
    assert (result.downloaded, result.updated, result.adopted, result.removed) == (0, 0, 0, 0)
    assert dav.faults.count("GET", f"{dav.folder}/Media") == 0
    for method in WRITES:
        assert dav.faults.count(method) == 0, method


def test_a_members_folder_after_m3_created_empty_folders_and_wrote_a_layout(
    dav: DavFixture, tmp_path: Path
):
    congregation(dav)
    member = Member(dav, tmp_path / "member")
    member.sync()
    empty_meeting_folders(member.media, TODAY)
    m3_writes_layout(member.media / TUESDAY, {"talk.mp4": entry(0, "tgw")})
    dav.faults.clear()

    nothing_happened(dav, member.sync())
    assert (member.media / TUESDAY / ".section-order.json").exists()


def test_a_members_past_week_deleted_by_m3(dav: DavFixture, tmp_path: Path):
    congregation(dav)
    member = Member(dav, tmp_path / "member")
    member.sync()
    member.sync(NEXT_MONDAY)  # the week is over: congsync's own files went
    shutil.rmtree(member.media / TUESDAY, ignore_errors=True)  # cleanDateFolders
    shutil.rmtree(member.media / SUNDAY, ignore_errors=True)
    dav.faults.clear()

    nothing_happened(dav, member.sync(NEXT_MONDAY))


def test_a_member_whose_past_week_m3_deleted_before_congsync_did(dav: DavFixture, tmp_path: Path):
    congregation(dav, recurring=False)
    member = Member(dav, tmp_path / "member")
    member.sync()
    shutil.rmtree(member.media / TUESDAY)
    shutil.rmtree(member.media / SUNDAY)
    dav.faults.clear()

    nothing_happened(dav, member.sync(NEXT_MONDAY))


def test_an_organizers_media_and_organizer_folders_after_m3s_writes(
    dav: DavFixture, tmp_path: Path
):
    congregation(dav)
    boss = organizer(dav, tmp_path)
    org_folder = boss.profile.config.organizer_dir
    assert org_folder is not None
    boss.sync()
    before = server_files(dav)
    for root in (boss.media, org_folder):
        empty_meeting_folders(root, TODAY)
    # A layout in a date folder the server does not have must not create it.
    empty_day = (TODAY + timedelta(days=15)).isoformat()
    m3_writes_layout(org_folder / empty_day, {"song.mp3": entry(0, "tgw")})
    m3_writes_layout(boss.media / empty_day, {"song.mp3": entry(0, "tgw")})
    dav.faults.clear()

    nothing_happened(dav, boss.sync())
    assert server_files(dav) == before


def test_an_organizers_past_week_deleted_by_m3_deletes_nothing_on_the_server(
    dav: DavFixture, tmp_path: Path
):
    congregation(dav, recurring=False)
    boss = organizer(dav, tmp_path)
    org_folder = boss.profile.config.organizer_dir
    assert org_folder is not None
    boss.sync()
    before = server_files(dav)
    for root in (boss.media, org_folder):
        shutil.rmtree(root / TUESDAY)
        shutil.rmtree(root / SUNDAY)
    dav.faults.clear()

    result = boss.sync(NEXT_MONDAY)

    nothing_happened(dav, result)
    assert server_files(dav) == before


def test_m3_rewriting_the_applied_layout_downloads_nothing(dav: DavFixture, tmp_path: Path):
    congregation(dav)
    dav.put_file(f"Media/{TUESDAY}/.section-order.json", b'{"talk.mp4": {"order": 0}}')
    member = Member(dav, tmp_path / "member")
    member.sync()
    m3_writes_layout(member.media / TUESDAY, {"talk.mp4": entry(4, "lac")})  # a drag here
    dav.faults.clear()

    nothing_happened(dav, member.sync())
    assert (member.media / TUESDAY / ".section-order.json").read_bytes() != b""


def test_an_organizer_whose_m3_rewrites_the_published_layout_changes_nothing_else(
    dav: DavFixture, tmp_path: Path
):
    congregation(dav)
    boss = organizer(dav, tmp_path)
    org_folder = boss.profile.config.organizer_dir
    assert org_folder is not None
    dav.put_file(f"Media/{TUESDAY}/.section-order.json", b'{"talk.mp4": {"order": 0}}')
    boss.sync()
    # The server's layout is keyed by remote names: it is never fetched as a file to sync.
    assert not (org_folder / TUESDAY / ".section-order.json").exists()
    m3_writes_layout(org_folder / TUESDAY, {"talk.mp4": entry(0, "tgw")})  # the same order
    dav.faults.clear()

    result = boss.sync()

    assert result.errors == [] and result.warnings == []
    assert dav.faults.count("DELETE") == 0
    assert f"Media/{TUESDAY}/.section-order.json" in server_files(dav)
