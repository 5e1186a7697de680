"""One organizer cycle: list the server's synced folders, scan the organizer folder, reconcile, carry it out."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from daemon.config import Config
from daemon.core.layout import HIDDEN
from daemon.core.organizer_plan import (
    Action,
    Compare,
    Conflict,
    DeleteRemote,
    Download,
    Forget,
    MoveLocal,
    MoveRemote,
    OrganizerPlan,
    TrashLocal,
    Upload,
    conflict_original,
    plan_organizer,
)
from daemon.core.records import LocalFile, OrganizerRecord, RemoteFile
from daemon.core.settings import effective
from daemon.dav import DavClient, Expect, RemoteEntry
from daemon.errors import (
    AuthError,
    Cancelled,
    CongsyncError,
    LocalChanged,
    LocalDiskError,
    NetworkError,
    PreconditionFailed,
)
from daemon.i18n import _, fact, format_day
from daemon.sync.cleanup import clean_past_folders
from daemon.sync.congregation import refresh_settings
from daemon.sync.discovery import Discovery, ServerSnapshot, to_remote_entry
from daemon.sync.export import publish_export, without_published
from daemon.sync.journal import Journal
from daemon.sync.media_folder import same_content
from daemon.sync.organizer_folder import OrganizerFolder, Stray
from daemon.sync.progress import Progress, ProgressMeter
from daemon.sync.result import SyncResult
from daemon.sync.safety import guard_deletions, media_gone
from daemon.sync.settling import settled_snapshot
from daemon.sync.uploads import Stager, clean_staging

log = logging.getLogger(__name__)

SETTLE_SECONDS = 2.0


def run_organizer_cycle(
    config: Config,
    dav: DavClient,
    journal: Journal,
    discovery: Discovery,
    *,
    cancel: threading.Event,
    on_progress: Callable[[Progress], None] | None = None,
    today: date,
    accept_deletions: bool = False,
    settle_seconds: float = SETTLE_SECONDS,
) -> SyncResult:
    """Bring the organizer folder and the server's Media/ and Hidden/ in step, both ways.

    Raises FolderMissing or UnsafeToProceed (nothing changed) when the picture is suspicious,
    NetworkError/AuthError/Cancelled for failures of the whole cycle; per-file failures are
    listed in the result. Tells `discovery` when it changed the server.
    """
    config.require_organizer()
    assert config.organizer_dir is not None  # Config guarantees it for organizers
    started = datetime.now(UTC)
    result = SyncResult(started_at=started.isoformat(timespec="seconds"))
    folder = OrganizerFolder(config.organizer_dir)
    records = journal.organizer_records()
    folder.prepare(has_history=bool(records))

    server = discovery.snapshot((today, None))
    result.warnings.extend(server.warnings)
    if not server.media_exists and any(
        not r.rel.startswith(f"{HIDDEN}/") for r in records.values()
    ):
        raise media_gone(organizer=True)
    congregation, prefs_warnings = refresh_settings(dav, journal, server.prefs, force=False)
    result.warnings.extend(prefs_warnings)
    settings = effective(config, congregation)

    # Uploads this computer left half done (a crash, a killed process) go first.
    if server.staging_exists:
        if clean_staging(dav, journal, discovery.staged_uploads()):
            discovery.server_changed()
    elif journal.staged():
        journal.forget_staged()

    scanned_at = time.monotonic()
    scanned = folder.scan(today)
    for stray in folder.strays:
        sentence = stray_warning(stray)
        log.warning("organizer: %s", sentence)
        result.warnings.append(sentence)
    local, busy, settle_warnings = settled_snapshot(
        folder,
        scanned,
        records,
        scanned_at,
        settle_seconds,
        cancel,
        (journal.organizer_seen, journal.save_organizer_seen),
    )
    result.warnings.extend(settle_warnings)

    plan = plan_organizer(
        local,
        without_published(server.organizer_state(today), journal),
        records,
        today=today,
        date_format=settings.date_format,
    )
    result.warnings.extend(plan.warnings)
    guard_deletions(plan.deletions, plan.owned_in_use, organizer=True, accepted=accept_deletions)

    executor = _Executor(dav, journal, folder, server, cancel, plan, on_progress, result)
    try:
        executor.run()
    finally:
        if executor.wrote:
            discovery.server_changed()

    publish_export(
        config,
        dav,
        journal,
        discovery,
        today=today,
        date_format=settings.date_format,
        settle_seconds=settle_seconds,
        cancel=cancel,
        result=result,
        accept_deletions=accept_deletions,
    )
    if busy:
        log.info("organizer: %d file(s) still being written, left for later", len(busy))
    if _daily_cleanup(config, dav, journal, server, today, settings.keep_days, cancel, result):
        discovery.server_changed()
    folder.purge(keep=executor.partials_in_use)
    result.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
    result.unchanged = plan.unchanged
    return result


def stray_warning(stray: Stray) -> str:
    """What the organizer is told about something in his folder that is not published."""
    if stray.kind == "conflict-copy":
        folder, _slash, name = stray.rel.rpartition("/")
        return _(
            "{rel} is a copy kept because {original} was changed both here and on the server "
            "(the server's version is in place). It is not published: compare the two, keep "
            "the one you want under the name {original} and delete the other."
        ).format(rel=stray.rel, original=f"{folder}/{conflict_original(name)}")
    if stray.kind == "loose" and stray.rel.startswith(f"{HIDDEN}/"):
        return _(
            "{rel} is not used: a hiding marker goes into a date folder inside Hidden "
            "(Hidden/YYYY-MM-DD/name)."
        ).format(rel=stray.rel)
    if stray.kind == "loose":
        return _(
            "{rel} is not published: files directly in the organizer folder belong to no "
            "meeting. Move it into a meeting's date folder (YYYY-MM-DD) or into Recurring."
        ).format(rel=stray.rel)
    if stray.kind == "sub-folder":
        return _(
            "The folder {rel} is not published: only files directly inside a date folder or "
            "Recurring are, not sub-folders. Move its files up one level."
        ).format(rel=stray.rel)
    if stray.kind == "same-date" and stray.day is not None:
        return _(
            "The folder {rel} is not published: the meeting on {day} has another folder "
            "already. Move its files into the folder named {iso}."
        ).format(rel=stray.rel, day=format_day(stray.day), iso=stray.day.isoformat())
    if stray.day is not None:
        return _(
            "The folder {rel} is not published: its name is not a meeting date. If it is "
            "meant for {day}, rename it to {iso}."
        ).format(rel=stray.rel, day=format_day(stray.day), iso=stray.day.isoformat())
    return _(
        "The folder {rel} is not published: its name is not a meeting date. Meeting folders "
        "are named YYYY-MM-DD; move its files into one, or into Recurring."
    ).format(rel=stray.rel)


def _daily_cleanup(
    config: Config,
    dav: DavClient,
    journal: Journal,
    server: ServerSnapshot,
    today: date,
    keep_days: int,
    cancel: threading.Event,
    result: SyncResult,
) -> bool:
    """Past date folders on the server go once a day (only inside Media/ and Hidden/).

    Returns whether anything was removed."""
    if journal.organizer_cleanup_day() == today.isoformat():
        return False
    try:
        removed = clean_past_folders(
            config, dav, server, today=today, keep_days=keep_days, cancel=cancel
        )
    except CongsyncError as exc:
        if isinstance(exc, AuthError | NetworkError | Cancelled):
            raise
        result.warnings.append(
            _("Old meeting folders on the server could not be cleaned up: {reason}").format(
                reason=exc.message
            )
        )
        return False
    journal.set_organizer_cleanup_day(today.isoformat())
    return bool(removed)


class _Executor:
    """Carries out one plan, action by action; a failing file never stops the others."""

    def __init__(
        self,
        dav: DavClient,
        journal: Journal,
        folder: OrganizerFolder,
        server: ServerSnapshot,
        cancel: threading.Event,
        plan: OrganizerPlan,
        on_progress: Callable[[Progress], None] | None,
        result: SyncResult,
    ) -> None:
        self.dav = dav
        self.journal = journal
        self.folder = folder
        self.collections = server.collections  # grows as folders are created
        self.cancel = cancel
        self.plan = plan
        self.result = result
        self.wrote = False  # whether anything on the server changed
        self.now = datetime.now().astimezone()  # conflict copies carry the organizer's local time
        self.partials_in_use: set[Path] = set()
        self.stager = Stager(dav, journal=journal, collections=self.collections, cancel=cancel)
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

    def run(self) -> None:
        for action in self.plan.actions:
            if self.cancel.is_set():
                raise Cancelled(fact("Stopped on request; the sync continues where it left off."))
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
                log.warning("organizer: %s failed: %s", action.rel, exc)
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
        previous = action.previous
        expect = (
            Expect(previous.version, previous.etag_raw) if previous is not None else Expect.absent()
        )
        try:
            entry = self.stager.upload_file(
                self.folder.path(action.rel),
                action.target,
                local=action.local,
                expect=expect,
                on_bytes=self.meter.add_bytes,
            )
        finally:
            self.meter.file_done()
        self.wrote = True
        self.record(action.rel, entry, action.local)
        log.info("organizer: uploaded %s (%d bytes)", action.rel, action.local.size)
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
            size = self.dav.download(
                to_remote_entry(remote), partial, cancel=self.cancel, on_bytes=self.meter.add_bytes
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
        log.warning(
            "organizer: %s was changed both here and on the server; the local version is kept "
            "as %s",
            rel,
            self.folder.on_disk(copy),
        )
        self.result.conflicts += 1
        self.result.warnings.append(
            _(
                "{rel} was changed both here and on the server. The server's version is in "
                "place; yours is kept as {copy} (it is not published)."
            ).format(rel=rel, copy=self.folder.on_disk(copy))
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

    def delete_remote(self, action: DeleteRemote) -> None:
        if self.folder.stat(action.rel) is not None:
            return  # it came back meanwhile: the next cycle looks again
        record = action.record
        self.dav.delete(
            record.remote_path, expect=Expect(record.version, record.etag_raw), cancel=self.cancel
        )
        self.wrote = True
        self.journal.forget_organizer(action.rel)
        log.info("organizer: deleted %s on the server (deleted here)", action.rel)
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
        entry = self.stager.rename(action.record, action.target)
        self.wrote = True
        with self.journal.transaction():
            self.journal.forget_organizer(action.rel)
            self.record(action.new_rel, entry, action.local)
        log.info("organizer: moved %s to %s on the server", action.rel, action.new_rel)
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
                fact("{rel} vanished right after being renamed.", rel=action.new_rel)
            )
        with self.journal.transaction():
            self.journal.forget_organizer(action.rel)
            self.record_remote(action.new_rel, action.remote, moved)
        self.result.moved += 1
