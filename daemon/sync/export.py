"""One-way publishing from Meeting Media Manager's media auto-export folder.

M³'s auto-export writes each meeting's complete selection (JW.org and additional media, visible
items only, in presentation order) into `<export>/YYYY-MM-DD/NN <section> - NN <title>.<ext>`.
The publisher carries those date folders to `Media/<date folder>/` with the organizer folder's
staged, conditional uploads and its complete-only checks, and removes from the server only what
it published from the export and the export stopped containing (the journal remembers which).

It never writes into the export folder: M³ deletes every file there it did not put there
itself, so the folder is only scanned, stat'ed and read (no temp files, no conflict copies, no
state). The server's version never comes back down; a published file someone changed or
deleted on the server is published again from the export.

For every date it publishes, it writes a selection marker next to the media,
`Media/<date folder>/.congsync-export.json` ({"format": 1, "files": [names]}): for that date the
export is the complete selection, so members take only the listed files (no organizer-folder
copy under another name, no recurring copy), see `discovery` and `core.member_plan`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import date

from daemon.config import Config
from daemon.core.organizer_plan import (
    Conflict,
    DeleteRemote,
    Download,
    Forget,
    MoveRemote,
    RemoteSnapshot,
    TrashLocal,
    Upload,
    plan_organizer,
    split_rel,
)
from daemon.core.records import LocalFile, OrganizerRecord, RemoteFile
from daemon.dav import DavClient, Expect, RemotePath
from daemon.errors import (
    AuthError,
    Cancelled,
    CongsyncError,
    LocalChanged,
    NetworkError,
    PreconditionFailed,
)
from daemon.i18n import _, fact
from daemon.sync.discovery import SELECTION_MARKER, Discovery, ServerSnapshot
from daemon.sync.journal import Journal
from daemon.sync.organizer_folder import OrganizerFolder
from daemon.sync.result import SyncResult
from daemon.sync.safety import guard_deletions
from daemon.sync.settling import settled_snapshot
from daemon.sync.uploads import Stager

log = logging.getLogger(__name__)

MARKER_FORMAT = 1


def selection_marker(names: list[str]) -> bytes:
    """The marker's content: the file names the export holds for that date."""
    return json.dumps({"format": MARKER_FORMAT, "files": sorted(names)}, indent=1).encode()


def without_published(remote: RemoteSnapshot, journal: Journal) -> RemoteSnapshot:
    """The organizer folder's view of the server without what the export published.

    The organizer folder syncs two ways; the export's files must never come down into it
    (the marker keeps them out too, this covers a cycle cut short before the marker was written).
    """
    published = {r.remote_path for r in journal.export_records().values()}
    if not published:
        return remote
    return _restricted(remote, lambda path: path not in published)


def _restricted(remote: RemoteSnapshot, keep: Callable[[RemotePath], bool]) -> RemoteSnapshot:
    return RemoteSnapshot(
        files={
            scope: {p: f for p, f in files.items() if keep(p)}
            for scope, files in remote.files.items()
        },
        folders=remote.folders,
        uncertain=remote.uncertain,
        media_complete=remote.media_complete,
        hidden_complete=remote.hidden_complete,
    )


def publish_export(
    config: Config,
    dav: DavClient,
    journal: Journal,
    discovery: Discovery,
    *,
    today: date,
    date_format: str | None,
    settle_seconds: float,
    cancel: threading.Event,
    result: SyncResult,
    accept_deletions: bool = False,
) -> None:
    """Bring `Media/` in step with the export folder's date folders (today and later), one way.

    Per-file failures go into `result`; AuthError, NetworkError and Cancelled propagate, and
    UnsafeToProceed before anything is done when more than half of what the export published
    would be deleted (unless `accept_deletions`). Tells `discovery` when it changed the server.
    """
    config.require_organizer()
    if config.export_dir is None:
        return
    records = journal.export_records()
    if not config.export_dir.is_dir():
        if records:
            sentence = _(
                "The export folder {path} is missing (an unplugged drive, or Meeting Media "
                "Manager's auto-export was switched off?). Nothing published from it is removed "
                "from the server until it is back."
            ).format(path=config.export_dir)
            log.warning("export: %s", sentence)
            result.warnings.append(sentence)
        return
    folder = OrganizerFolder(config.export_dir)  # used for reading only
    scanned_at = time.monotonic()
    scanned = {
        rel: f
        for rel, f in folder.scan(today).items()
        if (where := split_rel(rel)) is not None and where[0].kind == "date"
    }
    local, _busy, warnings = settled_snapshot(
        folder,
        scanned,
        records,
        scanned_at,
        settle_seconds,
        cancel,
        (journal.export_seen, journal.save_export_seen),
    )
    result.warnings.extend(warnings)
    server = discovery.snapshot((today, None))
    ours = {r.remote_path for r in records.values()}
    # Only what the export published counts: anything else on the server is none of its business.
    remote = _restricted(server.organizer_state(today, exported=True), lambda path: path in ours)
    plan = plan_organizer(local, remote, records, today=today, date_format=date_format)
    # Only DeleteRemote deletes here: a TrashLocal (gone from the server) is published again.
    deletions = len(plan.of(DeleteRemote))
    guard_deletions(
        deletions, plan.owned_in_use, organizer=True, accepted=accept_deletions, export=True
    )
    publisher = _Publisher(dav, journal, folder, server, cancel, result)
    try:
        for action in plan.actions:
            if cancel.is_set():
                raise Cancelled(fact("Stopped on request; the sync continues where it left off."))
            publisher.attempt(action)
        publisher.write_markers(today, date_format)
    finally:
        if publisher.wrote:
            discovery.server_changed()


class _Publisher:
    """Carries out the plan one way: the export folder is the truth, the server follows."""

    def __init__(
        self,
        dav: DavClient,
        journal: Journal,
        folder: OrganizerFolder,
        server: ServerSnapshot,
        cancel: threading.Event,
        result: SyncResult,
    ) -> None:
        self.dav = dav
        self.journal = journal
        self.folder = folder
        self.server = server
        self.cancel = cancel
        self.result = result
        self.collections = server.collections
        self.stager = Stager(dav, journal=journal, collections=self.collections, cancel=cancel)
        self.wrote = False

    def attempt(self, action: object) -> None:
        rel = getattr(action, "rel", "")
        try:
            self.apply(action)
        except PreconditionFailed as exc:
            self.result.warnings.append(
                _("{rel}: {reason} It is reconciled at the next sync.").format(
                    rel=rel, reason=exc.message
                )
            )
        except LocalChanged:
            log.info("export: %s changed while uploading; later", rel)
        except CongsyncError as exc:
            if isinstance(exc, AuthError | NetworkError | Cancelled):
                raise
            log.warning("export: %s failed: %s", rel, exc)
            self.result.errors.append(_("{rel}: {reason}").format(rel=rel, reason=exc.message))

    def apply(self, action: object) -> None:
        if isinstance(action, Upload):
            self.upload(action.rel, action.target, action.local, action.previous)
        elif isinstance(action, TrashLocal):
            # Deleted on the server, still in the export: the export wins, publish it again.
            self.upload(action.rel, action.record.remote_path, action.local, None)
        elif isinstance(action, Download | Conflict) and (local := self.folder.stat(action.rel)):
            # Changed on the server: replace it with the export's version (never downloaded).
            replaced = OrganizerRecord(
                action.rel,
                action.remote.path,
                action.remote.version,
                action.remote.etag_raw,
                local.size,
                local.mtime_ns,
            )
            self.upload(action.rel, action.remote.path, local, replaced)
        elif isinstance(action, DeleteRemote):
            self.delete(action.rel, action.record)
        elif isinstance(action, MoveRemote):
            self.move(action)
        elif isinstance(action, Download | Conflict | Forget):
            self.journal.forget_export(action.rel)

    def upload(
        self,
        rel: str,
        target: RemotePath,
        local: LocalFile,
        previous: OrganizerRecord | None,
    ) -> None:
        expect = (
            Expect(previous.version, previous.etag_raw) if previous is not None else Expect.absent()
        )
        entry = self.stager.upload_file(self.folder.path(rel), target, local=local, expect=expect)
        self.wrote = True
        self.journal.record_export(
            OrganizerRecord(
                rel, entry.path, entry.version, entry.etag_raw, local.size, local.mtime_ns
            )
        )
        log.info("export: uploaded %s (%d bytes)", rel, local.size)
        self.result.uploaded += 1
        self.result.bytes_uploaded += local.size

    def delete(self, rel: str, record: OrganizerRecord) -> None:
        if self.folder.stat(rel) is not None:
            return  # back in the export meanwhile: the next cycle looks again
        self.dav.delete(
            record.remote_path, expect=Expect(record.version, record.etag_raw), cancel=self.cancel
        )
        self.wrote = True
        self.journal.forget_export(rel)
        log.info("export: deleted %s on the server (gone from the export)", rel)
        self.result.deleted_remote += 1

    def move(self, action: MoveRemote) -> None:
        """A file M³ renamed (another NN prefix after a reorder): MOVE, no new upload."""
        if self.folder.stat(action.new_rel) != action.local:
            return  # changed meanwhile: decided again next cycle
        entry = self.stager.rename(action.record, action.target)
        self.wrote = True
        self.journal.forget_export(action.rel)
        self.journal.record_export(
            OrganizerRecord(
                action.new_rel,
                entry.path,
                entry.version,
                entry.etag_raw,
                action.local.size,
                action.local.mtime_ns,
            )
        )
        log.info("export: moved %s to %s on the server", action.rel, action.new_rel)
        self.result.moved += 1

    # -- the selection markers ---------------------------------------------------------------

    def write_markers(self, today: date, date_format: str | None) -> None:
        """One marker per date folder the export published into, listing exactly its files;
        a date the export no longer holds anything for loses its marker."""
        wanted: dict[RemotePath, list[str]] = {}
        for record in self.journal.export_records().values():
            wanted.setdefault(record.remote_path[:-1], []).append(record.remote_path[-1])
        written = self.journal.export_markers()
        listed = self._listed_markers(today)
        for folder in sorted(set(wanted) | {tuple(json.loads(k)) for k in written}):
            key = json.dumps(list(folder))
            path = (*folder, SELECTION_MARKER)
            names = sorted(wanted.get(folder, []))
            current = listed.get(path)
            before = written.get(key)
            try:
                if names and (
                    current is None or before is None or before != [current.version, names]
                ):
                    expect = (
                        Expect(current.version, current.etag_raw)
                        if current is not None
                        else Expect.absent()
                    )
                    entry = self.stager.upload_bytes(selection_marker(names), path, expect=expect)
                    written[key] = [entry.version, names]
                    self.wrote = True
                elif not names:
                    if current is not None:
                        self.dav.delete(
                            path,
                            expect=Expect(current.version, current.etag_raw),
                            cancel=self.cancel,
                        )
                        self.wrote = True
                    written.pop(key, None)
            except PreconditionFailed as exc:
                self.result.warnings.append(
                    _("{rel}: {reason} It is reconciled at the next sync.").format(
                        rel="/".join(path), reason=exc.message
                    )
                )
                written.pop(key, None)
            except CongsyncError as exc:
                if isinstance(exc, AuthError | NetworkError | Cancelled):
                    self.journal.save_export_markers(written)
                    raise
                self.result.errors.append(
                    _("{rel}: {reason}").format(rel="/".join(path), reason=exc.message)
                )
        self.journal.save_export_markers(written)

    def _listed_markers(self, today: date) -> Mapping[RemotePath, RemoteFile]:
        found: dict[RemotePath, RemoteFile] = {}
        for day, paths in self.server.media_dates.items():
            if day < today:
                continue
            for path in paths:
                contents = self.server.folders.get(path)
                if contents is not None and (marker := contents.files.get(SELECTION_MARKER)):
                    found[marker.path] = marker
        return found
