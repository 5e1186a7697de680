"""Staged uploads: PUT under a temporary name outside Media/, then MOVE into place, conditionally.

Members never see a half-uploaded file (the staging folder is not one they list), and an
interrupted upload never touches the previous version (it is replaced by one MOVE at the end).
The MOVE carries the upload's condition (`dav.Expect`): a new file must still be absent (the
server refuses if someone published the same name meanwhile), a replacement must still be the
version the journal last saw. How that is checked on this server is dav's business.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from daemon.core.records import LocalFile, OrganizerRecord
from daemon.dav import DavClient, Expect, RemoteEntry, RemotePath
from daemon.errors import (
    AuthError,
    Cancelled,
    CongsyncError,
    LocalChanged,
    NetworkError,
    ServerError,
)
from daemon.i18n import fact
from daemon.sync.discovery import STAGING_FOLDER
from daemon.sync.journal import Journal

log = logging.getLogger(__name__)

__all__ = ["STAGING_FOLDER", "Stager", "clean_staging"]

STALE_AFTER = 86400.0  # anyone's staged upload older than this was abandoned


class Stager:
    """Uploads files through the staging folder of one congregation folder."""

    def __init__(
        self,
        dav: DavClient,
        *,
        journal: Journal | None = None,
        collections: set[RemotePath] | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.dav = dav
        self.journal = journal
        self.cancel = cancel
        # Collections known to exist (shared with the caller), so none is created twice.
        self.collections = collections if collections is not None else set()

    def rename(self, record: OrganizerRecord, target: RemotePath) -> RemoteEntry:
        """Move a published file to `target` (a file renamed locally): only while the server
        still has the recorded version and nothing is at `target`. Returns the moved entry."""
        self.dav.ensure_collections(target[:-1], self.collections)
        self.dav.move(
            record.remote_path,
            target,
            expect=Expect.absent(),
            source_expect=Expect(record.version, record.etag_raw),
            cancel=self.cancel,
        )
        return self.dav.stat(target, self.cancel)

    # -- the two public forms -----------------------------------------------------------------

    def upload_file(
        self,
        source: Path,
        target: RemotePath,
        *,
        local: LocalFile,
        expect: Expect,
        on_bytes: Callable[[int], None] | None = None,
    ) -> RemoteEntry:
        """Publish `source` (which must still be `local` afterwards) at `target`.

        If the file changes while it is sent, or before the staged copy is moved into place,
        the staged copy is discarded (LocalChanged) and the previous version stays.
        """
        try:
            ctime = source.stat().st_ctime_ns  # a write moves it even when mtime is set back
        except OSError as exc:
            raise LocalChanged(
                fact("{path} vanished before it was uploaded.", path=source)
            ) from exc

        def unchanged() -> None:
            try:
                st = source.stat()
            except OSError:
                st = None
            if st is None or (st.st_size, st.st_mtime_ns, st.st_ctime_ns) != (
                local.size,
                local.mtime_ns,
                ctime,
            ):
                raise LocalChanged(
                    fact(
                        "{path} changed while it was being uploaded; it is sent again later.",
                        path=source,
                    )
                )

        def put(staged: RemotePath) -> None:
            unchanged()  # changed since the scan: no upload wasted on it
            self.dav.put_file(staged, source, cancel=self.cancel, on_bytes=on_bytes)
            unchanged()

        return self._publish(put, target, expect, before_move=unchanged)

    def upload_bytes(self, data: bytes, target: RemotePath, *, expect: Expect) -> RemoteEntry:
        """Publish a small file held in memory (a marker, forcedPrefs.json) the same way."""
        return self._publish(
            lambda staged: self.dav.put_bytes(staged, data, self.cancel), target, expect
        )

    # -- the protocol ---------------------------------------------------------------------------

    def _publish(
        self,
        put: Callable[[RemotePath], None],
        target: RemotePath,
        expect: Expect,
        *,
        before_move: Callable[[], None] | None = None,
    ) -> RemoteEntry:
        staged = (STAGING_FOLDER, f"{secrets.token_hex(12)}.part")
        self.dav.ensure_collections((STAGING_FOLDER,), self.collections)
        self.journal_staged(staged[-1], True)
        moved = False
        try:
            put(staged)
            self.dav.ensure_collections(target[:-1], self.collections)
            if before_move is not None:
                before_move()
            self.dav.move(staged, target, expect=expect, cancel=self.cancel)
            moved = True
        finally:
            if not moved:
                self._discard(staged)
            self.journal_staged(staged[-1], False)
        return self.dav.stat(target, self.cancel)

    def _discard(self, staged: RemotePath) -> None:
        try:
            self.dav.delete(staged)
        except (AuthError, NetworkError, Cancelled, ServerError) as exc:
            # Left behind for the stale-upload sweep; the upload's own error matters more.
            log.info("could not remove the staged upload %s: %s", staged[-1], exc)

    def journal_staged(self, name: str, active: bool) -> None:
        if self.journal is not None:
            self.journal.note_staged(name, active)


def clean_staging(
    dav: DavClient,
    journal: Journal | None,
    staged: Sequence[RemoteEntry],
    *,
    now: float | None = None,
) -> int:
    """Remove staged uploads this computer abandoned (a killed process) and anyone's stale ones,
    of those `staged` lists. Call it only when no upload of this computer is in flight.
    Returns how many were removed."""
    ours = journal.staged() if journal is not None else set()
    cutoff = (time.time() if now is None else now) - STALE_AFTER
    removed = 0
    for entry in staged:
        stale = entry.modified is not None and entry.modified.timestamp() < cutoff
        if not entry.name.endswith(".part") or not (entry.name in ours or stale):
            continue
        try:
            dav.delete(entry.path)
            removed += 1
        except CongsyncError as exc:
            if isinstance(exc, AuthError | NetworkError | Cancelled):
                raise
            log.info("could not remove the staged upload %s: %s", entry.name, exc)
    if journal is not None and ours:
        journal.forget_staged()
    return removed
