"""The operating system's evidence that a file is still being written, and its own structure.

- Linux: any process (of those this user may inspect) holding the file open for writing, read
  from /proc/<pid>/fd and fdinfo; and the watcher's close-after-write events (inotify), which
  also see writers of other users (a file share's server process). See `WriteLedger`.
- Windows: a file another process has open for writing cannot be opened without sharing
  write access (a sharing violation).
- macOS: `lsof` lists processes holding it open, with their access mode.

Elsewhere, or when the evidence cannot be read, there is none, and the settle time alone decides.
"""

from __future__ import annotations

import logging
import mmap
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from daemon.core.structure import truncated_format

log = logging.getLogger(__name__)

# A write event without its close event is trusted this long: a lost close event (an inotify
# queue overflow) must not keep a file from being published for ever.
UNCLOSED_TRUST_SECONDS = 600.0


def open_for_writing(paths: Iterable[Path]) -> set[Path]:
    """Those of `paths` that some process holds open for writing, as far as the OS tells."""
    wanted = list(paths)
    if not wanted:
        return set()
    platform: str = sys.platform  # a plain str: every branch is type-checked on every system
    try:
        if platform.startswith("linux"):
            return _linux_writers(wanted)
        if platform == "win32":
            return {p for p in wanted if _windows_open_for_writing(p)}
        if platform == "darwin":
            return _lsof_writers(wanted)
    except OSError as exc:  # evidence we cannot read is no evidence
        log.debug("could not tell which files are open for writing: %s", exc)
    return set()


def _linux_writers(paths: list[Path]) -> set[Path]:
    targets: dict[tuple[int, int], Path] = {}
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            continue
        targets[(st.st_dev, st.st_ino)] = path
    found: set[Path] = set()
    if not targets:
        return found
    with os.scandir("/proc") as processes:
        for process in processes:
            if not process.name.isdigit():
                continue
            fd_dir = f"/proc/{process.name}/fd"
            try:
                fds = os.listdir(fd_dir)
            except OSError:
                continue  # gone, or another user's
            for fd in fds:
                try:
                    st = os.stat(f"{fd_dir}/{fd}")
                except OSError:
                    continue
                target = targets.get((st.st_dev, st.st_ino))
                if target is not None and _linux_fd_writes(process.name, fd):
                    found.add(target)
    return found


def _linux_fd_writes(pid: str, fd: str) -> bool:
    try:
        with open(f"/proc/{pid}/fdinfo/{fd}", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags:"):
                    access = int(line.split()[1], 8) & os.O_ACCMODE
                    return access in (os.O_WRONLY, os.O_RDWR)
    except (OSError, ValueError, IndexError):
        pass
    return False


def _windows_open_for_writing(path: Path) -> bool:
    """Windows: opening without sharing write access fails while another process writes."""
    import ctypes  # only on Windows

    generic_read = 0x80000000
    share_read = 0x00000001
    open_existing = 3
    sharing_violation = 32
    invalid_handle = ctypes.c_void_p(-1).value
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]
    kernel32.CreateFileW.restype = ctypes.c_void_p
    handle = kernel32.CreateFileW(str(path), generic_read, share_read, None, open_existing, 0, None)
    if handle == invalid_handle or handle is None:
        return bool(ctypes.get_last_error() == sharing_violation)  # type: ignore[attr-defined,unused-ignore]
    kernel32.CloseHandle(ctypes.c_void_p(handle))
    return False


def _lsof_writers(paths: list[Path]) -> set[Path]:
    try:
        done = subprocess.run(
            ["lsof", "-w", "-F", "an", "--", *map(str, paths)],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return set()
    names = parse_lsof_writers(done.stdout)
    return {p for p in paths if str(p) in names}


def parse_lsof_writers(output: str) -> set[str]:
    """The file names `lsof -F an` reports as open with write access (`a` is `w` or `u`)."""
    writing: set[str] = set()
    access = ""
    for line in output.splitlines():
        if line.startswith("p"):
            access = ""
        elif line.startswith("a"):
            access = line[1:]
        elif line.startswith("n") and access in ("w", "u"):
            writing.add(line[1:])
    return writing


def truncation(path: Path) -> str | None:
    """The format whose structure says `path` is cut short (see core.structure), or None."""
    try:
        with open(path, "rb") as fh:
            if os.fstat(fh.fileno()).st_size == 0:
                return None
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
                return truncated_format(memoryview(data))
    except (OSError, ValueError):
        return None  # unreadable now: the readability check reports it


class WriteLedger:
    """Files the watcher saw written to and not yet closed (Linux close-after-write events).

    The watcher records, the organizer cycle asks; both in one process. Paths are absolute.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[Path, float] = {}  # path -> monotonic time of its last write event

    def written(self, path: Path) -> None:
        with self._lock:
            self._open[path] = time.monotonic()

    def closed(self, path: Path) -> None:
        with self._lock:
            self._open.pop(path, None)

    def unclosed(self, paths: Iterable[Path]) -> set[Path]:
        cutoff = time.monotonic() - UNCLOSED_TRUST_SECONDS
        with self._lock:
            for path in [p for p, at in self._open.items() if at < cutoff]:
                del self._open[path]
            return {p for p in paths if p in self._open}


# One per process: a daemon runs one organizer folder's watcher and cycles side by side.
LEDGER = WriteLedger()
