"""One organizer cycle: list the server's synced folders, scan the organizer folder, reconcile, carry it out."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

from daemon.config import Config
from daemon.core.layout import HIDDEN, MEDIA, PREFS_FILE, RECURRING, parse_date_folder
from daemon.core.organizer_plan import (
    RECURRING_SCOPE,
    Action,
    Compare,
    Conflict,
    DeleteRemote,
    Download,
    Forget,
    LocalSnapshot,
    MoveLocal,
    MoveRemote,
    OrganizerPlan,
    RemoteSnapshot,
    Scope,
    TrashLocal,
    Upload,
    date_scope,
    hidden_scope,
    plan_organizer,
)
from daemon.core.records import LocalFile, OrganizerRecord, RemoteFile
from daemon.core.settings import effective
from daemon.dav.client import DavClient, RemoteEntry, RemotePath, is_strong_etag
from daemon.errors import (
    AuthError,
    Cancelled,
    CongsyncError,
    FolderMissing,
    LocalChanged,
    LocalDiskError,
    NetworkError,
    NotFound,
    PreconditionFailed,
    ServerError,
    UnsafeToProceed,
)
from daemon.i18n import _
from daemon.sync.cleanup import clean_past_folders
from daemon.sync.discovery import list_congregation_folder, list_or_warn, to_remote_file
from daemon.sync.downloads import fetch_verified
from daemon.sync.journal import Journal
from daemon.sync.member import refresh_congregation
from daemon.sync.organizer_folder import OrganizerFolder, same_content
from daemon.sync.progress import Progress, ProgressMeter
from daemon.sync.result import SyncResult
from daemon.sync.uploads import (
    STAGED_KEY,
    STAGING_FOLDER,
    Expected,
    Stager,
    clean_staging,
)

log = logging.getLogger(__name__)

CLEANUP_KEY = "organizer_cleanup_day"
SEEN_KEY = "organizer_seen"  # new or changed files as last seen: {rel: [size, mtime_ns, since]}
RESULT_KEY = "organizer_last_result"
SETTLE_SECONDS = 2.0


@dataclass
class ServerView:
    """What one cycle learned about the server's synced folders."""

    snapshot: RemoteSnapshot
    collections: set[RemotePath]  # folders known to exist (no MKCOL needed)
    prefs: RemoteEntry | None
    media_missing: bool
    warnings: list[str] = field(default_factory=list)

    @property
    def staging_exists(self) -> bool:
        return (STAGING_FOLDER,) in self.collections


def list_server(dav: DavClient, today: date, cancel: threading.Event | None = None) -> ServerView:
    """Depth-1 listings of the root, Media/, Hidden/ and their folders for today and later."""
    root = list_congregation_folder(dav, cancel)
    warnings = list(root.warnings)
    children = {e.name: e for e in root.children}
    collections: set[RemotePath] = {()}
    files: dict[Scope, dict[RemotePath, RemoteFile]] = {}
    folders: dict[Scope, list[RemotePath]] = {}
    uncertain: set[Scope] = set()
    completeness = {MEDIA: root.complete, HIDDEN: root.complete}

    def list_scope(scope: Scope, entry: RemoteEntry) -> None:
        folders.setdefault(scope, []).append(entry.path)
        collections.add(entry.path)
        listing = list_or_warn(partial(dav.list, entry.path, cancel), entry.path, warnings)
        if listing is None or not listing.complete:
            uncertain.add(scope)
        if listing is None:
            return
        bucket = files.setdefault(scope, {})
        for child in listing.children:
            if not child.is_dir:
                bucket[child.path] = to_remote_file(child)

    for top in (MEDIA, HIDDEN):
        entry = children.get(top)
        if entry is None or not entry.is_dir:
            continue
        collections.add((top,))
        listing = dav.list((top,), cancel)
        warnings.extend(listing.warnings)
        completeness[top] = completeness[top] and listing.complete
        for child in listing.children:
            if not child.is_dir:
                continue
            if top == MEDIA and child.name == RECURRING:
                list_scope(RECURRING_SCOPE, child)
                continue
            day = parse_date_folder(child.name)
            if day is None or day < today:
                continue  # not a date (left alone), or a past meeting (no longer synced)
            list_scope(date_scope(day) if top == MEDIA else hidden_scope(day), child)

    staging = children.get(STAGING_FOLDER)
    if staging is not None and staging.is_dir:
        collections.add(staging.path)
    prefs = children.get(PREFS_FILE)
    media = children.get(MEDIA)
    snapshot = RemoteSnapshot(
        files=files,
        folders={scope: tuple(sorted(paths)) for scope, paths in folders.items()},
        uncertain=frozenset(uncertain),
        media_complete=completeness[MEDIA],
        hidden_complete=completeness[HIDDEN],
    )
    return ServerView(
        snapshot=snapshot,
        collections=collections,
        prefs=prefs if prefs is not None and not prefs.is_dir else None,
        media_missing=media is None or not media.is_dir,
        warnings=warnings,
    )


def run_organizer_cycle(
    config: Config,
    dav: DavClient,
    journal: Journal,
    *,
    cancel: threading.Event,
    on_progress: Callable[[Progress], None] | None = None,
    today: date | None = None,
    accept_deletions: bool = False,
    settle_seconds: float = SETTLE_SECONDS,
) -> SyncResult:
    """Bring the organizer folder and the server's Media/ and Hidden/ in step, both ways.

    Raises FolderMissing or UnsafeToProceed (nothing changed) when the picture is suspicious,
    NetworkError/AuthError/Cancelled for failures of the whole cycle; per-file failures are
    listed in the result.
    """
    config.require_organizer()
    assert config.organizer_dir is not None  # Config guarantees it for organizers
    today = today or date.today()
    started = datetime.now(UTC)
    result = SyncResult(started_at=started.isoformat(timespec="seconds"))
    folder = OrganizerFolder(config.organizer_dir)
    records = journal.organizer_records()
    folder.prepare(has_history=bool(records))

    server = list_server(dav, today, cancel)
    result.warnings.extend(server.warnings)
    if server.media_missing and any(not r.rel.startswith(f"{HIDDEN}/") for r in records.values()):
        raise FolderMissing(
            _(
                "The Media folder is gone from the congregation folder on the server. congsync "
                "changes nothing in the organizer folder until this is resolved."
            )
        )
    prefs = server.prefs
    congregation, prefs_warnings = refresh_congregation(
        dav,
        journal,
        prefs.version if prefs else None,
        prefs.path if prefs else None,
        force=False,
    )
    result.warnings.extend(prefs_warnings)
    settings = effective(config, congregation)

    # Uploads this computer left half done (a crash, a killed process) go first.
    if server.staging_exists:
        clean_staging(dav, journal, cancel=cancel)
    elif journal.get(STAGED_KEY):
        journal.put(STAGED_KEY, [])

    scanned_at = time.monotonic()
    scanned = folder.scan(today)
    # Only files that would be uploaded need to prove they are finished.
    candidates = {
        rel: f
        for rel, f in scanned.items()
        if (r := records.get(rel)) is None or (r.size, r.mtime_ns) != (f.size, f.mtime_ns)
    }
    stable, busy = _settle(folder, journal, candidates, scanned_at, settle_seconds, cancel)
    files = {rel: f for rel, f in scanned.items() if rel not in candidates}
    files.update(stable)
    local = LocalSnapshot(files=files, busy=frozenset(busy))

    plan = plan_organizer(
        local, server.snapshot, records, today=today, date_format=settings.date_format
    )
    result.warnings.extend(plan.warnings)
    if plan.is_mass_deletion and not accept_deletions:
        raise UnsafeToProceed(
            _(
                "This sync would delete {count} of the {owned} files synced between the organizer "
                "folder and the server. Nothing was changed. If that is intended, confirm the "
                "deletions (“congsync sync --accept-deletions”)."
            ).format(count=plan.deletions, owned=plan.owned_in_use)
        )

    executor = _Executor(config, dav, journal, folder, server, cancel, plan, on_progress, result)
    executor.run()

    if busy:
        log.info("organizer: %d file(s) still being written, left for later", len(busy))
    _daily_cleanup(config, dav, journal, today, settings.keep_days, cancel, result)
    folder.purge(keep=executor.partials_in_use)
    finished = datetime.now(UTC).isoformat(timespec="seconds")
    result.finished_at = finished
    result.unchanged = plan.unchanged
    journal.put(RESULT_KEY, result.to_json())
    return result


def _settle(
    folder: OrganizerFolder,
    journal: Journal,
    candidates: dict[str, LocalFile],
    scanned_at: float,
    settle_seconds: float,
    cancel: threading.Event,
) -> tuple[dict[str, LocalFile], set[str]]:
    """Which new or changed files are finished: unchanged since an earlier cycle saw them, or
    across a `settle_seconds` wait now (so a file that stays unpublishable, e.g. a name clash,
    does not make every cycle wait)."""
    earlier: dict[str, list[Any]] = journal.get(SEEN_KEY) or {}
    wall = time.time()
    proven: dict[str, LocalFile] = {}
    for rel, f in candidates.items():
        seen = earlier.get(rel)
        if seen and seen[:2] == [f.size, f.mtime_ns] and wall - seen[2] >= settle_seconds:
            proven[rel] = f
    stable, busy = folder.settle(
        {rel: f for rel, f in candidates.items() if rel not in proven},
        scanned_at,
        settle_seconds,
        cancel,
    )
    for rel, f in proven.items():
        if folder.readable(rel):
            stable[rel] = f
        else:
            busy.add(rel)
    memory: dict[str, list[Any]] = {}
    for rel, f in candidates.items():
        seen = earlier.get(rel)
        unchanged = seen is not None and seen[:2] == [f.size, f.mtime_ns]
        memory[rel] = [f.size, f.mtime_ns, seen[2] if unchanged and seen else wall]
    journal.put(SEEN_KEY, memory)
    return stable, busy


def _daily_cleanup(
    config: Config,
    dav: DavClient,
    journal: Journal,
    today: date,
    keep_days: int,
    cancel: threading.Event,
    result: SyncResult,
) -> None:
    """Past date folders on the server go once a day (only inside Media/ and Hidden/)."""
    if journal.get(CLEANUP_KEY) == today.isoformat():
        return
    try:
        removed = clean_past_folders(config, dav, today=today, keep_days=keep_days, cancel=cancel)
    except CongsyncError as exc:
        if isinstance(exc, AuthError | NetworkError | Cancelled):
            raise
        result.warnings.append(
            _("Old meeting folders on the server could not be cleaned up: {reason}").format(
                reason=exc.message
            )
        )
        return
    for path in removed:
        log.info("removed the past meeting folder %s from the server", "/".join(path))
    journal.put(CLEANUP_KEY, today.isoformat())


class _Executor:
    """Carries out one plan, action by action; a failing file never stops the others."""

    def __init__(
        self,
        config: Config,
        dav: DavClient,
        journal: Journal,
        folder: OrganizerFolder,
        server: ServerView,
        cancel: threading.Event,
        plan: OrganizerPlan,
        on_progress: Callable[[Progress], None] | None,
        result: SyncResult,
    ) -> None:
        self.config = config
        self.dav = dav
        self.journal = journal
        self.folder = folder
        self.collections = set(server.collections)
        self.cancel = cancel
        self.plan = plan
        self.result = result
        self.now = datetime.now().astimezone()  # conflict copies carry the organizer's local time
        self.partials_in_use: set[Path] = set()
        self.stager = Stager(
            dav, journal=journal, ensure_collection=self.ensure_collection, cancel=cancel
        )
        total = 0
        count = 0
        for action in plan.actions:
            if isinstance(action, Upload):
                total += action.local.size
                count += 1
            elif isinstance(action, Download | Conflict | Compare):
                total += action.remote.size or 0
                count += 1
        self.meter = ProgressMeter(count, total, on_progress)

    def ensure_collection(self, path: RemotePath) -> None:
        for depth in range(1, len(path) + 1):
            prefix = path[:depth]
            if prefix not in self.collections:
                self.dav.mkcol(prefix)
                self.collections.add(prefix)

    def run(self) -> None:
        for action in self.plan.actions:
            if self.cancel.is_set():
                raise Cancelled(_("Stopped on request; the sync continues where it left off."))
            try:
                self.apply(action)
            except PreconditionFailed as exc:
                # The next cycle sees the change on the server and decides (server wins).
                self.result.warnings.append(
                    _("{rel}: {reason} It is reconciled at the next sync.").format(
                        rel=action.rel, reason=exc.message
                    )
                )
            except LocalChanged:
                log.info("organizer: %s changed while uploading; later", action.rel)
            except CongsyncError as exc:
                if isinstance(exc, AuthError | NetworkError | Cancelled):
                    raise
                log.warning("organizer: %s failed: %s", action.rel, exc.message)
                self.result.errors.append(
                    _("{rel}: {reason}").format(rel=action.rel, reason=exc.message)
                )

    def apply(self, action: Action) -> None:
        if isinstance(action, Upload):
            self.upload(action)
        elif isinstance(action, Download):
            self.download(action.rel, action.remote, action.expect)
            if action.kind == "new":
                self.result.downloaded += 1
            else:
                self.result.updated += 1
        elif isinstance(action, Conflict):
            self.conflict(action)
        elif isinstance(action, Compare):
            self.compare(action)
        elif isinstance(action, DeleteRemote):
            self.delete_remote(action)
        elif isinstance(action, TrashLocal):
            self.trash_local(action)
        elif isinstance(action, MoveRemote):
            self.move_remote(action)
        elif isinstance(action, MoveLocal):
            self.move_local(action)
        elif isinstance(action, Forget):
            self.journal.forget_organizer(action.rel)

    # -- uploads --------------------------------------------------------------------------

    def upload(self, action: Upload) -> None:
        self.meter.file_started(action.rel)
        replace = (
            Expected(action.previous.version, action.previous.etag_raw)
            if action.previous is not None
            else None
        )
        try:
            entry = self.stager.upload_file(
                self.folder.path(action.rel),
                action.target,
                local=action.local,
                replace=replace,
                on_bytes=self.meter.add_bytes,
            )
        finally:
            self.meter.file_done()
        self.record(action.rel, entry, action.local)
        self.result.uploaded += 1
        self.result.bytes_uploaded += action.local.size

    def record(self, rel: str, entry: RemoteEntry, local: LocalFile) -> None:
        version = entry.version
        if entry.size is not None and entry.size != local.size:
            # Someone replaced it right after our MOVE: make the next cycle see a change.
            version = "replaced-meanwhile"
        self.journal.record_organizer(
            OrganizerRecord(rel, entry.path, version, entry.etag_raw, local.size, local.mtime_ns)
        )

    def record_remote(self, rel: str, remote: RemoteFile, local: LocalFile) -> None:
        self.journal.record_organizer(
            OrganizerRecord(
                rel, remote.path, remote.version, remote.etag_raw, local.size, local.mtime_ns
            )
        )

    # -- downloads ------------------------------------------------------------------------

    def fetch(self, rel: str, remote: RemoteFile) -> Path:
        """Download the server's file into a temp file beside the organizer folder's files."""
        partial = self.folder.partial_path(rel, remote.version)
        self.partials_in_use.add(partial)
        self.meter.file_started(rel)
        try:
            size = fetch_verified(
                self.dav, remote, partial, rel, cancel=self.cancel, on_bytes=self.meter.add_bytes
            )
        finally:
            self.meter.file_done()
        self.result.bytes_downloaded += size
        return partial

    def download(self, rel: str, remote: RemoteFile, expect: LocalFile | None) -> None:
        partial = self.fetch(rel, remote)
        current = self.folder.stat(rel)
        if current is not None and current != expect:
            # Changed here while the server's version came down: the server's wins, this is kept.
            self.set_aside(rel)
        local = self.folder.install(partial, rel)
        self.record_remote(rel, remote, local)

    def set_aside(self, rel: str) -> None:
        copy = self.folder.set_aside(rel, self.now)
        self.result.conflicts += 1
        self.result.warnings.append(
            _(
                "{rel} was changed both here and on the server. The server's version is in "
                "place; yours is kept as {copy} (it is not published)."
            ).format(rel=rel, copy=copy)
        )

    def conflict(self, action: Conflict) -> None:
        if self.folder.stat(action.rel) is not None:
            self.set_aside(action.rel)
        self.download(action.rel, action.remote, None)
        self.result.updated += 1

    def compare(self, action: Compare) -> None:
        partial = self.fetch(action.rel, action.remote)
        current = self.folder.stat(action.rel)
        if current == action.local and same_content(partial, self.folder.path(action.rel)):
            partial.unlink(missing_ok=True)
            assert current is not None
            self.record_remote(action.rel, action.remote, current)
            return
        if current is not None:
            self.set_aside(action.rel)
        local = self.folder.install(partial, action.rel)
        self.record_remote(action.rel, action.remote, local)
        self.result.downloaded += 1

    # -- deletions and moves --------------------------------------------------------------

    def check_unchanged(self, record: OrganizerRecord) -> str | None:
        """The condition for a request on the record's server file; raises if it changed.

        With a strong ETag the server checks (If-Match / If); otherwise the journal decides,
        from a fresh Depth-0 look at the file.
        """
        if is_strong_etag(record.etag_raw):
            return record.etag_raw
        try:
            current = self.dav.stat(record.remote_path, self.cancel)
        except NotFound:
            current = None
        if current is None or current.version != record.version:
            raise PreconditionFailed(
                _("{what} was changed on the server by someone else meanwhile.").format(
                    what="/".join(record.remote_path)
                )
            )
        return None

    def delete_remote(self, action: DeleteRemote) -> None:
        if self.folder.stat(action.rel) is not None:
            return  # it came back meanwhile: the next cycle looks again
        condition = self.check_unchanged(action.record)
        try:
            self.dav.delete(action.record.remote_path, if_match=condition)
        except ServerError as exc:
            if exc.status == 412:
                raise PreconditionFailed(
                    _("{what} was changed on the server by someone else meanwhile.").format(
                        what="/".join(action.record.remote_path)
                    )
                ) from None
            raise
        self.journal.forget_organizer(action.rel)
        self.result.deleted_remote += 1

    def trash_local(self, action: TrashLocal) -> None:
        if self.folder.stat(action.rel) != action.local:
            return  # edited meanwhile: the next cycle publishes it again
        self.folder.trash(action.rel, self.now)
        self.journal.forget_organizer(action.rel)
        self.result.removed += 1

    def move_remote(self, action: MoveRemote) -> None:
        if self.folder.stat(action.new_rel) != action.local:
            return  # changed meanwhile: decided again next cycle
        condition = self.check_unchanged(action.record)
        if condition is not None:
            # The tagged If below guards the target; make sure the source is still ours too.
            try:
                current = self.dav.stat(action.record.remote_path, self.cancel)
            except NotFound:
                current = None
            if current is None or current.version != action.record.version:
                raise PreconditionFailed(
                    _("{what} was changed on the server by someone else meanwhile.").format(
                        what="/".join(action.record.remote_path)
                    )
                )
        self.ensure_collection(action.target[:-1])
        try:
            self.dav.move(action.record.remote_path, action.target, overwrite=False)
        except ServerError as exc:
            if exc.status == 412:
                raise PreconditionFailed(
                    _("{what} was published on the server by someone else meanwhile.").format(
                        what="/".join(action.target)
                    )
                ) from None
            raise
        entry = self.dav.stat(action.target, self.cancel)
        with self.journal.transaction():
            self.journal.forget_organizer(action.rel)
            self.record(action.new_rel, entry, action.local)
        self.result.moved += 1

    def move_local(self, action: MoveLocal) -> None:
        current = self.folder.stat(action.rel)
        record = action.record
        if current is None or (current.size, current.mtime_ns) != (record.size, record.mtime_ns):
            return  # edited meanwhile: decided again next cycle
        if self.folder.stat(action.new_rel) is not None:
            return
        self.folder.move(action.rel, action.new_rel)
        moved = self.folder.stat(action.new_rel)
        if moved is None:
            raise LocalDiskError(
                _("{rel} vanished right after being renamed.").format(rel=action.new_rel)
            )
        with self.journal.transaction():
            self.journal.forget_organizer(action.rel)
            self.record_remote(action.new_rel, action.remote, moved)
        self.result.moved += 1
