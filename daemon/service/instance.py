"""One daemon per configuration, one cycle per media folder: OS locks on lock files, and telling
whether a process lives.

The lock is an advisory `flock` on POSIX and a byte-range lock on Windows; either way the
operating system drops it when the process dies, so a crash never leaves a stale lock behind.
The helpers `pid_alive` and `process_start_token` let readers of the status and control files
tell a live daemon from a dead one whose process id was reused.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Self

from daemon.errors import AlreadyRunning, Cancelled
from daemon.i18n import fact
from daemon.paths import Paths
from daemon.sync.media_folder import INTERNAL, disk_error

if sys.platform == "win32":
    import msvcrt
else:
    import fcntl

logger = logging.getLogger(__name__)

# The media folder's lock, in its `.congsync/` folder (see `media_folder_lock`).
MEDIA_LOCK_NAME = "sync.lock"

# Windows locks are mandatory: lock one byte far past the pid so that readers can still read it.
_WINDOWS_LOCK_OFFSET = 1 << 20


class FileLock:
    """An OS lock on one file, held from `acquire` (or `try_acquire`) until `release`.

    The file itself stays when the lock is let go: deleting a locked file invites races. It
    can still be deleted by someone else (a user removing the state folder); the lock then
    sits on a file nobody else can find, so `intact` tells whether the path still names the
    locked file, and `retake` locks the path anew.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock; False (at once) when another process (or open file) holds it."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _lock(fd)
        except OSError as exc:
            os.close(fd)
            if exc.errno in _HELD:
                return False
            raise LockUnsupported(str(exc)) from exc  # a file system without locks
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError:
            _unlock(fd)
            os.close(fd)
            raise
        self._fd = fd
        return True

    def acquire(self) -> None:
        """Take the lock or raise `AlreadyRunning` naming the process that holds it."""
        if not self.try_acquire():
            raise AlreadyRunning(read_lock_pid(self.path))

    def intact(self) -> bool:
        """Whether the lock is held and the path still names the very file that is locked."""
        fd = self._fd
        if fd is None:
            return False
        try:
            on_disk, locked = os.stat(self.path), os.fstat(fd)
        except OSError:
            return False
        return (on_disk.st_dev, on_disk.st_ino) == (locked.st_dev, locked.st_ino)

    def retake(self) -> bool:
        """Lock the file the path names now (after it was deleted or replaced).

        False when another process holds that file: it runs in this one's place.
        """
        if self.intact():
            return True
        self.release()
        return self.try_acquire()

    def release(self) -> None:
        """Let go of the lock; the file stays."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            _unlock(fd)
        finally:
            os.close(fd)

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class SingleInstance(FileLock):
    """Holds the per-configuration daemon lock for as long as it is entered (or acquired)."""

    def __init__(self, paths: Paths) -> None:
        super().__init__(paths.lock_file)


# How often a cycle waiting for the media folder's lock looks again (and checks `cancel`).
_MEDIA_LOCK_POLL = 0.2


class LockUnsupported(OSError):
    """The file system cannot lock files (some network shares)."""


# What a lock someone else holds looks like (flock: EWOULDBLOCK; Windows locking: EACCES).
_HELD = frozenset({errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES, errno.EDEADLK})


@contextlib.contextmanager
def media_folder_lock(media_dir: Path, cancel: threading.Event) -> Iterator[None]:
    """Hold the media folder's own lock for one sync cycle: two cycles never run at once on it.

    The lock file lives with the media folder (in its `.congsync/`, which presentation
    software ignores), so it holds whichever configuration, state folder or process syncs
    there. Waits while another cycle holds it; raises `Cancelled` once `cancel` is set and
    `LocalDiskError` when the media folder cannot be written.
    """
    lock = FileLock(media_dir / INTERNAL / MEDIA_LOCK_NAME)
    said = False
    try:
        lock.try_acquire()
    except LockUnsupported as exc:
        # Some network shares cannot lock files: sync anyway (the daemon's own lock still keeps
        # one daemon per configuration) rather than never.
        logger.warning(
            "The media folder %s cannot hold a lock (%s); syncing without it", media_dir, exc
        )
        yield
        return
    except OSError as exc:
        raise disk_error(exc, media_dir) from exc
    try:
        while not lock.try_acquire():
            if not said:
                logger.warning(
                    "Another congsync (process %s) is syncing %s; waiting for it to finish",
                    read_lock_pid(lock.path) or "?",
                    media_dir,
                )
                said = True
            if cancel.wait(_MEDIA_LOCK_POLL):
                raise Cancelled(fact("Stopped on request."))
    except OSError as exc:
        raise disk_error(exc, media_dir) from exc
    try:
        yield
    finally:
        lock.release()


def read_lock_pid(path: Path) -> int | None:
    """The process id written into the lock file by its holder, if readable."""
    try:
        text = path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None
    first = text.split()[0] if text else ""
    return int(first) if first.isdigit() else None


def _lock(fd: int) -> None:
    if sys.platform == "win32":
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _unlock(fd: int) -> None:
    if sys.platform == "win32":
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (zombies count as gone)."""
    if pid <= 0:
        return False
    if sys.platform == "win32":
        return _windows_creation_time(pid) is not None
    stat = _linux_stat(pid)
    if stat is not None:
        return stat[0] != "Z"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, it just belongs to someone else
    return True


def process_start_token(pid: int) -> str | None:
    """A string that changes when the id is reused by a new process; None where unknown."""
    if sys.platform == "win32":
        created = _windows_creation_time(pid)
        return None if created is None else f"win:{created}"
    stat = _linux_stat(pid)
    if stat is not None:
        return f"linux:{stat[1]}"
    return None


def is_same_process(pid: int, start_token: str | None) -> bool:
    """Whether `pid` still runs and (where the platform tells) is the process that wrote the token."""
    if not pid_alive(pid):
        return False
    current = process_start_token(pid)
    if current is None or start_token is None:
        return True  # the platform cannot tell reuse apart; liveness is the best we know
    return current == start_token


def _linux_stat(pid: int) -> tuple[str, str] | None:
    """(state letter, start time in clock ticks) from /proc, or None where /proc is absent."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # The command name is in parentheses and may itself contain spaces and parentheses.
    fields = raw[raw.rfind(")") + 2 :].split()
    if len(fields) < 20:
        return None
    return fields[0], fields[19]


if sys.platform == "win32":
    import ctypes
    from ctypes import wintypes

    _PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
    _STILL_ACTIVE = 259

    def _windows_creation_time(pid: int) -> int | None:
        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        handle = kernel32.OpenProcess(_PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
        if not handle:
            return None
        try:
            code = wintypes.DWORD()
            if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
                return None
            if code.value != _STILL_ACTIVE:
                return None
            created, exited, kernel, user = (wintypes.FILETIME() for _i in range(4))
            ok = kernel32.GetProcessTimes(
                handle,
                ctypes.byref(created),
                ctypes.byref(exited),
                ctypes.byref(kernel),
                ctypes.byref(user),
            )
            if not ok:
                return None
            return (created.dwHighDateTime << 32) | created.dwLowDateTime
        finally:
            kernel32.CloseHandle(handle)
else:

    def _windows_creation_time(pid: int) -> int | None:
        return None
