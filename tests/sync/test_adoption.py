"""Files already in the media folder that congsync's journal does not know (a lost state folder,
a media folder copied from another computer, a folder Meeting Media Manager filled) are adopted
when they are provably the server's version and kept as the user's when not, against a real
WebDAV server over TLS on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from davserver import DavFixture
from support import NEXT_SUNDAY, NEXT_TUESDAY, SUNDAY, TODAY, TUESDAY, Member, write_prefs

from daemon.core.names import safe_local_name
from daemon.sync.journal import Journal
from daemon.sync.media_folder import MediaFolder

MEETINGS = (TUESDAY, SUNDAY, NEXT_TUESDAY, NEXT_SUNDAY)


@pytest.fixture
def member(dav: DavFixture, tmp_path: Path) -> Member:
    write_prefs(dav)
    return Member(dav, tmp_path / "member")


def media_gets(dav: DavFixture) -> int:
    return dav.faults.count("GET", f"{dav.folder}/Media")


def owned_places(member: Member) -> set[tuple[str, str]]:
    journal = Journal(member.profile.paths.journal_file)
    try:
        return set(journal.owned())
    finally:
        journal.close()


def present(member: Member) -> dict[str, tuple[int, int]]:
    """What status shows per upcoming meeting: (files present, files expected)."""
    return {
        m.date: (m.files_present, m.files_expected)
        for m in MediaFolder(member.media).meeting_summaries(TODAY)
    }


def users_file(member: Member, day: str, name: str, data: bytes, mtime: int = 1_000_000_000):
    path = member.media / day / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))
    return path


def server_update_arrives(dav: DavFixture, member: Member, day: str, name: str) -> bool:
    """A new version of Media/<day>/<name> on the server reaches the member's copy."""
    data = f"{day}/{name}, a new version".encode()
    dav.put_file(f"Media/{day}/{name}", data)
    member.sync()
    return member.files(day).get(name) == data


def not_ours_warnings(result, name: str) -> list[str]:
    return [w for w in result.warnings if name in w and "not put there by congsync" in w]


def test_after_the_state_folder_is_lost_the_files_are_adopted_without_a_download_and_updates_arrive(
    dav: DavFixture, member: Member
):
    dav.put_file(f"Media/{TUESDAY}/talk.jpg", b"talk")
    dav.put_file("Media/Recurring/year.png", b"year")
    member.sync()
    shutil.rmtree(member.profile.paths.state_dir)
    dav.faults.clear()

    result = member.sync()

    assert media_gets(dav) == 0
    assert not_ours_warnings(result, ".") == []
    assert owned_places(member) == {(TUESDAY, "talk.jpg")} | {(d, "year.png") for d in MEETINGS}
    assert result.adopted == 5 and result.downloaded == 0 and result.errors == []
    assert present(member)[TUESDAY] == (2, 2)

    dav.put_file(f"Media/{TUESDAY}/talk.jpg", b"talk, second version")
    dav.put_file("Media/Recurring/year.png", b"year 2030")
    result = member.sync()

    assert result.updated == 5
    assert member.files(TUESDAY) == {"talk.jpg": b"talk, second version", "year.png": b"year 2030"}


def test_a_media_folder_copied_from_another_computer_is_adopted_without_a_download(
    dav: DavFixture, member: Member, tmp_path: Path
):
    dav.put_file(f"Media/{SUNDAY}/talk.mp4", b"video")
    member.sync()
    copied = tmp_path / "new computer" / "media"
    shutil.copytree(member.media, copied, copy_function=shutil.copy2)  # times preserved
    shutil.rmtree(copied / ".congsync")
    newcomer = Member(dav, tmp_path / "new computer", media_dir=copied)
    dav.faults.clear()

    result = newcomer.sync()

    assert media_gets(dav) == 0
    assert owned_places(newcomer) == {(SUNDAY, "talk.mp4")}
    assert result.adopted == 1 and result.downloaded == 0
    assert server_update_arrives(dav, newcomer, SUNDAY, "talk.mp4")


def test_a_byte_identical_file_with_another_time_is_adopted_after_one_download(
    dav: DavFixture, member: Member
):
    dav.put_file(f"Media/{TUESDAY}/talk.jpg", b"talk")
    users_file(member, TUESDAY, "talk.jpg", b"talk")

    result = member.sync()

    assert media_gets(dav) == 1
    assert result.adopted == 1 and result.downloaded == 0
    assert not_ours_warnings(result, "talk.jpg") == []
    assert owned_places(member) == {(TUESDAY, "talk.jpg")}
    assert present(member)[TUESDAY] == (1, 1)
    dav.faults.clear()

    member.sync()
    assert media_gets(dav) == 0
    assert server_update_arrives(dav, member, TUESDAY, "talk.jpg")


def test_a_file_of_the_users_that_differs_is_kept_said_once_and_never_counted_present(
    dav: DavFixture, member: Member
):
    dav.put_file(f"Media/{TUESDAY}/talk.jpg", b"the congregation's talk")
    mine = users_file(member, TUESDAY, "talk.jpg", b"my own talk")

    result = member.sync()

    assert mine.read_bytes() == b"my own talk"
    assert os.stat(mine).st_mtime == 1_000_000_000
    said = not_ours_warnings(result, f"{TUESDAY}/talk.jpg")
    assert len(said) == 1 and "differs" in said[0]
    assert result.adopted == 0 and result.downloaded == 0
    assert owned_places(member) == set()
    assert present(member)[TUESDAY] == (0, 1)
    assert list((member.media / ".congsync/tmp").iterdir()) == []
    dav.faults.clear()

    again = member.sync()

    assert media_gets(dav) == 0
    assert not_ours_warnings(again, "talk.jpg") == []
    assert mine.read_bytes() == b"my own talk"
    assert present(member)[TUESDAY] == (0, 1)

    # A new version on the server is compared once more; the user's file still stays.
    dav.put_file(f"Media/{TUESDAY}/talk.jpg", b"the congregation's talk, corrected")
    dav.faults.clear()
    third = member.sync()
    assert media_gets(dav) == 1 and len(not_ours_warnings(third, "talk.jpg")) == 1
    assert mine.read_bytes() == b"my own talk"

    # Once the user moves his file away, the congregation's arrives.
    mine.unlink()
    member.sync()
    assert member.files(TUESDAY) == {"talk.jpg": b"the congregation's talk, corrected"}
    assert present(member)[TUESDAY] == (1, 1)


def test_recurring_media_meeting_media_manager_placed_under_its_safe_name_is_adopted_everywhere(
    dav: DavFixture, member: Member
):
    remote_name = "Song: Be Courageous?.mp4"
    local_name = safe_local_name(remote_name)
    assert local_name is not None and local_name != remote_name
    dav.put_file(f"Media/Recurring/{remote_name}", b"song")
    for day in MEETINGS:  # copied there by hand or by another tool: times of their own
        users_file(member, day, local_name, b"song")

    result = member.sync()

    assert result.errors == [] and result.warnings == []
    assert owned_places(member) == {(d, local_name) for d in MEETINGS}
    assert result.adopted == 4
    assert all(present(member)[d] == (1, 1) for d in MEETINGS)

    dav.put_file(f"Media/Recurring/{remote_name}", b"song, new recording")
    member.sync()
    assert all(member.files(d) == {local_name: b"song, new recording"} for d in MEETINGS)


def test_an_owned_file_edited_on_disk_is_not_counted_present(dav: DavFixture, member: Member):
    dav.put_file(f"Media/{TUESDAY}/talk.jpg", b"talk")
    member.sync()
    assert present(member)[TUESDAY] == (1, 1)

    (member.media / TUESDAY / "talk.jpg").write_bytes(b"scribbled over")

    assert present(member)[TUESDAY] == (0, 1)
