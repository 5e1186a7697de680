"""After download, what Meeting Media Manager's watch folder ignores becomes images: PDF pages,
SVG drawings and HEIC photos. Inputs are generated here (Pillow writes PDFs, pillow-heif HEIC)."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import pytest
from davserver import DavFixture
from PIL import Image
from pillow_heif import register_heif_opener
from samples import pdf
from support import PREFS, SUNDAY, TODAY, TUESDAY, Member, write_prefs

from daemon.service.root import ProfileRoot
from daemon.sync.downloads import Output
from daemon.sync.journal import Journal

register_heif_opener()

SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50">'
    b'<rect width="100" height="50" fill="#0000ff"/></svg>'
)


def encrypted_pdf() -> bytes:
    """A PDF whose trailer names a Standard security handler with a user password."""
    data = pdf(1)
    head, sep, tail = data.rpartition(b"trailer\n<<\n")
    encrypt = (
        b"/Encrypt << /Filter /Standard /V 1 /R 2 /P -4 /O <" + b"ab" * 32 + b"> /U <"
        b"" + b"cd" * 32 + b"> >>\n/ID [<" + b"01" * 16 + b"> <" + b"01" * 16 + b">]\n"
    )
    return head + sep + encrypt + tail


def heic(size: tuple[int, int], orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "HEIF", exif=exif.tobytes())
    return buffer.getvalue()


def image_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.size


def original(member: Member, name: str, day: str = TUESDAY) -> Path:
    return member.media / ".congsync" / "originals" / day / name


def placements(member: Member) -> dict[str, str | None]:
    journal = Journal(member.profile.paths.journal_file)
    try:
        return {name: f.placement for (_day, name), f in journal.owned().items()}
    finally:
        journal.close()


def test_a_pdf_becomes_one_image_per_page_1920_wide(dav: DavFixture, tmp_path: Path):
    write_prefs(dav)
    talk = pdf(3)
    dav.put_file(f"Media/{TUESDAY}/Talk.PDF", talk)
    member = Member(dav, tmp_path / "m")

    result = member.sync()

    assert result.errors == [] and result.warnings == []
    files = member.files(TUESDAY)
    assert sorted(files) == ["Talk - page 01.png", "Talk - page 02.png", "Talk - page 03.png"]
    assert {image_size(data) for data in files.values()} == {(1920, 2560)}
    assert original(member, "Talk.PDF").read_bytes() == talk
    assert set(placements(member).values()) == {"Talk.PDF"}
    again = member.sync()
    assert (again.downloaded, again.updated, again.bytes_downloaded) == (0, 0, 0)


def test_an_svg_becomes_a_png_and_a_heic_photo_an_upright_jpeg(dav: DavFixture, tmp_path: Path):
    write_prefs(dav)
    dav.put_file(f"Media/{TUESDAY}/drawing.svg", SVG)
    # Stored 40 x 20, to be shown turned a quarter clockwise (EXIF orientation 6): 20 x 40.
    dav.put_file(f"Media/{TUESDAY}/photo.HEIC", heic((40, 20), orientation=6))
    dav.put_file(f"Media/{TUESDAY}/plain.jpg", b"jpg")
    member = Member(dav, tmp_path / "m")

    result = member.sync()

    assert result.errors == []
    files = member.files(TUESDAY)
    assert sorted(files) == ["drawing.png", "photo.jpg", "plain.jpg"]
    assert image_size(files["drawing.png"]) == (1920, 960)
    with Image.open(io.BytesIO(files["photo.jpg"])) as photo:
        assert photo.format == "JPEG"
        assert photo.size == (20, 40)
        assert photo.getexif().get(0x0112, 1) == 1  # never turned twice by a viewer
    assert original(member, "photo.HEIC").is_file()
    assert original(member, "drawing.svg").read_bytes() == SVG


def test_a_tall_svg_is_scaled_down_like_a_tall_pdf_page(dav: DavFixture, tmp_path: Path):
    # At 1920 px wide, this 1 x 10 strip would be a 1920 x 19200 bitmap; a 1 x 100000 one would
    # ask resvg for 1.4 TB, and resvg aborts the whole process when an allocation fails.
    write_prefs(dav)
    strip = (
        b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 10">'
        b'<rect width="1" height="10" fill="#0000ff"/></svg>'
    )
    dav.put_file(f"Media/{TUESDAY}/strip.svg", strip)
    member = Member(dav, tmp_path / "m")

    result = member.sync()

    assert result.errors == []
    assert image_size(member.files(TUESDAY)["strip.png"]) == (768, 7680)


def test_a_changed_pdf_is_converted_again_and_extra_pages_go(dav: DavFixture, tmp_path: Path):
    write_prefs(dav)
    dav.put_file(f"Media/{TUESDAY}/Talk.pdf", pdf(3))
    member = Member(dav, tmp_path / "m")
    member.sync()

    shorter = pdf(2, size=(800, 600))
    dav.put_file(f"Media/{TUESDAY}/Talk.pdf", shorter)
    result = member.sync()

    assert result.errors == [] and result.updated == 1
    files = member.files(TUESDAY)
    assert sorted(files) == ["Talk - page 01.png", "Talk - page 02.png"]
    assert {image_size(data) for data in files.values()} == {(1920, 1440)}
    assert set(placements(member)) == set(files)
    assert original(member, "Talk.pdf").read_bytes() == shorter


def test_a_removed_source_removes_its_conversions(dav: DavFixture, tmp_path: Path):
    write_prefs(dav)
    dav.put_file(f"Media/{TUESDAY}/Talk.pdf", pdf(2))
    dav.put_file(f"Media/{TUESDAY}/drawing.svg", SVG)
    dav.put_file(f"Media/{TUESDAY}/keep.jpg", b"jpg")
    member = Member(dav, tmp_path / "m")
    member.sync()

    dav.remove(f"Media/{TUESDAY}/Talk.pdf")
    dav.remove(f"Media/{TUESDAY}/drawing.svg")
    result = member.sync(accept_deletions=True)  # 2 of 3 sources gone: the guard would ask

    assert result.errors == [] and result.removed == 3
    assert member.files(TUESDAY) == {"keep.jpg": b"jpg"}
    assert set(placements(member)) == {"keep.jpg"}


def test_a_page_deleted_here_comes_back_without_a_download(dav: DavFixture, tmp_path: Path):
    write_prefs(dav)
    dav.put_file(f"Media/{TUESDAY}/Talk.pdf", pdf(2))
    member = Member(dav, tmp_path / "m")
    member.sync()
    (member.media / TUESDAY / "Talk - page 02.png").unlink()

    result = member.sync()

    assert result.errors == [] and result.bytes_downloaded == 0
    assert sorted(member.files(TUESDAY)) == ["Talk - page 01.png", "Talk - page 02.png"]


BROKEN = [
    ("broken.pdf", b"%PDF-1.4\nnot really a pdf\n%%EOF"),
    ("locked.pdf", encrypted_pdf()),
    ("not-a.pdf", b"GIF89a pretending"),
    ("broken.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><rect"),
    ("broken.heic", b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64),
    ("text.heif", b"hello, this is not a photo"),
]


@pytest.mark.parametrize(("name", "data"), BROKEN, ids=[n for n, _d in BROKEN])
def test_a_file_that_cannot_be_converted_is_kept_and_said_once(
    dav: DavFixture, tmp_path: Path, name: str, data: bytes
):
    write_prefs(dav)
    dav.put_file(f"Media/{TUESDAY}/{name}", data)
    dav.put_file(f"Media/{TUESDAY}/Talk.pdf", pdf(1))
    member = Member(dav, tmp_path / "m")

    first = member.sync()

    assert first.errors == []
    assert [w for w in first.warnings if name in w] != []
    assert original(member, name).read_bytes() == data
    assert sorted(member.files(TUESDAY)) == ["Talk - page 01.png"]  # the others went on
    status = json.loads((member.media / ".congsync" / "manifest.json").read_text())
    assert status["dates"][TUESDAY]["reasons"][name][0] == "not_converted"

    second = member.sync()

    assert second.warnings == [] and second.errors == []
    assert second.bytes_downloaded == 0  # not fetched and tried again for the same version
    assert original(member, name).read_bytes() == data


def test_switched_off_files_arrive_as_they_are_and_switching_converges(
    dav: DavFixture, tmp_path: Path
):
    write_prefs(dav)
    talk = pdf(2)
    dav.put_file(f"Media/{TUESDAY}/Talk.pdf", talk)
    member = Member(dav, tmp_path / "m", convert=False)
    member.sync()
    assert member.files(TUESDAY) == {"Talk.pdf": talk}

    member.profile.save(member.profile.config.with_changes(convert=True))
    on = member.sync()

    assert on.errors == [] and on.bytes_downloaded == 0
    assert sorted(member.files(TUESDAY)) == ["Talk - page 01.png", "Talk - page 02.png"]
    assert original(member, "Talk.pdf").read_bytes() == talk

    member.profile.save(member.profile.config.with_changes(convert=False))
    off = member.sync()

    assert off.errors == [] and off.bytes_downloaded == 0
    assert member.files(TUESDAY) == {"Talk.pdf": talk}
    assert member.sync().updated == 0  # settled


def test_the_congregation_can_switch_conversions_off_for_everyone(dav: DavFixture, tmp_path: Path):
    write_prefs(dav, {**PREFS, "congsync": {"convert": False}})
    dav.put_file(f"Media/{TUESDAY}/drawing.svg", SVG)
    member = Member(dav, tmp_path / "m", convert=True)

    result = member.sync()

    assert result.errors == []
    assert member.files(TUESDAY) == {"drawing.svg": SVG}


def test_conversions_never_appear_half_written(dav: DavFixture, tmp_path: Path):
    """A watcher samples the date folder while a long PDF converts: every image it ever sees
    there is complete (outputs are written aside and renamed into place)."""
    write_prefs(dav)
    dav.put_file(f"Media/{TUESDAY}/Long.pdf", pdf(12))
    member = Member(dav, tmp_path / "m")
    folder = member.media / TUESDAY
    seen: dict[str, int] = {}
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            for path in folder.glob("*.png") if folder.is_dir() else []:
                try:
                    data = path.read_bytes()
                except FileNotFoundError:
                    continue
                seen[path.name] = seen.get(path.name, 0) + 1
                assert data.endswith(b"IEND\xaeB`\x82"), path.name  # PNG's closing chunk

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        result = member.sync()
    finally:
        stop.set()
        watcher.join()
    assert result.errors == []
    assert len(member.files(TUESDAY)) == 12
    assert [p.name for p in folder.iterdir() if not p.name.endswith(".png")] == []


def test_conversions_run_off_the_download_workers(dav: DavFixture, tmp_path: Path):
    write_prefs(dav)
    dav.put_file(f"Media/{TUESDAY}/Talk.pdf", pdf(1))
    member = Member(dav, tmp_path / "m")
    threads: list[str] = []

    def spy(download: Path, name: str, workdir: Path) -> list[Output] | None:
        threads.append(threading.current_thread().name)
        return None

    with ProfileRoot(member.profile, password=dav.password, steps=[spy]) as root:
        result = root.run_cycle(threading.Event(), today=TODAY)

    assert result.errors == []
    assert sorted(member.files(TUESDAY)) == ["Talk - page 01.png"]
    assert threads == ["convert"]


def test_a_recurring_pdf_is_downloaded_once_and_converted_at_every_meeting(
    dav: DavFixture, tmp_path: Path
):
    write_prefs(dav)
    song = pdf(2)
    dav.put_file("Media/Recurring/Song.pdf", song)
    member = Member(dav, tmp_path / "m", weeks_ahead=1)

    result = member.sync()

    assert result.errors == []
    assert result.bytes_downloaded == len(song)
    for day in (TUESDAY, SUNDAY):
        assert sorted(member.files(day)) == ["Song - page 01.png", "Song - page 02.png"]
        assert original(member, "Song.pdf", day).read_bytes() == song
