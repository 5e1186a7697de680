"""The seat for post-download steps: one download may become several owned files.

The step here is a stand-in written for the test (it splits a `.pair` file into its two
halves); the conversions of PDF, SVG and HEIC plug into the same seat.
"""

from __future__ import annotations

import threading
from pathlib import Path

from davserver import DavFixture
from support import TODAY, TUESDAY, Member, write_prefs

from daemon.service.root import ProfileRoot
from daemon.sync.downloads import Output
from daemon.sync.journal import Journal
from daemon.sync.media_folder import MediaFolder
from daemon.sync.result import SyncResult


def split_pairs(download: Path, name: str, workdir: Path) -> list[Output] | None:
    if not name.endswith(".pair"):
        return None
    data = download.read_bytes()
    middle = len(data) // 2
    outputs = []
    halves = [part for part in (data[:middle], data[middle:]) if part]
    for n, part in enumerate(halves, start=1):
        path = workdir / f"{n}.txt"
        path.write_bytes(part)
        outputs.append(Output(f"{name[:-5]} {n}.txt", path))
    return outputs


def sync(member: Member, dav: DavFixture) -> SyncResult:
    with ProfileRoot(member.profile, password=dav.password, steps=[split_pairs]) as root:
        return root.run_cycle(threading.Event(), today=TODAY)


def owned(member: Member) -> dict[str, str | None]:
    journal = Journal(member.profile.paths.journal_file)
    try:
        return {name: f.placement for (_day, name), f in journal.owned().items()}
    finally:
        journal.close()


def test_a_download_a_step_splits_is_owned_as_its_parts(dav: DavFixture, tmp_path: Path):
    write_prefs(dav)
    dav.put_file(f"Media/{TUESDAY}/slides.pair", b"AAAABBBB")
    dav.put_file(f"Media/{TUESDAY}/plain.jpg", b"jpg")
    member = Member(dav, tmp_path / "m")

    result = sync(member, dav)

    assert result.errors == []
    assert member.files(TUESDAY) == {
        "slides 1.txt": b"AAAA",
        "slides 2.txt": b"BBBB",
        "plain.jpg": b"jpg",
    }
    assert owned(member) == {
        "slides 1.txt": "slides.pair",
        "slides 2.txt": "slides.pair",
        "plain.jpg": None,
    }
    original = member.media / ".congsync" / "originals" / TUESDAY / "slides.pair"
    assert original.read_bytes() == b"AAAABBBB"
    assert list((member.media / ".congsync" / "tmp").iterdir()) == []  # no work left behind
    assert sync(member, dav).downloaded == 0  # nothing to do the second time


def test_a_part_deleted_here_brings_the_whole_placement_back(dav: DavFixture, tmp_path: Path):
    write_prefs(dav)
    dav.put_file(f"Media/{TUESDAY}/slides.pair", b"AAAABBBB")
    member = Member(dav, tmp_path / "m")
    sync(member, dav)
    (member.media / TUESDAY / "slides 2.txt").unlink()

    result = sync(member, dav)

    assert result.updated == 1
    assert member.files(TUESDAY) == {"slides 1.txt": b"AAAA", "slides 2.txt": b"BBBB"}


def test_a_new_version_with_fewer_parts_takes_the_extra_part_away(dav: DavFixture, tmp_path: Path):
    write_prefs(dav)
    dav.put_file(f"Media/{TUESDAY}/slides.pair", b"AAAABBBB")
    member = Member(dav, tmp_path / "m")
    sync(member, dav)
    dav.put_file(f"Media/{TUESDAY}/slides.pair", b"C")

    sync(member, dav)

    assert member.files(TUESDAY) == {"slides 1.txt": b"C"}
    assert owned(member) == {"slides 1.txt": "slides.pair"}


def test_removed_or_hidden_on_the_server_every_part_goes(dav: DavFixture, tmp_path: Path):
    write_prefs(dav)
    dav.put_file(f"Media/{TUESDAY}/slides.pair", b"AAAABBBB")
    dav.put_file(f"Media/{TUESDAY}/other.pair", b"XXYY")
    member = Member(dav, tmp_path / "m")
    sync(member, dav)
    dav.remove(f"Media/{TUESDAY}/slides.pair")
    dav.put_file(f"Hidden/{TUESDAY}/other.pair", b"")

    result = sync(member, dav)

    assert result.removed == 4
    assert member.files(TUESDAY) == {}
    assert owned(member) == {}


def test_a_part_never_replaces_a_file_of_the_users(dav: DavFixture, tmp_path: Path):
    write_prefs(dav)
    dav.put_file(f"Media/{TUESDAY}/slides.pair", b"AAAABBBB")
    member = Member(dav, tmp_path / "m")
    (member.media / TUESDAY).mkdir(parents=True)
    (member.media / TUESDAY / "slides 2.txt").write_bytes(b"mine")

    result = sync(member, dav)

    assert member.files(TUESDAY) == {"slides 1.txt": b"AAAA", "slides 2.txt": b"mine"}
    assert any("slides 2.txt" in w and "not put there by congsync" in w for w in result.warnings)


class SlidesOnly:
    """A step that says which files it converts (as the real conversions do)."""

    def __init__(self) -> None:
        self.called: list[str] = []

    def applies(self, name: str) -> bool:
        return name.endswith(".slides")

    def __call__(self, download: Path, name: str, workdir: Path) -> list[Output] | None:
        self.called.append(name)
        assert workdir.is_dir()
        return None  # installed as it is


def test_a_download_no_step_applies_to_gets_no_working_folder(
    dav: DavFixture, tmp_path: Path, monkeypatch
):
    write_prefs(dav)
    dav.put_file(f"Media/{TUESDAY}/talk.mp4", b"mp4")
    dav.put_file(f"Media/{TUESDAY}/notes.slides", b"slides")
    member = Member(dav, tmp_path / "m")
    made: list[str] = []
    real = MediaFolder.workdir

    def spy(self: MediaFolder, day: str, name: str, version: str) -> Path:
        made.append(name)
        return real(self, day, name, version)

    monkeypatch.setattr(MediaFolder, "workdir", spy)
    step = SlidesOnly()
    with ProfileRoot(member.profile, password=dav.password, steps=[step]) as root:
        result = root.run_cycle(threading.Event(), today=TODAY)

    assert result.errors == []
    assert member.files(TUESDAY) == {"talk.mp4": b"mp4", "notes.slides": b"slides"}
    assert made == ["notes.slides"] and step.called == ["notes.slides"]
