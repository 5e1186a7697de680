"""Watches the organizer folder and says "sync soon" once dropped, changed or removed files have settled.

The watcher only decides *when* a cycle is worth running; the cycle itself rescans the folder
against the journal, so an event the observer missed (or one that arrived while congsync was
not running) is still caught by the next cycle, and renames are recognised there (by identical
size and mtime), whatever events the OS delivered for them.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import (
    EVENT_TYPE_CLOSED,
    EVENT_TYPE_CLOSED_NO_WRITE,
    EVENT_TYPE_DELETED,
    EVENT_TYPE_MODIFIED,
    EVENT_TYPE_MOVED,
    EVENT_TYPE_OPENED,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from daemon.core.layout import HIDDEN, RECURRING
from daemon.core.organizer_plan import folder_day, is_ignored
from daemon.core.structure import required_quiet
from daemon.sync.organizer_folder import is_readable
from daemon.sync.writers import LEDGER, WriteLedger

log = logging.getLogger(__name__)

# File systems whose change notifications do not reach this computer reliably (or at all).
_NETWORK_FS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "9p",
        "afs",
        "ncpfs",
        "davfs",
        "fuse.sshfs",
        "fuse.rclone",
        "fuse.davfs2",
        "fuse.gvfsd-fuse",
        "fuse.s3fs",
        "glusterfs",
        "ceph",
    }
)


def is_network_folder(path: Path) -> bool:
    """Best effort: whether `path` lives on a network share (then only polling sees changes)."""
    resolved = str(path.resolve())
    if sys.platform == "win32":
        if resolved.startswith("\\\\"):
            return True  # a UNC path, \\server\share
        import ctypes  # only on Windows

        drive = os.path.splitdrive(resolved)[0] + "\\"
        drive_remote = 4
        kernel32 = ctypes.WinDLL("kernel32")  # type: ignore[attr-defined,unused-ignore]
        return bool(kernel32.GetDriveTypeW(drive) == drive_remote)
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as fh:
            mounts = [line.split() for line in fh]
    except OSError:
        return False  # not Linux (macOS, BSD): native events, the periodic scan backs them up
    best, fs_type = "", ""
    for fields in mounts:
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = resolved == point or resolved.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, fs_type = point, fields[2]
    return fs_type in _NETWORK_FS


def _relevant_dir(rel: str) -> bool:
    """Folders whose appearance, renaming or removal changes what is synced."""
    parts = rel.split("/")
    if len(parts) == 1:
        return parts[0] in (RECURRING, HIDDEN) or folder_day(parts[0]) is not None
    return len(parts) == 2 and parts[0] == HIDDEN and folder_day(parts[1]) is not None


def _synced_file(rel: str) -> bool:
    """Whether a file at `rel` is in a synced folder (a date folder may be spelled any way
    the cycle reads)."""
    parts = rel.split("/")
    if len(parts) == 2:
        return parts[0] == RECURRING or folder_day(parts[0]) is not None
    return len(parts) == 3 and parts[0] == HIDDEN and folder_day(parts[1]) is not None


class OrganizerWatcher:
    """Calls `on_change()` (the daemon's "sync soon") when the organizer folder changed.

    Event storms are coalesced: events only mark paths; a worker looks at them every tick and
    calls `on_change` at most once per tick. A created or modified file counts once it is
    stable: size and mtime unchanged for a quiet time that grows with its size (at least
    `settle_seconds`), no event for `debounce_seconds`, openable for reading, and, where the
    OS reports closes (Linux), closed by its writer. Write and close events also go to
    `ledger`, which the organizer cycle consults. Deletions, renames away and folder changes
    count after `debounce_seconds`. Opening and reading files (as uploads do) is not a change.
    """

    def __init__(
        self,
        organizer_dir: Path,
        on_change: Callable[[], None],
        *,
        settle_seconds: float = 2.0,
        polling: bool | None = None,
        debounce_seconds: float = 0.5,
        poll_interval: float = 2.0,
        ledger: WriteLedger = LEDGER,
    ) -> None:
        self.root = organizer_dir
        self.on_change = on_change
        self.settle_seconds = settle_seconds
        self.debounce_seconds = debounce_seconds
        self.poll_interval = poll_interval
        self.polling = is_network_folder(organizer_dir) if polling is None else polling
        self.ledger = ledger
        self._cond = threading.Condition()
        self._pending: dict[Path, float] = {}  # file -> monotonic time of its last event
        self._observed: dict[Path, tuple[tuple[int, int], float]] = {}  # (size, mtime), since
        self._structural_at: float | None = None
        self._tracks_closes = False
        self._stopping = False
        self._observer: BaseObserver | None = None
        self._worker: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        handler = _Handler(self)
        observer = self._make_observer(self.polling)
        # Only Linux's native observer (inotify) reports close-after-write.
        self._tracks_closes = not self.polling and sys.platform.startswith("linux")
        try:
            observer.schedule(handler, str(self.root), recursive=True)
            observer.start()
        except OSError as exc:
            if self.polling:
                raise
            # e.g. Linux's inotify watch limit: polling is slower but sees everything.
            log.warning("native file events unavailable (%s); polling %s instead", exc, self.root)
            self.polling = True
            self._tracks_closes = False
            observer = self._make_observer(True)
            observer.schedule(handler, str(self.root), recursive=True)
            observer.start()
        self._observer = observer
        self._worker = threading.Thread(
            target=self._run, name="congsync-organizer-watch", daemon=True
        )
        self._worker.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout)
        if self._worker is not None:
            self._worker.join(timeout)

    def _make_observer(self, polling: bool) -> BaseObserver:
        if polling:
            return PollingObserver(timeout=self.poll_interval)
        return Observer()

    # -- events (observer thread) -------------------------------------------------------------

    def _relative(self, raw: bytes | str) -> str | None:
        path = os.fsdecode(raw)
        try:
            rel = Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return None
        if rel in ("", ".") or any(is_ignored(part) for part in rel.split("/")):
            return None  # congsync's own corner, temp files, system litter, conflict copies
        return rel

    def notice(self, event: FileSystemEvent) -> None:
        if event.event_type in (EVENT_TYPE_OPENED, EVENT_TYPE_CLOSED_NO_WRITE):
            return
        now = time.monotonic()
        with self._cond:
            for raw, arriving in ((event.src_path, False), (event.dest_path, True)):
                if not raw:
                    continue
                rel = self._relative(raw)
                if rel is None:
                    continue
                if event.is_directory:
                    # A folder's own "modified" only echoes changes to its files, seen anyway.
                    if event.event_type != EVENT_TYPE_MODIFIED and _relevant_dir(rel):
                        self._structural_at = now
                    continue
                if not _synced_file(rel):
                    continue  # not in a synced folder
                path = Path(os.fsdecode(raw))
                gone = event.event_type == EVENT_TYPE_DELETED or (
                    event.event_type == EVENT_TYPE_MOVED and not arriving
                )
                if gone:
                    self._structural_at = now
                    self._pending.pop(path, None)
                    self.ledger.closed(path)
                    continue
                self._pending[path] = now
                if not self._tracks_closes:
                    continue
                if event.event_type in (EVENT_TYPE_CLOSED, EVENT_TYPE_MOVED):
                    self.ledger.closed(path)  # closed by its writer, or renamed in finished
                elif event.event_type == EVENT_TYPE_MODIFIED:
                    # Only a write: "created" is also what watchdog reports for files found
                    # in a new folder or moved in from outside, which no writer holds.
                    self.ledger.written(path)
            self._cond.notify_all()

    # -- the worker ---------------------------------------------------------------------------

    def _run(self) -> None:
        tick = max(0.05, min(self.debounce_seconds, self.settle_seconds / 2))
        while True:
            with self._cond:
                if self._stopping:
                    return
                if not self._pending and self._structural_at is None:
                    self._cond.wait()
                    continue
                pending = dict(self._pending)
                structural_at = self._structural_at
            if self._check(pending, structural_at):
                self.on_change()
            with self._cond:
                if not self._stopping:
                    self._cond.wait(tick)

    def _check(self, pending: dict[Path, float], structural_at: float | None) -> bool:
        now = time.monotonic()
        fire = False
        if structural_at is not None and now - structural_at >= self.debounce_seconds:
            fire = True
            with self._cond:
                if self._structural_at == structural_at:
                    self._structural_at = None
        for path, last_event in pending.items():
            if now - last_event < self.debounce_seconds:
                continue
            state = _state(path)
            if state is None:
                self._settled(path, last_event)  # gone again (a temp file): nothing to publish
                continue
            seen = self._observed.get(path)
            if seen is None or seen[0] != state:
                self._observed[path] = (state, now)
                continue
            if self.ledger.unclosed((path,)):
                continue  # its writer has not closed it yet: the close event comes
            quiet = required_quiet(state[0], self.settle_seconds)
            if now - seen[1] >= quiet and is_readable(path):
                self._settled(path, last_event)
                fire = True
        return fire

    def _settled(self, path: Path, last_event: float) -> None:
        self._observed.pop(path, None)
        with self._cond:
            if self._pending.get(path) == last_event:  # no newer event meanwhile
                del self._pending[path]


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: OrganizerWatcher) -> None:
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        self.watcher.notice(event)


def _state(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)
