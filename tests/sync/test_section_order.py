"""The organizer's order and sections (M³'s `.section-order.json`) reach every computer."""

from __future__ import annotations

import json
from pathlib import Path

from davserver import DavFixture
from m3_support import LAYOUT, entry, layout, m3_writes_layout
from organizer_support import server_files
from samples import pdf
from support import TUESDAY, Member, write_prefs

from daemon.core.records import OwnedFile
from daemon.sync.journal import Journal


def organizer(dav: DavFixture, tmp_path: Path) -> Member:
    home = tmp_path / "organizer"
    return Member(dav, home, role="organizer", organizer_dir=home / "organizer")


def congregation(dav: DavFixture) -> None:
    write_prefs(dav)
    dav.put_file(f"Media/{TUESDAY}/talk.mp4", b"video")
    dav.put_file(f"Media/{TUESDAY}/photo.jpg", b"image")


def test_the_organizers_layout_reaches_a_member_and_merges_with_the_members_own(
    dav: DavFixture, tmp_path: Path
):
    congregation(dav)
    boss, member = organizer(dav, tmp_path), Member(dav, tmp_path / "member")
    boss.sync()
    member.sync()
    (member.media / TUESDAY / "mine.jpg").write_bytes(b"own")
    m3_writes_layout(
        member.media / TUESDAY, {"mine.jpg": entry(0, "lac"), "talk.mp4": entry(5, "pt")}
    )

    m3_writes_layout(
        boss.media / TUESDAY,
        {"photo.jpg": entry(0, "tgw"), "talk.mp4": entry(1, "tgw"), "gone.jpg": entry(2, "tgw")},
    )
    published = boss.sync()
    result = member.sync()

    assert published.errors == [] and result.errors == [] and result.warnings == []
    on_server = json.loads(server_files(dav)[f"Media/{TUESDAY}/{LAYOUT}"])
    assert on_server == {"photo.jpg": entry(0, "tgw"), "talk.mp4": entry(1, "tgw")}
    assert layout(member.media / TUESDAY) == {
        "mine.jpg": entry(0, "lac"),
        "photo.jpg": entry(0, "tgw"),
        "talk.mp4": entry(1, "tgw"),
    }
    assert [p.name for p in (member.media / TUESDAY).iterdir() if p.name.endswith(".tmp")] == []


def test_the_layout_is_not_downloaded_as_media(dav: DavFixture, tmp_path: Path):
    congregation(dav)
    dav.put_file(f"Media/{TUESDAY}/{LAYOUT}", json.dumps({"talk.mp4": entry(0, "tgw")}).encode())
    member = Member(dav, tmp_path / "member")

    result = member.sync()

    assert result.downloaded == 2
    assert layout(member.media / TUESDAY) == {"talk.mp4": entry(0, "tgw")}
    assert sorted(member.files(TUESDAY)) == [LAYOUT, "photo.jpg", "talk.mp4"]


def test_a_members_own_drag_stays_until_the_organizer_changes_his(dav: DavFixture, tmp_path: Path):
    congregation(dav)
    boss, member = organizer(dav, tmp_path), Member(dav, tmp_path / "member")
    boss.sync()
    m3_writes_layout(
        boss.media / TUESDAY, {"talk.mp4": entry(0, "tgw"), "photo.jpg": entry(1, "tgw")}
    )
    boss.sync()
    member.sync()

    m3_writes_layout(
        member.media / TUESDAY, {"talk.mp4": entry(1, "tgw"), "photo.jpg": entry(0, "tgw")}
    )
    dragged = layout(member.media / TUESDAY)
    dav.faults.clear()
    assert member.sync().warnings == []
    assert layout(member.media / TUESDAY) == dragged
    # The organizer's version did not move: not fetched again.
    assert dav.faults.count("GET", f"{dav.folder}/Media/{TUESDAY}/{LAYOUT}") == 0

    m3_writes_layout(boss.media / TUESDAY, {"talk.mp4": entry(0, "wt")})
    boss.sync()
    member.sync()
    assert layout(member.media / TUESDAY) == {
        "talk.mp4": entry(0, "wt"),
        "photo.jpg": entry(1, "tgw"),
    }


def test_a_layout_written_in_the_organizer_folder_is_published(dav: DavFixture, tmp_path: Path):
    congregation(dav)
    boss, member = organizer(dav, tmp_path), Member(dav, tmp_path / "member")
    boss.sync()
    org_folder = boss.profile.config.organizer_dir
    assert org_folder is not None
    m3_writes_layout(
        org_folder / TUESDAY, {"photo.jpg": entry(0, "ayfm"), "mine.jpg": entry(1, "x")}
    )

    boss.sync()
    member.sync()

    assert layout(member.media / TUESDAY) == {"photo.jpg": entry(0, "ayfm")}


def test_the_organizers_own_layout_and_the_merge_do_not_chase_each_other(
    dav: DavFixture, tmp_path: Path
):
    congregation(dav)
    boss = organizer(dav, tmp_path)
    boss.sync()
    m3_writes_layout(
        boss.media / TUESDAY, {"talk.mp4": entry(0, "tgw"), "own.jpg": entry(1, "tgw")}
    )
    boss.sync()
    m3_writes_layout(boss.media / TUESDAY, {"talk.mp4": entry(0, "wt")})  # a later drag
    written = (boss.media / TUESDAY / LAYOUT).read_bytes()
    dav.faults.clear()

    boss.sync()
    assert dav.faults.count("MOVE", f"{dav.folder}/.congsync-uploads") == 1  # published once
    boss.sync()
    boss.sync()

    assert (boss.media / TUESDAY / LAYOUT).read_bytes() == written
    assert dav.faults.count("PUT") == dav.faults.count("MOVE") == 1
    # What it published itself is never fetched back.
    assert dav.faults.count("GET", f"{dav.folder}/Media/{TUESDAY}/{LAYOUT}") == 0
    assert json.loads(server_files(dav)[f"Media/{TUESDAY}/{LAYOUT}"]) == {
        "talk.mp4": entry(0, "wt")
    }


def test_m3s_temporary_layout_files_never_reach_the_server(dav: DavFixture, tmp_path: Path):
    congregation(dav)
    boss = organizer(dav, tmp_path)
    boss.sync()
    org_folder = boss.profile.config.organizer_dir
    assert org_folder is not None
    # A write M³ was interrupted in, in both folders it may watch.
    (boss.media / TUESDAY / f"{LAYOUT}.1764680000000.tmp").write_text("{", encoding="utf-8")
    (org_folder / TUESDAY / f"{LAYOUT}.1764680000001.tmp").write_text("{}", encoding="utf-8")
    m3_writes_layout(boss.media / TUESDAY, {"talk.mp4": entry(0, "tgw")})

    result = boss.sync()

    assert result.errors == [] and result.warnings == []
    assert [p for p in server_files(dav) if LAYOUT in p] == [f"Media/{TUESDAY}/{LAYOUT}"]


def test_a_broken_local_layout_is_kept_not_destroyed(dav: DavFixture, tmp_path: Path):
    congregation(dav)
    boss, member = organizer(dav, tmp_path), Member(dav, tmp_path / "member")
    boss.sync()
    member.sync()
    (member.media / TUESDAY / LAYOUT).write_bytes(b'{"talk.mp4": {"ord')  # truncated
    m3_writes_layout(boss.media / TUESDAY, {"talk.mp4": entry(0, "tgw")})
    boss.sync()

    result = member.sync()

    assert len(result.warnings) == 1 and "not a valid layout file" in result.warnings[0]
    kept = list((member.media / ".congsync" / "section-order").iterdir())
    assert [p.read_bytes() for p in kept] == [b'{"talk.mp4": {"ord']
    assert layout(member.media / TUESDAY) == {"talk.mp4": entry(0, "tgw")}
    assert member.sync().warnings == []  # said once


def test_entries_follow_the_safe_name_mapping(dav: DavFixture, tmp_path: Path):
    write_prefs(dav)
    dav.put_file(f"Media/{TUESDAY}/what?.jpg", b"image")
    boss, member = organizer(dav, tmp_path), Member(dav, tmp_path / "member")
    boss.sync()
    assert "what_.jpg" in boss.files(TUESDAY)
    m3_writes_layout(boss.media / TUESDAY, {"what_.jpg": entry(3, "lac")})

    boss.sync()
    member.sync()

    on_server = json.loads(server_files(dav)[f"Media/{TUESDAY}/{LAYOUT}"])
    assert on_server == {"what?.jpg": entry(3, "lac")}
    assert layout(member.media / TUESDAY) == {"what_.jpg": entry(3, "lac")}


def test_m3_export_names_keep_their_name(dav: DavFixture, tmp_path: Path):
    write_prefs(dav)
    name = "01 Treasures From God’s Word - 02 “Be Joyful”.mp4"
    dav.put_file(f"Media/{TUESDAY}/{name}", b"video")
    member = Member(dav, tmp_path / "member")

    member.sync()

    assert list(member.files(TUESDAY)) == [name]


def test_a_layout_an_earlier_version_downloaded_as_media_is_kept(dav: DavFixture, tmp_path: Path):
    congregation(dav)
    member = Member(dav, tmp_path / "member")
    member.sync()
    m3_writes_layout(member.media / TUESDAY, {"talk.mp4": entry(2, "pt")})
    st = (member.media / TUESDAY / LAYOUT).stat()
    journal = Journal(member.profile.paths.journal_file)
    try:  # as an earlier congsync left it: owned like media
        journal.record_owned(
            OwnedFile(TUESDAY, LAYOUT, ("Media", TUESDAY, LAYOUT), "v1", st.st_size, st.st_mtime_ns)
        )
    finally:
        journal.close()

    result = member.sync()

    assert (result.removed, result.warnings) == (0, [])
    assert layout(member.media / TUESDAY) == {"talk.mp4": entry(2, "pt")}


def test_a_broken_layout_on_the_server_leaves_the_members_own_and_is_said_once(
    dav: DavFixture, tmp_path: Path
):
    congregation(dav)
    dav.put_file(f"Media/{TUESDAY}/{LAYOUT}", b'{"talk.mp4": ')
    member = Member(dav, tmp_path / "member")
    (member.media / TUESDAY).mkdir(parents=True)
    m3_writes_layout(member.media / TUESDAY, {"talk.mp4": entry(3, "lac")})
    mine = (member.media / TUESDAY / LAYOUT).read_bytes()

    first, second = member.sync(), member.sync()

    assert len(first.warnings) == 1 and "not a valid layout file" in first.warnings[0]
    assert second.warnings == []
    assert (member.media / TUESDAY / LAYOUT).read_bytes() == mine


def test_a_deeply_nested_layout_on_the_server_is_a_broken_one_not_a_failed_cycle(
    dav: DavFixture, tmp_path: Path
):
    # Valid-looking JSON nested deeper than Python's recursion limit: json raises RecursionError,
    # which is no ValueError.
    congregation(dav)
    dav.put_file(f"Media/{TUESDAY}/{LAYOUT}", b'{"talk.mp4": ' + b"[" * 100_000)
    member = Member(dav, tmp_path / "member")

    result = member.sync()

    assert member.files(TUESDAY) == {"talk.mp4": b"video", "photo.jpg": b"image"}
    assert len(result.warnings) == 1 and "not a valid layout file" in result.warnings[0]


def test_the_order_of_a_pdfs_pages_reaches_members_too(dav: DavFixture, tmp_path: Path):
    # Members show a PDF as its page images: the organizer arranges those, so his entries for
    # them are published with the congregation's files and applied on every computer.
    write_prefs(dav)
    dav.put_file(f"Media/{TUESDAY}/Song.pdf", pdf(2))
    dav.put_file(f"Media/{TUESDAY}/talk.mp4", b"video")
    boss, member = organizer(dav, tmp_path), Member(dav, tmp_path / "member")
    boss.sync()
    member.sync()
    pages = {"Song - page 01.png": entry(1, "tgw"), "Song - page 02.png": entry(2, "tgw")}

    m3_writes_layout(boss.media / TUESDAY, {"talk.mp4": entry(0, "tgw"), **pages})
    boss.sync()
    member.sync()

    on_server = json.loads(server_files(dav)[f"Media/{TUESDAY}/{LAYOUT}"])
    assert on_server == {"talk.mp4": entry(0, "tgw"), **pages}
    assert layout(member.media / TUESDAY) == {"talk.mp4": entry(0, "tgw"), **pages}
