"""The organizer folder watcher: when it says "sync soon", and when it keeps quiet."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import TUESDAY

from daemon.sync.watch import OrganizerWatcher, is_network_folder

QUIET = 1.0  # how long a test waits to be sure nothing is reported


class Calls:
    """Counts on_change calls; lets a test wait for the next one."""

    def __init__(self) -> None:
        self.count = 0
        self.context: list[object] = []
        self._cond = threading.Condition()
        self.probe: object = None

    def __call__(self) -> None:
        with self._cond:
            self.count += 1
            self.context.append(self.probe() if callable(self.probe) else None)
            self._cond.notify_all()

    def wait_for(self, n: int, timeout: float = 10.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.count >= n, timeout)


@pytest.fixture(params=[False, True], ids=["native", "polling"])
def watched(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, Calls]]:
    root = tmp_path / "organizer"
    (root / TUESDAY).mkdir(parents=True)
    (root / "Recurring").mkdir()
    calls = Calls()
    watcher = OrganizerWatcher(
        root,
        calls,
        settle_seconds=0.3,
        debounce_seconds=0.1,
        polling=request.param,
        poll_interval=0.1,
    )
    watcher.start()
    try:
        yield root, calls
    finally:
        watcher.stop()


def test_a_dropped_file_is_reported_once_it_settled(watched: tuple[Path, Calls]):
    root, calls = watched
    (root / TUESDAY / "talk.mp4").write_bytes(b"talk")

    assert calls.wait_for(1)
    time.sleep(QUIET)
    assert calls.count == 1


def test_a_file_still_being_written_is_reported_only_when_complete(
    watched: tuple[Path, Calls],
):
    root, calls = watched
    done = threading.Event()
    calls.probe = done.is_set

    with open(root / TUESDAY / "big.mp4", "wb") as fh:
        for _chunk in range(15):
            fh.write(os.urandom(64 * 1024))
            fh.flush()
            time.sleep(0.1)
    done.set()

    assert calls.wait_for(1)
    assert calls.context == [True] * calls.count


def test_temporary_and_system_files_are_not_reported(watched: tuple[Path, Calls]):
    root, calls = watched
    for name in ("movie.mp4.part", "x.crdownload", "~$talk.pptx", ".DS_Store", "Thumbs.db"):
        (root / TUESDAY / name).write_bytes(b"junk")
    (root / "notes").mkdir()
    (root / "notes" / "todo.txt").write_bytes(b"not a synced folder")
    (root / "loose.txt").write_bytes(b"not in a folder")
    (root / ".congsync-tmp").mkdir()
    (root / ".congsync-tmp" / "abc.part").write_bytes(b"congsync's own")

    time.sleep(QUIET)
    assert calls.count == 0


def test_reading_files_is_not_a_change(tmp_path: Path):
    root = tmp_path / "organizer"
    (root / TUESDAY).mkdir(parents=True)
    (root / TUESDAY / "talk.mp4").write_bytes(b"talk")
    calls = Calls()
    watcher = OrganizerWatcher(root, calls, settle_seconds=0.3, debounce_seconds=0.1)
    watcher.start()
    try:
        for _read in range(5):
            (root / TUESDAY / "talk.mp4").read_bytes()  # what an upload does
        time.sleep(QUIET)
    finally:
        watcher.stop()
    assert calls.count == 0


def test_deletions_and_renames_are_reported(watched: tuple[Path, Calls]):
    root, calls = watched
    (root / TUESDAY / "a.jpg").write_bytes(b"a")
    assert calls.wait_for(1)

    os.rename(root / TUESDAY / "a.jpg", root / TUESDAY / "b.jpg")
    assert calls.wait_for(2)

    before = calls.count
    (root / TUESDAY / "b.jpg").unlink()
    assert calls.wait_for(before + 1)


def test_an_event_storm_is_coalesced(watched: tuple[Path, Calls]):
    root, calls = watched
    for i in range(200):
        (root / "Recurring" / f"slide-{i:03}.jpg").write_bytes(b"x" * i)

    assert calls.wait_for(1)
    time.sleep(QUIET)
    assert calls.count <= 5


def test_a_new_date_folder_is_reported(watched: tuple[Path, Calls]):
    root, calls = watched
    (root / "2030-01-13").mkdir()
    (root / "2030-01-13" / "talk.mp4").write_bytes(b"talk")

    assert calls.wait_for(1)


def test_a_local_disk_is_watched_natively():
    assert is_network_folder(Path.cwd()) is False
