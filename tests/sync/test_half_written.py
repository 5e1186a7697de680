"""Members never receive half a file, whatever the writer in the organizer folder does.

The writers are separate processes (as a video export, a slow copy or a browser would be),
pausing longer than the settle time between chunks; the server is a real WsgiDAV over TLS.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from davserver import DavFixture
from organizer_support import Organizer
from support import TUESDAY, Member, write_prefs

from daemon.sync.progress import Progress
from daemon.sync.uploads import STAGING_FOLDER
from daemon.sync.watch import OrganizerWatcher
from daemon.sync.writers import WriteLedger, open_for_writing, parse_lsof_writers

# Writes the chunks given as files, pausing between them; keeps the target open throughout
# ("hold") or opens, appends and closes it for each chunk ("reopen").
WRITER = r"""
import sys, time
target, mode, pause, *chunks = sys.argv[1:]
parts = [open(c, "rb").read() for c in chunks]
if mode == "hold":
    with open(target, "wb") as fh:
        for part in parts:
            fh.write(part); fh.flush(); time.sleep(float(pause))
else:
    open(target, "wb").close()
    for part in parts:
        with open(target, "ab") as fh:
            fh.write(part)
        time.sleep(float(pause))
"""


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4(size: int) -> bytes:
    """A structurally valid MP4 of about `size` bytes whose movie atom comes last (as an
    export writes it)."""
    return (
        _box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2")
        + _box(b"mdat", os.urandom(size))
        + _box(b"moov", _box(b"mvhd", bytes(100)))
    )


def start_writer(tmp: Path, target: Path, data: bytes, chunks: int, pause: float, mode: str):
    step = -(-len(data) // chunks)
    files = []
    for n, start in enumerate(range(0, len(data), step)):
        part = tmp / f"chunk{n}"
        part.write_bytes(data[start : start + step])
        files.append(str(part))
    target.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([sys.executable, "-c", WRITER, str(target), mode, str(pause), *files])


@pytest.fixture
def org1(dav: DavFixture, tmp_path: Path) -> Organizer:
    write_prefs(dav)
    return Organizer(dav, tmp_path / "org1")


def published_versions(dav: DavFixture) -> int:
    """How many versions were moved into Media/ (each staged upload ends in one MOVE)."""
    return dav.faults.count("MOVE", f"/congregation/{STAGING_FOLDER}")


def sync_while(writer: subprocess.Popen[bytes], org1: Organizer, settle: float) -> None:
    """Keep syncing (as the daemon would keep polling) until the writer is done."""
    while writer.poll() is None:
        org1.sync(settle=settle)
    assert writer.returncode == 0


def sync_until_published(
    dav: DavFixture, org1: Organizer, settle: float, timeout: float = 30.0
) -> None:
    """Once the writer is done, the file is published within the grown quiet time (the last
    cycle while it was writing may already have seen it finished)."""
    deadline = time.monotonic() + timeout
    while not published_versions(dav) and not org1.sync(settle=settle).uploaded:
        assert time.monotonic() < deadline, "never published"
        time.sleep(0.2)


def test_a_file_held_open_by_a_pausing_writer_is_published_once_complete(
    dav: DavFixture, org1: Organizer, tmp_path: Path
):
    # Pauses three times the settle time: size and mtime stand still while the writer
    # still holds the file open (a video export, a slow USB stick).
    payload = os.urandom(600_000)
    target = org1.dir / TUESDAY / "talk.bin"
    writer = start_writer(tmp_path, target, payload, chunks=4, pause=0.9, mode="hold")
    sync_while(writer, org1, settle=0.3)
    sync_until_published(dav, org1, settle=0.3)
    assert published_versions(dav) == 1  # only the complete file, never a part of it
    assert dav.read_file(f"Media/{TUESDAY}/talk.bin") == payload


def test_a_video_cut_short_is_never_published_and_the_organizer_is_told(
    dav: DavFixture, org1: Organizer, tmp_path: Path
):
    # This writer closes the file after every chunk, so no OS evidence is left: the MP4's
    # own structure (its movie atom comes last) says it is incomplete.
    video = mp4(800_000)
    target = org1.dir / TUESDAY / "talk.mp4"
    writer = start_writer(tmp_path, target, video, chunks=4, pause=0.9, mode="reopen")
    warnings: list[str] = []
    while writer.poll() is None:
        warnings += org1.sync(settle=0.3).warnings
    assert any("talk.mp4" in w and "incomplete MP4" in w for w in warnings), warnings
    sync_until_published(dav, org1, settle=0.3)
    assert published_versions(dav) == 1  # only the complete file, never a part of it
    assert dav.read_file(f"Media/{TUESDAY}/talk.mp4") == video


def test_a_truncated_picture_waits_until_it_is_whole(dav: DavFixture, org1: Organizer):
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.frombytes("RGB", (64, 64), os.urandom(64 * 64 * 3)).save(out, "JPEG")
    picture = out.getvalue()
    org1.drop(f"{TUESDAY}/slide.jpg", picture[: len(picture) // 2])
    result = org1.sync(settle=0.05)
    assert result.uploaded == 0
    assert any("slide.jpg" in w and "JPEG" in w for w in result.warnings)
    org1.drop(f"{TUESDAY}/slide.jpg", picture)
    assert org1.sync(settle=0.05).uploaded == 1


def test_a_file_changed_during_its_upload_is_discarded_and_sent_again(
    dav: DavFixture, org1: Organizer, tmp_path: Path
):
    member = Member(dav, tmp_path / "member")
    first = os.urandom(3 * 1024 * 1024)
    path = org1.drop(f"{TUESDAY}/talk.bin", first)
    os.utime(path, (time.time() - 60, time.time() - 60))
    changed = threading.Event()

    def meanwhile(progress: Progress) -> None:
        if progress.bytes_done and not changed.is_set():
            changed.set()
            with open(path, "ab") as fh:  # the organizer saves again while it uploads
                fh.write(b"more")

    result = org1.sync(settle=0.05, on_progress=meanwhile)
    assert changed.is_set() and result.uploaded == 0
    assert published_versions(dav) == 0
    assert not (dav.folder_path / "Media" / TUESDAY / "talk.bin").exists()
    member.sync()
    assert member.files(TUESDAY) == {}
    sync_until_published(dav, org1, settle=0.05)
    assert dav.read_file(f"Media/{TUESDAY}/talk.bin") == first + b"more"
    assert not list((dav.folder_path / STAGING_FOLDER).iterdir())


def test_the_os_tells_which_files_another_process_holds_open_for_writing(tmp_path: Path):
    held = tmp_path / "held.bin"
    done = tmp_path / "done.bin"
    read_only = tmp_path / "read.bin"
    done.write_bytes(b"x")
    read_only.write_bytes(b"y")
    code = (
        "import sys, time\n"
        "w = open(sys.argv[1], 'wb'); r = open(sys.argv[2], 'rb')\n"
        "print('ready', flush=True); time.sleep(30)\n"
    )
    other = subprocess.Popen(
        [sys.executable, "-c", code, str(held), str(read_only)], stdout=subprocess.PIPE
    )
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == b"ready"
        if not sys.platform.startswith("linux"):
            pytest.skip("/proc evidence is Linux's; Windows and macOS have their own")
        assert open_for_writing([held, done, read_only]) == {held}
    finally:
        other.kill()
        other.wait()
    assert open_for_writing([held]) == set()


def test_lsof_output_is_read_for_writers():
    # macOS's evidence comes from lsof, which cannot run its macOS self here: its documented
    # field output (-F an: p pid, f fd, a access r/w/u, n name) is parsed instead.
    output = "p123\nfcwd\na \nn/\nf4\naw\nn/org/2026-12-01/talk.mp4\nf5\nar\nn/org/a.jpg\n"
    output += "p456\nf7\nau\nn/org/b.pdf\n"
    assert parse_lsof_writers(output) == {"/org/2026-12-01/talk.mp4", "/org/b.pdf"}


def test_the_watcher_waits_for_the_writer_to_close_the_file(tmp_path: Path):
    if not sys.platform.startswith("linux"):
        pytest.skip("close-after-write events are Linux's (inotify)")
    root = tmp_path / "organizer"
    (root / TUESDAY).mkdir(parents=True)
    ledger = WriteLedger()
    target = root / TUESDAY / "talk.bin"
    # What held when the watcher fired: did the ledger still see a writer? (No clock involved:
    # a shared machine's scheduling cannot make this pass or fail.)
    calls: list[set[Path]] = []
    watcher = OrganizerWatcher(
        root,
        lambda: calls.append(ledger.unclosed([target])),
        settle_seconds=0.3,
        debounce_seconds=0.1,
        polling=False,
        ledger=ledger,
    )
    watcher.start()
    try:
        writer = start_writer(tmp_path, target, os.urandom(300_000), 3, pause=1.0, mode="hold")
        time.sleep(0.5)
        assert ledger.unclosed([target]) == {target}  # what the organizer cycle asks
        writer.wait(timeout=30)
        deadline = time.monotonic() + 10
        while not calls and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        watcher.stop()
    assert calls, "never fired after the writer closed the file"
    assert all(still_open == set() for still_open in calls), "fired while still written"
    assert ledger.unclosed([target]) == set()


def test_a_running_organizer_publishes_a_slowly_written_file_once_and_whole(
    dav: DavFixture, tmp_path: Path
):
    # The writer: pauses of 6 s (longer than the watcher's and the cycle's 2 s settle
    # together) while it holds the file open; `congsync run` as the organizer, as installed.
    from installation import TOMORROW, Installation, wait_until
    from support import make_profile

    home = tmp_path / "home"
    installation = Installation(dav, home)
    organizer_dir = home / "organizer"
    make_profile(dav, home, role="organizer", organizer_dir=organizer_dir)
    try:
        installation.start()
        installation.wait_state("idle")
        payload = os.urandom(3 * 1024 * 1024)
        target = organizer_dir / TOMORROW / "talk.bin"
        writer = start_writer(tmp_path, target, payload, chunks=3, pause=6.0, mode="hold")
        assert writer.wait(timeout=60) == 0
        on_server = dav.folder_path / "Media" / TOMORROW / "talk.bin"
        wait_until(lambda: on_server.exists() and on_server.stat().st_size == len(payload), 60)
        assert on_server.read_bytes() == payload
        assert published_versions(dav) == 1
    finally:
        installation.close()
