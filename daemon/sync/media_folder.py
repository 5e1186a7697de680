"""The local media folder: scanning it, and every move congsync makes in it (install, trash, hide).

Layout: `<media_dir>/YYYY-MM-DD/<file>` for presentation software, and `<media_dir>/.congsync/`
for congsync's own: `tmp/` (downloads in progress, same file system so a rename is atomic),
`hidden/<date>/` (the user's files the VO hid), `trash/<stamp>/<date>/` (kept a week), and
`manifest.json`.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from daemon.core.layout import RECURRING
from daemon.core.member_plan import LocalState
from daemon.core.records import LocalFile, OwnedFile, RemoteFile
from daemon.errors import LocalDiskError
from daemon.files import write_json_atomic
from daemon.i18n import _, fact

DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")
INTERNAL = ".congsync"
TRASH_DAYS = 7


def disk_error(exc: OSError, path: Path) -> LocalDiskError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return LocalDiskError(
            fact(
                "The disk holding {path} is full; free some space and congsync will continue.",
                path=path,
            )
        )
    return LocalDiskError(
        fact("congsync cannot use {path}: {reason}.", path=path, reason=exc.strerror or exc)
    )


def _place_digest(day: str, name: str, version: str) -> str:
    return hashlib.sha256(f"{day}/{name}\0{version}".encode()).hexdigest()[:32]


def _is_date_dir(name: str) -> bool:
    if not DATE_DIR.match(name):
        return False
    try:
        date.fromisoformat(name)
    except ValueError:
        return False
    return True


# Why an expected file is not here (status facts; the faces say them in words).
QUEUED = "queued"  # not fetched yet: comes with the running or the next sync
FAILED = "failed"  # the last try failed; the detail says why
DEFERRED = "deferred"  # another meeting's quiet time: waits until after that meeting
KEPT = "kept"  # a file of the user's of that name differs and is kept instead
NOT_CONVERTED = "not_converted"  # arrived, but could not be made showable


@dataclass(frozen=True)
class MissingFile:
    name: str
    reason: str  # one of the codes above
    detail: str = ""  # the error, for FAILED and NOT_CONVERTED


@dataclass(frozen=True)
class MeetingSummary:
    """How complete one upcoming meeting's date folder is (for status, tray and panel)."""

    date: str  # ISO date of the meeting
    files_present: int
    files_expected: int
    missing: tuple[MissingFile, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MeetingSummary:
        missing = data.get("missing") or ()
        return cls(
            date=str(data.get("date", "")),
            files_present=int(data.get("files_present", 0)),
            files_expected=int(data.get("files_expected", 0)),
            missing=tuple(MissingFile(**m) for m in missing if isinstance(m, dict)),
        )


@dataclass(frozen=True)
class MeetingFile:
    """One file an upcoming meeting expects, as the last sync left it (for the panel)."""

    name: str
    size: int | None  # the server's size, when the manifest knows it
    present: bool  # here as the server's version, unchanged since
    recurring: bool  # from the Recurring folder, placed at every meeting
    reason: str | None = None  # why it is not present (a code above); None when present
    detail: str = ""


@dataclass(frozen=True)
class MeetingFiles:
    """One upcoming meeting's date folder in detail: its files and the names the VO hid."""

    date: str
    files: tuple[MeetingFile, ...]
    hidden: tuple[str, ...]

    @property
    def summary(self) -> MeetingSummary:
        present = sum(1 for f in self.files if f.present)
        missing = tuple(
            MissingFile(f.name, f.reason or QUEUED, f.detail) for f in self.files if not f.present
        )
        return MeetingSummary(self.date, present, len(self.files), missing)


class MediaFolder:
    """All file-system effects on the media folder go through here."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.internal = root / INTERNAL
        self.tmp = self.internal / "tmp"
        self.hidden = self.internal / "hidden"
        self.trash_dir = self.internal / "trash"
        self.originals = self.internal / "originals"
        self.manifest = self.internal / "manifest.json"

    def prepare(self) -> None:
        try:
            for d in (self.root, self.tmp, self.hidden, self.trash_dir):
                d.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise disk_error(exc, self.root) from exc

    def _inside(self, *parts: str) -> Path:
        """Join names under the root, refusing anything that would step outside it."""
        for part in parts:
            if part in ("", ".", "..") or "/" in part or "\\" in part or "\x00" in part:
                raise LocalDiskError(fact("Refusing the unsafe name “{name}”.", name=part))
        return self.root.joinpath(*parts)

    def file_path(self, day: str, name: str) -> Path:
        return self._inside(day, name)

    def stat(self, day: str, name: str) -> LocalFile | None:
        """The file `name` in the date folder `day` as it is now, None if there is none."""
        try:
            st = self.file_path(day, name).stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise disk_error(exc, self.file_path(day, name)) from exc
        return LocalFile(size=st.st_size, mtime_ns=st.st_mtime_ns)

    # -- scanning ---------------------------------------------------------------------------

    def scan(self) -> LocalState:
        files: dict[str, dict[str, LocalFile]] = {}
        quarantine: dict[str, frozenset[str]] = {}
        try:
            entries = list(os.scandir(self.root)) if self.root.exists() else []
        except OSError as exc:
            raise disk_error(exc, self.root) from exc
        for entry in entries:
            if not entry.is_dir(follow_symlinks=False) or not _is_date_dir(entry.name):
                continue
            files[entry.name] = self._scan_dir(Path(entry.path))
        if self.hidden.exists():
            for entry in os.scandir(self.hidden):
                if entry.is_dir(follow_symlinks=False) and _is_date_dir(entry.name):
                    quarantine[entry.name] = frozenset(self._scan_dir(Path(entry.path)))
        return LocalState(files=files, quarantine=quarantine)

    @staticmethod
    def _scan_dir(directory: Path) -> dict[str, LocalFile]:
        found: dict[str, LocalFile] = {}
        try:
            with os.scandir(directory) as it:
                for entry in it:
                    if entry.is_dir(follow_symlinks=False):
                        continue  # presentation software reads only files directly inside
                    st = entry.stat(follow_symlinks=False)
                    found[entry.name] = LocalFile(size=st.st_size, mtime_ns=st.st_mtime_ns)
        except OSError as exc:
            raise disk_error(exc, directory) from exc
        return found

    # -- downloads --------------------------------------------------------------------------

    def partial_path(self, day: str, name: str, version: str) -> Path:
        # One temp file per (place, version): a resumed download never mixes two versions.
        return self.tmp / f"{_place_digest(day, name, version)}.part"

    def install(self, partial: Path, day: str, name: str, mtime_ns: int | None = None) -> LocalFile:
        """Rename a complete, flushed download into its date folder (atomic on one file system).

        `mtime_ns` is the server's modification time of a file installed as it was downloaded:
        with the listing's size it proves the file is the server's version, should the journal
        ever be lost (or the media folder be copied to another computer).
        """
        target = self.file_path(day, name)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if mtime_ns is not None:
                os.utime(partial, ns=(time.time_ns(), mtime_ns))
            os.replace(partial, target)
            st = target.stat()
        except OSError as exc:
            raise disk_error(exc, target) from exc
        return LocalFile(size=st.st_size, mtime_ns=st.st_mtime_ns)

    def workdir(self, day: str, name: str, version: str) -> Path:
        """A private, empty folder beside the downloads for a post-download step's outputs."""
        directory = self.tmp / f"{_place_digest(day, name, version)}.work"
        try:
            if directory.exists():
                shutil.rmtree(directory)
            directory.mkdir(parents=True)
        except OSError as exc:
            raise disk_error(exc, directory) from exc
        return directory

    def drop_workdir(self, day: str, name: str, version: str) -> None:
        """What a step left in its working folder (outputs it did not use) goes."""
        shutil.rmtree(self.tmp / f"{_place_digest(day, name, version)}.work", ignore_errors=True)

    def keep_original(self, partial: Path, day: str, name: str) -> None:
        """A download a step turned into other files stays, under `.congsync/originals/<date>/`."""
        target = self.originals / day / name
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(partial, target)
        except OSError as exc:
            raise disk_error(exc, target) from exc

    def original_path(self, day: str, name: str) -> Path:
        return self.originals.joinpath(*self._inside(day, name).relative_to(self.root).parts)

    def drop_original(self, day: str, name: str) -> None:
        """The original of a file now installed as it is goes (it would be a stale copy)."""
        with contextlib.suppress(OSError):
            self.original_path(day, name).unlink()

    @staticmethod
    def discard(partial: Path) -> None:
        """A download that is not needed after all (the place holds the user's own file)."""
        with contextlib.suppress(OSError):  # gone already, or locked: purged at a later cycle
            partial.unlink()

    def purge_partials(self, keep: set[Path], older_than: float = 86400.0) -> None:
        """Forget abandoned partial downloads (a version that no longer exists)."""
        purge_older_than(self.tmp, older_than, keep)

    def purge_originals(self, before: str) -> None:
        """Originals of meetings that are over go (their converted files went the day after)."""
        if not self.originals.is_dir():
            return
        for entry in os.scandir(self.originals):
            if entry.is_dir(follow_symlinks=False) and entry.name < before:
                shutil.rmtree(entry.path, ignore_errors=True)

    # -- removals and hiding ----------------------------------------------------------------

    def trash(self, day: str, name: str, now: datetime | None = None) -> None:
        """Move a file congsync removes into the trash, kept TRASH_DAYS days: nothing is lost."""
        source = self.file_path(day, name)
        if move_to_trash(source, self.trash_dir, (day, name), now or datetime.now(UTC)):
            self._remove_dir_if_empty(source.parent)

    def purge_trash(self, days: int = TRASH_DAYS) -> None:
        purge_older_than(self.trash_dir, days * 86400.0)

    def quarantine(self, day: str, name: str) -> None:
        target = self.hidden / day / name
        move_unless_taken(
            self.file_path(day, name),
            target,
            _("{path} already exists; the hidden file is left in place.").format(path=target),
        )

    def unquarantine(self, day: str, name: str) -> None:
        source = self.hidden / day / name
        target = self.file_path(day, name)
        move_unless_taken(
            source,
            target,
            _("{path} already exists; the hidden copy stays aside.").format(path=target),
        )
        self._remove_dir_if_empty(source.parent)

    def remove_empty_date_dirs(self, before: str) -> None:
        """Past date folders that congsync emptied go away; anything with user files stays."""
        if not self.root.exists():
            return
        for entry in os.scandir(self.root):
            if (
                entry.is_dir(follow_symlinks=False)
                and _is_date_dir(entry.name)
                and entry.name < before
            ):
                self._remove_dir_if_empty(Path(entry.path))

    @staticmethod
    def _remove_dir_if_empty(directory: Path) -> None:
        with contextlib.suppress(OSError):  # not empty, or already gone: both fine
            directory.rmdir()

    # -- manifest ---------------------------------------------------------------------------

    def write_manifest(
        self,
        expected: Mapping[str, Mapping[str, RemoteFile]],
        hidden: Mapping[str, frozenset[str]],
        present: LocalState,
        generated_at: str,
        owned: Mapping[tuple[str, str], OwnedFile],
        differing: Set[tuple[str, str]] = frozenset(),
        reasons: Mapping[tuple[str, str], tuple[str, str]] | None = None,
    ) -> None:
        """Per date: the congregation's files, the hidden names, and which files are here as the
        server's version: `verified` maps each such file to the owned files on disk that stand
        for it (name, size, mtime), so status can tell later whether they are still the same.
        A file of the user's that differs from the server's (`differing`) is never verified."""
        dates = sorted(set(expected) | {d for d, n in hidden.items() if n})
        by_place: dict[tuple[str, str], list[OwnedFile]] = {}
        for (day, _name), record in sorted(owned.items()):
            by_place.setdefault((day, record.placed_as), []).append(record)
        verified: dict[str, dict[str, list[list[Any]]]] = {}
        for day, files in expected.items():
            on_disk = present.files.get(day, {})
            verified[day] = {}
            for name, remote in files.items():
                records = by_place.get((day, name), [])
                if records and all(
                    r.version == remote.version
                    and on_disk.get(r.name) == LocalFile(r.size, r.mtime_ns)
                    for r in records
                ):
                    verified[day][name] = [[r.name, r.size, r.mtime_ns] for r in records]
        data = {
            "format": 2,
            "generated_at": generated_at,
            "dates": {
                day: {
                    "files": sorted(expected.get(day, {})),
                    "missing": sorted(
                        n for n in expected.get(day, {}) if n not in verified.get(day, {})
                    ),
                    "differing": sorted(n for d, n in differing if d == day),
                    "hidden": sorted(hidden.get(day, frozenset())),
                    "reasons": {
                        n: list(r) for (d, n), r in sorted((reasons or {}).items()) if d == day
                    },
                    "verified": verified.get(day, {}),
                    "sizes": {n: f.size for n, f in sorted(expected.get(day, {}).items())},
                    "recurring": sorted(
                        n
                        for n, f in expected.get(day, {}).items()
                        if len(f.path) >= 2 and f.path[-2].casefold() == RECURRING.casefold()
                    ),
                }
                for day in dates
            },
        }
        try:
            write_json_atomic(self.manifest, data)
        except OSError as exc:
            raise disk_error(exc, self.manifest) from exc

    def meeting_summaries(self, today: date) -> list[MeetingSummary]:
        """Per upcoming date in the manifest: files present out of expected.

        Present means here as the server's version: the owned files the last sync verified for
        it are still on disk unchanged. A file of the user's that differs from the server's, or
        an owned file edited since, is never counted."""
        return [meeting.summary for meeting in self.meeting_files(today)]

    def meeting_files(self, today: date) -> list[MeetingFiles]:
        """Per upcoming date in the manifest: each expected file, whether it is present (as in
        `meeting_summaries`), its size and whether it is recurring media; the hidden names."""
        today_key = today.isoformat()
        try:
            manifest = json.loads(self.manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        meetings = []
        for day, info in sorted(manifest.get("dates", {}).items()):
            if day < today_key:
                continue
            recurring = set(info.get("recurring", []))
            files = tuple(
                self._meeting_file(day, str(name), info, recurring)
                for name in info.get("files", [])
            )
            hidden = tuple(str(n) for n in info.get("hidden", []))
            meetings.append(MeetingFiles(day, files, hidden))
        return meetings

    def _meeting_file(
        self, day: str, name: str, info: dict[str, Any], recurring: set[str]
    ) -> MeetingFile:
        size = info.get("sizes", {}).get(name)
        present = self._unchanged(day, info.get("verified", {}).get(name))
        reason, detail = QUEUED, ""
        known = info.get("reasons", {}).get(name)
        if isinstance(known, list) and len(known) == 2:
            reason, detail = str(known[0]), str(known[1])
        elif name in info.get("differing", []):
            reason = KEPT
        return MeetingFile(
            name=name,
            size=size if isinstance(size, int) else None,
            present=present,
            recurring=name in recurring,
            reason=None if present else reason,
            detail="" if present else detail,
        )

    def _unchanged(self, day: str, files: Any) -> bool:
        """Whether every [name, size, mtime_ns] of `files` is on disk just so (manifest data)."""
        if not isinstance(files, list) or not files:
            return False
        try:
            return all(
                self.stat(day, str(name)) == LocalFile(size, mtime_ns)
                for name, size, mtime_ns in files
            )
        except (LocalDiskError, TypeError, ValueError):
            return False


def same_content(a: Path, b: Path) -> bool:
    """Byte-for-byte comparison in constant memory."""
    try:
        if a.stat().st_size != b.stat().st_size:
            return False
        with open(a, "rb") as fa, open(b, "rb") as fb:
            while True:
                chunk_a = fa.read(1024 * 1024)
                if chunk_a != fb.read(1024 * 1024):
                    return False
                if not chunk_a:
                    return True
    except OSError as exc:
        raise disk_error(exc, a) from exc


def move_unless_taken(source: Path, target: Path, taken: str) -> None:
    """Rename `source` to `target`, never over an existing file (`taken` says so if there is one)."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            raise LocalDiskError(taken)
        os.rename(source, target)
    except OSError as exc:
        raise disk_error(exc, source) from exc


def move_to_trash(source: Path, trash_dir: Path, parts: Sequence[str], when: datetime) -> bool:
    """Move `source` to `trash_dir/<stamp>/<parts…>`; False when it was already gone."""
    target = trash_dir.joinpath(when.strftime("%Y%m%dT%H%M%S"), *parts)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise disk_error(exc, source) from exc
    return True


def purge_older_than(directory: Path, max_age: float, keep: Set[Path] = frozenset()) -> None:
    """Remove the entries (files or whole trees) of `directory` not touched for `max_age` s."""
    if not directory.is_dir():
        return
    cutoff = time.time() - max_age
    for entry in os.scandir(directory):
        path = Path(entry.path)
        if path in keep:
            continue
        # Best effort: a locked entry is removed at a later cycle.
        with contextlib.suppress(OSError):
            if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(path)
                else:
                    path.unlink()
