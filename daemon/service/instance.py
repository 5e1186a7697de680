"""One daemon per configuration: an OS lock on the lock file, and telling whether a process lives.

The lock is an advisory `flock` on POSIX and a byte-range lock on Windows; either way the
operating system drops it when the process dies, so a crash never leaves a stale lock behind.
The helpers `pid_alive` and `process_start_token` let readers of the status and control files
tell a live daemon from a dead one whose process id was reused.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from daemon.errors import AlreadyRunning
from daemon.paths import Paths

if sys.platform == "win32":
    import msvcrt
else:
    import fcntl

# Windows locks are mandatory: lock one byte far past the pid so that readers can still read it.
_WINDOWS_LOCK_OFFSET = 1 << 20


class SingleInstance:
    """Holds the per-configuration daemon lock for as long as it is entered (or acquired)."""

    def __init__(self, paths: Paths) -> None:
        self._path = paths.lock_file
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock or raise `AlreadyRunning` naming the process that holds it."""
        if self._fd is not None:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _lock(fd)
        except OSError:
            os.close(fd)
            raise AlreadyRunning(read_lock_pid(self._path)) from None
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError:
            _unlock(fd)
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        """Let go of the lock; the file stays (deleting a locked file invites races)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            _unlock(fd)
        finally:
            os.close(fd)

    def __enter__(self) -> SingleInstance:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


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
