"""Publishing from Meeting Media Manager's media auto-export folder, one way, against a real TLS
WebDAV server: followed on the server, never written into, the complete selection at members."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from davserver import DavFixture
from organizer_support import Organizer, server_files
from support import SUNDAY, TUESDAY, Member, make_profile, write_prefs
from test_half_written import mp4

from daemon.config import Config, check_folders
from daemon.errors import ConfigError, UnsafeToProceed
from daemon.sync.discovery import SELECTION_MARKER

SONG = "01 Treasures From God’s Word - 01 Song 12.mp4"
TALK = "01 Treasures From God’s Word - 02 Talk.mp4"
VIDEO = "02 Apply Yourself - 01 Video.mp4"


@pytest.fixture
def org(dav: DavFixture, tmp_path: Path) -> Organizer:
    write_prefs(dav)
    home = tmp_path / "org"
    return Organizer(dav, home, export_dir=home / "export")


@pytest.fixture
def member(dav: DavFixture, tmp_path: Path) -> Member:
    return Member(dav, tmp_path / "member")


def export(org: Organizer, rel: str, data: bytes) -> Path:
    """What M³'s auto-export does: a complete file in `<export>/<date>/`."""
    config = org.profile.config
    assert config.export_dir is not None
    path = config.export_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def export_dir(org: Organizer) -> Path:
    assert org.profile.config.export_dir is not None
    return org.profile.config.export_dir


def on_server(dav: DavFixture, day: str) -> dict[str, bytes]:
    prefix = f"Media/{day}/"
    return {
        rel.removeprefix(prefix): data
        for rel, data in server_files(dav).items()
        if rel.startswith(prefix) and not rel.endswith(SELECTION_MARKER)
    }


def marker(dav: DavFixture, day: str) -> list[str]:
    names: list[str] = json.loads(dav.read_file(f"Media/{day}/{SELECTION_MARKER}"))["files"]
    return names


def test_an_export_is_published_then_followed_as_it_changes(dav: DavFixture, org: Organizer):
    export(org, f"{TUESDAY}/{SONG}", b"song")
    export(org, f"{TUESDAY}/{TALK}", b"talk")

    first = org.sync()

    assert first.errors == []
    assert on_server(dav, TUESDAY) == {SONG: b"song", TALK: b"talk"}
    assert marker(dav, TUESDAY) == sorted([SONG, TALK])

    # The organizer hid the song in M³ and added a video: M³'s export follows, so must the server.
    (export_dir(org) / TUESDAY / SONG).unlink()
    export(org, f"{TUESDAY}/{VIDEO}", b"video")

    second = org.sync()

    assert second.errors == []
    assert on_server(dav, TUESDAY) == {TALK: b"talk", VIDEO: b"video"}
    assert marker(dav, TUESDAY) == sorted([TALK, VIDEO])

    # He moved the talk in front: M³ renames it with a new NN prefix.
    moved = "01 Treasures From God’s Word - 01 Talk.mp4"
    os.rename(export_dir(org) / TUESDAY / TALK, export_dir(org) / TUESDAY / moved)

    third = org.sync()

    assert third.errors == []
    assert on_server(dav, TUESDAY) == {moved: b"talk", VIDEO: b"video"}
    assert marker(dav, TUESDAY) == sorted([moved, VIDEO])
    assert org.sync().uploaded == 0  # nothing left to do


def test_a_member_receives_exactly_the_exports_files_for_a_covered_date(
    dav: DavFixture, org: Organizer, member: Member
):
    # The organizer folder holds the talk and a recurring song; M³ exports both under its names.
    org.drop(f"{TUESDAY}/talk.mp4", b"talk")
    org.drop("Recurring/song.mp4", b"song")
    export(org, f"{TUESDAY}/{SONG}", b"song")
    export(org, f"{TUESDAY}/{TALK}", b"talk")
    export(org, f"{TUESDAY}/{VIDEO}", b"video")
    org.drop(f"Hidden/{TUESDAY}/{VIDEO}", b"")  # hidden congregation-wide, still obeyed

    assert org.sync().errors == []
    assert org.sync().downloaded == 0  # a second look at the server brings nothing down
    member.sync()

    assert member.files(TUESDAY) == {SONG: b"song", TALK: b"talk"}
    # A date the export does not cover is served as before: its recurring media is there.
    assert member.files(SUNDAY) == {"song.mp4": b"song"}
    # The export's files never come down into the organizer folder.
    assert org.files() == {
        f"{TUESDAY}/talk.mp4": b"talk",
        "Recurring/song.mp4": b"song",
        f"Hidden/{TUESDAY}/{VIDEO}": b"",
    }

    # The organizer's own media folder obeys the same rule as any member's.
    own = Member(dav, org.profile.paths.state_dir.parent / "own-media")
    own.sync()
    assert own.files(TUESDAY) == {SONG: b"song", TALK: b"talk"}


def test_the_export_folder_is_never_written(dav: DavFixture, org: Organizer):
    export(org, f"{TUESDAY}/{SONG}", b"song")
    export(org, f"{SUNDAY}/{TALK}", b"talk")
    dav.put_file(f"Media/{TUESDAY}/{VIDEO}", b"changed on the server by someone")

    def picture() -> dict[str, tuple[int, int, bool]]:
        root = export_dir(org)
        found = {".": (root.stat().st_mtime_ns, root.stat().st_size, True)}
        for path in root.rglob("*"):
            st = path.stat()
            found[path.relative_to(root).as_posix()] = (st.st_mtime_ns, st.st_size, path.is_dir())
        return found

    before = picture()
    org.sync()
    # Someone replaced and deleted published files on the server: the export is published
    # again, nothing comes down into it.
    dav.put_file(f"Media/{TUESDAY}/{SONG}", b"replaced on the server")
    (dav.folder_path / "Media" / SUNDAY / TALK).unlink()
    org.sync()
    org.sync()

    assert picture() == before
    assert on_server(dav, TUESDAY) == {SONG: b"song", VIDEO: b"changed on the server by someone"}
    assert on_server(dav, SUNDAY) == {TALK: b"talk"}


def test_a_half_written_export_file_is_published_only_once_whole(dav: DavFixture, org: Organizer):
    whole = mp4(4000)
    path = export(org, f"{TUESDAY}/{VIDEO}", whole[:-50])  # the movie atom is not there yet

    first = org.sync()

    assert on_server(dav, TUESDAY) == {}
    assert any(VIDEO in w and "incomplete" in w for w in first.warnings)
    path.write_bytes(whole)
    os.utime(path, (1_000_000_000, 1_000_000_000))  # long quiet, as a finished export is

    org.sync()

    assert on_server(dav, TUESDAY) == {VIDEO: whole}


def test_the_publisher_removes_only_what_it_published_from_the_export(
    dav: DavFixture, org: Organizer
):
    org.drop(f"{TUESDAY}/talk.mp4", b"from the organizer folder")
    dav.put_file(f"Media/{TUESDAY}/other.mp4", b"from a co-organizer")
    export(org, f"{TUESDAY}/{SONG}", b"song")
    org.sync()
    assert SONG in on_server(dav, TUESDAY)

    (export_dir(org) / TUESDAY / SONG).unlink()
    result = org.sync()

    assert result.errors == []
    assert on_server(dav, TUESDAY) == {
        "talk.mp4": b"from the organizer folder",
        "other.mp4": b"from a co-organizer",
    }
    # Nothing of the export left for that date: the date is served as before, marker gone.
    assert not (dav.folder_path / "Media" / TUESDAY / SELECTION_MARKER).exists()


def test_a_missing_export_folder_removes_nothing(dav: DavFixture, org: Organizer):
    export(org, f"{TUESDAY}/{SONG}", b"song")
    org.sync()
    (export_dir(org) / TUESDAY / SONG).unlink()
    (export_dir(org) / TUESDAY).rmdir()
    export_dir(org).rmdir()  # an unplugged drive

    result = org.sync()

    assert on_server(dav, TUESDAY) == {SONG: b"song"}
    assert any("export folder" in w and "missing" in w for w in result.warnings)
    assert not export_dir(org).exists()  # not recreated either


def test_an_emptied_export_folder_stops_and_asks_before_deleting_on_the_server(
    dav: DavFixture, org: Organizer
):
    # M³ pointed at another export folder, or the folder cleared out: more than half of what
    # the export published would go, so the safety rule stops and asks, as for the organizer.
    names = [SONG, TALK, VIDEO]
    for name in names:
        export(org, f"{TUESDAY}/{name}", name.encode())
    org.sync()
    for name in names:
        (export_dir(org) / TUESDAY / name).unlink()

    with pytest.raises(UnsafeToProceed, match="export folder"):
        org.sync()
    assert sorted(on_server(dav, TUESDAY)) == sorted(names)

    result = org.sync(accept_deletions=True)
    assert result.errors == [] and result.deleted_remote == 3
    assert on_server(dav, TUESDAY) == {}


# -- configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "words"),
    [
        ("media", "media folder"),
        ("media/sub", "media folder"),
        ("organizer", "organizer folder"),
        ("organizer/2030-01-08", "organizer folder"),
        ("state", "state folder"),
        ("logs/export", "log folder"),
    ],
)
def test_an_export_folder_overlapping_congsyncs_folders_is_refused(
    dav: DavFixture, tmp_path: Path, where: str, words: str
):
    profile = make_profile(dav, tmp_path, role="organizer", organizer_dir=tmp_path / "organizer")
    config = profile.config.with_changes(export_dir=tmp_path / where)

    with pytest.raises(ConfigError) as refused:
        check_folders(config, profile.paths)

    assert words in refused.value.message
    assert "export folder" in refused.value.message
    assert refused.value.message.rstrip().endswith(".")


def test_a_member_cannot_have_an_export_folder(dav: DavFixture, tmp_path: Path):
    profile = make_profile(dav, tmp_path)

    with pytest.raises(ConfigError) as refused:
        profile.config.with_changes(export_dir=tmp_path / "export")

    assert "organizer" in refused.value.message


def test_an_export_folder_beside_the_others_is_accepted(dav: DavFixture, tmp_path: Path):
    profile = make_profile(dav, tmp_path, role="organizer", organizer_dir=tmp_path / "organizer")
    config: Config = profile.config.with_changes(export_dir=tmp_path / "media export")

    check_folders(config, profile.paths)
    profile.save(config)

    assert profile.reload().export_dir == tmp_path / "media export"


def test_an_unreadable_selection_list_keeps_the_members_files(
    dav: DavFixture, org: Organizer, member: Member
):
    org.drop(f"{TUESDAY}/talk.mp4", b"talk")
    export(org, f"{TUESDAY}/{TALK}", b"talk")
    org.sync()
    member.sync()
    assert member.files(TUESDAY) == {TALK: b"talk"}

    dav.put_file(f"Media/{TUESDAY}/{SELECTION_MARKER}", b"{not json")
    dav.put_file(f"Media/{TUESDAY}/extra.mp4", b"extra")
    result = member.sync()

    assert member.files(TUESDAY) == {TALK: b"talk"}  # nothing removed, nothing doubled
    assert any("could not be read" in w for w in result.warnings)
    assert result.errors == []


def test_a_deeply_nested_selection_list_is_an_unreadable_one_not_a_failed_cycle(
    dav: DavFixture, org: Organizer, member: Member
):
    org.drop(f"{TUESDAY}/talk.mp4", b"talk")
    export(org, f"{TUESDAY}/{TALK}", b"talk")
    org.sync()
    member.sync()

    # Nested deeper than Python's recursion limit: json raises RecursionError, no ValueError.
    dav.put_file(f"Media/{TUESDAY}/{SELECTION_MARKER}", b'{"files": ' + b"[" * 100_000)
    result = member.sync()

    assert member.files(TUESDAY) == {TALK: b"talk"}
    assert any("could not be read" in w for w in result.warnings)
    assert result.errors == []


def test_members_follow_a_reordered_export_without_a_mass_deletion_stop(
    dav: DavFixture, org: Organizer, member: Member
):
    names = [f"01 Treasures From God’s Word - {n:02d} Item {n}.mp4" for n in range(1, 5)]
    for n, name in enumerate(names):
        export(org, f"{TUESDAY}/{name}", f"item {n}".encode())
    org.sync()
    member.sync()
    assert sorted(member.files(TUESDAY)) == names

    # The organizer reversed the order: M³ renames every file with its new NN prefix.
    folder = export_dir(org) / TUESDAY
    renamed = [f"01 Treasures From God’s Word - {5 - n:02d} Item {n}.mp4" for n in range(1, 5)]
    for old, new in zip(names, renamed, strict=True):
        os.rename(folder / old, folder / f"{new}.swap")
    for new in renamed:
        os.rename(folder / f"{new}.swap", folder / new)
    org.sync()
    result = member.sync()

    assert result.errors == []
    assert sorted(member.files(TUESDAY)) == sorted(renamed)


def test_past_dates_in_the_export_are_left_alone(dav: DavFixture, org: Organizer):
    export(org, f"2030-01-01/{SONG}", b"last week")  # before TODAY: cleanup's business
    export(org, f"{TUESDAY}/{SONG}", b"song")

    org.sync()

    assert on_server(dav, "2030-01-01") == {}
    assert on_server(dav, TUESDAY) == {SONG: b"song"}
