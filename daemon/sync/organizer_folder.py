"""The organizer folder on disk: scanning it, telling finished files from busy ones, and every change congsync makes in it.

congsync's own corner is `.congsync-tmp/` (downloads in progress, on the same file system so a
rename into place is atomic) and `.congsync-trash/<stamp>/<rel>` (files congsync removed
because a co-organizer deleted them on the server, kept TRASH_DAYS days). Both start with a
dot, so scans and the watcher ignore them.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from daemon.core.layout import HIDDEN, RECURRING
from daemon.core.organizer_plan import (
    CONFLICT_MARK,
    conflict_name,
    folder_day,
    guess_day,
    is_ignored,
    split_rel,
)
from daemon.core.records import LocalFile
from daemon.errors import Cancelled, FolderMissing, LocalDiskError
from daemon.i18n import _, fact
from daemon.sync.media_folder import (
    disk_error,
    move_to_trash,
    move_unless_taken,
    purge_older_than,
)
from daemon.sync.writers import LEDGER, WriteLedger, open_for_writing, truncation

TMP = ".congsync-tmp"
TRASH = ".congsync-trash"
TRASH_DAYS = 7
PARTIAL_MAX_AGE = 7 * 86400.0


@dataclass(frozen=True)
class Stray:
    """Something in the organizer folder that is not published, and why (for the organizer).

    kinds: "loose" (a file in the root, or directly in Hidden/), "sub-folder" (inside a date
    folder or Recurring), "not-a-date" (a folder whose name is not a date; `day` is what it
    probably means), "same-date" (a second folder for a date), "conflict-copy" (a kept copy).
    """

    rel: str  # as on disk, relative to the organizer folder
    kind: str
    day: date | None = None


def _file_state(st: os.stat_result) -> LocalFile:
    return LocalFile(size=st.st_size, mtime_ns=st.st_mtime_ns)


def is_readable(path: Path) -> bool:
    """Whether the file can be opened for reading: Windows refuses while a copy is writing it."""
    try:
        with open(path, "rb"):
            return True
    except OSError:
        return False


class OrganizerFolder:
    """All file-system effects on the organizer folder go through here."""

    def __init__(self, root: Path, ledger: WriteLedger = LEDGER) -> None:
        self.root = root
        self.ledger = ledger
        self.strays: list[Stray] = []  # what the last scan found unsynced (see scan)
        self._aliases: dict[str, str] = {}  # rel of a date folder -> its spelling on disk
        self.tmp = root / TMP
        self.trash_dir = root / TRASH

    def prepare(self, *, has_history: bool) -> None:
        """Create the folder's skeleton; refuse if a folder that held synced files vanished.

        A missing organizer folder after files were synced is an unplugged drive or an
        unmounted share, not a wish to delete everything on the server.
        """
        if not self.root.is_dir() and has_history:
            raise FolderMissing(
                fact(
                    "The organizer folder {path} is missing (an unplugged drive or a "
                    "disconnected network share?). congsync changes nothing on the server "
                    "until it is back.",
                    path=self.root,
                )
            )
        try:
            for d in (self.root, self.root / RECURRING, self.root / HIDDEN, self.tmp):
                d.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise disk_error(exc, self.root) from exc

    def path(self, rel: str) -> Path:
        """The local path of a rel, refusing anything that would step outside the folder."""
        parts = rel.split("/")
        for part in parts:
            if part in ("", ".", "..") or "\\" in part or "\x00" in part:
                raise LocalDiskError(fact("Refusing the unsafe name “{name}”.", name=part))
        # A date folder spelled another way on disk (learnt by the last scan).
        if (alias := self._aliases.get(parts[0])) is not None:
            parts[0] = alias
        elif len(parts) > 1 and (alias := self._aliases.get(f"{parts[0]}/{parts[1]}")):
            parts[1] = alias
        return self.root.joinpath(*parts)

    def stat(self, rel: str) -> LocalFile | None:
        try:
            st = os.stat(self.path(rel), follow_symlinks=False)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise disk_error(exc, self.path(rel)) from exc
        return _file_state(st) if stat.S_ISREG(st.st_mode) else None

    def readable(self, rel: str) -> bool:
        return is_readable(self.path(rel))

    # -- scanning ---------------------------------------------------------------------------

    def scan(self, today: date) -> dict[str, LocalFile]:
        """Every file in the synced folders (meeting dates from today on, Recurring, Hidden).

        Date folders spelled another way the server format reads (`03-12-2026`,
        `2026-12-03 - Thursday`) count as that date, unless the date has a folder already.
        What is not synced and looks meant to be (a file in the root, a sub-folder, a folder
        that is not quite a date, a kept conflict copy) is listed in `self.strays`.
        """
        self.strays = []
        self._aliases = {}
        found: dict[str, LocalFile] = {}
        self._root_files()
        for name in self._date_folders(self.root, "", today):
            self._scan_files(name, found)
        self._scan_files(RECURRING, found)
        for name in self._date_folders(self.root / HIDDEN, f"{HIDDEN}/", today):
            self._scan_files(f"{HIDDEN}/{name}", found)
        return found

    def _date_folders(self, directory: Path, prefix: str, today: date) -> list[str]:
        """The rels (ISO dates) of the upcoming date folders in `directory`, learning aliases."""
        names = self._subdirs(directory)
        by_day: dict[date, list[str]] = {}
        for name in names:
            if is_ignored(name) or (not prefix and name in (RECURRING, HIDDEN)):
                continue
            day = folder_day(name)
            if day is None:
                if self._has_files(directory / name):
                    self.strays.append(Stray(prefix + name, "not-a-date", guess_day(name)))
                continue
            if day >= today:
                by_day.setdefault(day, []).append(name)
        rels: list[str] = []
        for day, spellings in sorted(by_day.items()):
            iso = day.isoformat()
            if iso in spellings:
                chosen = iso
            elif len(spellings) == 1:
                chosen = spellings[0]
                self._aliases[prefix + iso] = chosen
            else:
                chosen = ""
            for other in spellings:
                if other != chosen and self._has_files(directory / other):
                    self.strays.append(Stray(prefix + other, "same-date", day))
            if chosen:
                rels.append(iso)
        return rels

    def _root_files(self) -> None:
        for directory, prefix in ((self.root, ""), (self.root / HIDDEN, f"{HIDDEN}/")):
            try:
                with os.scandir(directory) as it:
                    for entry in it:
                        if not is_ignored(entry.name) and entry.is_file(follow_symlinks=False):
                            self.strays.append(Stray(prefix + entry.name, "loose"))
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise disk_error(exc, directory) from exc

    def _has_files(self, directory: Path) -> bool:
        """Whether anything worth publishing lies anywhere below `directory`."""
        try:
            for _dirpath, dirnames, filenames in os.walk(directory):
                dirnames[:] = [d for d in dirnames if not is_ignored(d)]
                if any(not is_ignored(f) for f in filenames):
                    return True
        except OSError:
            return False
        return False

    def _subdirs(self, directory: Path) -> list[str]:
        try:
            with os.scandir(directory) as it:
                return sorted(e.name for e in it if e.is_dir(follow_symlinks=False))
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise disk_error(exc, directory) from exc

    def _scan_files(self, rel_dir: str, found: dict[str, LocalFile]) -> None:
        directory = self.path(rel_dir)
        try:
            with os.scandir(directory) as it:
                for entry in it:
                    if CONFLICT_MARK in entry.name and entry.is_file(follow_symlinks=False):
                        self.strays.append(Stray(f"{rel_dir}/{entry.name}", "conflict-copy"))
                        continue
                    if is_ignored(entry.name):
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        # Only files directly inside: presentation software reads no deeper.
                        if self._has_files(Path(entry.path)):
                            self.strays.append(Stray(f"{rel_dir}/{entry.name}", "sub-folder"))
                        continue
                    if not entry.is_file(follow_symlinks=False):
                        continue  # a symlink could point anywhere
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        continue  # removed between listing and stat
                    found[f"{rel_dir}/{entry.name}"] = _file_state(st)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise disk_error(exc, directory) from exc

    def on_disk(self, rel: str) -> str:
        """`rel` as it is spelled on disk (a date folder may be spelled another way)."""
        return self.path(rel).relative_to(self.root).as_posix()

    def settle(
        self,
        seen: Mapping[str, LocalFile],
        seen_at: float,
        settle_seconds: float,
        cancel: threading.Event,
    ) -> tuple[dict[str, LocalFile], set[str]]:
        """Split files into finished and busy: size and mtime unchanged `settle_seconds` apart.

        A copy from a USB stick or a download keeps writing (size or mtime move); on Windows
        it also keeps the file locked, which the open test catches. `seen_at` is the monotonic
        time of the scan that produced `seen`.
        """
        wait = seen_at + settle_seconds - time.monotonic()
        if seen and wait > 0 and cancel.wait(wait):
            raise Cancelled(fact("Stopped on request."))
        stable: dict[str, LocalFile] = {}
        busy: set[str] = set()
        for rel, before in seen.items():
            now = self.stat(rel)
            if now is None:
                continue  # gone meanwhile: the next scan sees that
            if now == before and is_readable(self.path(rel)):
                stable[rel] = now
            else:
                busy.add(rel)
        return stable, busy

    def being_written(self, rels: Iterable[str]) -> set[str]:
        """Those of `rels` the OS says a process still holds open for writing (or the watcher
        saw written and not yet closed)."""
        by_path = {self.path(rel): rel for rel in rels}
        paths = set(by_path)
        writing = open_for_writing(paths) | self.ledger.unclosed(paths)
        return {by_path[p] for p in writing}

    def truncation(self, rel: str) -> str | None:
        """The format whose structure says the file is cut short, or None (see core.structure)."""
        return truncation(self.path(rel))

    # -- changes ----------------------------------------------------------------------------

    def partial_path(self, rel: str, version: str) -> Path:
        # One temp file per (place, version): a resumed download never mixes two versions.
        digest = hashlib.sha256(f"{rel}\0{version}".encode()).hexdigest()[:32]
        return self.tmp / f"{digest}.part"

    def install(self, partial: Path, rel: str) -> LocalFile:
        """Rename a complete, flushed download into place (atomic on one file system)."""
        target = self.path(rel)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(partial, target)
            return _file_state(target.stat())
        except OSError as exc:
            raise disk_error(exc, target) from exc

    def set_aside(self, rel: str, when: datetime) -> str:
        """Rename a local file to its conflict-copy name beside it; returns the new rel."""
        where = split_rel(rel)
        assert where is not None
        source = self.path(rel)
        for attempt in range(1, 100):
            candidate = source.with_name(conflict_name(where[1], when, attempt))
            if candidate.exists():
                continue
            try:
                os.rename(source, candidate)
            except OSError as exc:
                raise disk_error(exc, source) from exc
            return f"{rel.rsplit('/', 1)[0]}/{candidate.name}"
        raise LocalDiskError(
            fact("No free name for a conflict copy of {path}.", path=source)
        )  # pragma: no cover - a hundred conflict copies in one second

    def move(self, rel: str, new_rel: str) -> None:
        target = self.path(new_rel)
        move_unless_taken(
            self.path(rel),
            target,
            _("{path} already exists; the file stays where it is.").format(path=target),
        )

    def trash(self, rel: str, when: datetime) -> None:
        """Move a file into the trash (kept TRASH_DAYS days) instead of deleting it."""
        move_to_trash(self.path(rel), self.trash_dir, rel.split("/"), when)

    def purge(self, keep: Iterable[Path] = ()) -> None:
        """Empty the trash of entries older than a week and drop abandoned partial downloads."""
        purge_older_than(self.trash_dir, TRASH_DAYS * 86400.0)
        purge_older_than(self.tmp, PARTIAL_MAX_AGE, set(keep))
