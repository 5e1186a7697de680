"""Staged uploads: PUT under a temporary name outside Media/, then MOVE into place, conditionally.

Members never see a half-uploaded file (the staging folder is not one they list), and an
interrupted upload never touches the previous version (it is replaced by one MOVE at the end).
A new file is moved with `Overwrite: F`, so the server refuses if someone published the same
name meanwhile (what `If-None-Match: *` means for a PUT). A replacement first checks the
target's current version against the one the journal last saw, then moves with a tagged `If`
on the target's ETag; a server that does not honour that is covered by the check before.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from daemon.core.records import LocalFile
from daemon.dav.client import DavClient, RemoteEntry, RemotePath, is_strong_etag, with_retries
from daemon.errors import (
    AuthError,
    Cancelled,
    CongsyncError,
    LocalChanged,
    NetworkError,
    NotFound,
    PreconditionFailed,
    ServerError,
)
from daemon.i18n import _
from daemon.sync.journal import Journal

log = logging.getLogger(__name__)

STAGING_FOLDER = ".congsync-uploads"
STAGED_KEY = "organizer_staged"  # journal: staged uploads this computer started and not finished
STALE_AFTER = 86400.0  # anyone's staged upload older than this was abandoned


@dataclass(frozen=True)
class Expected:
    """The server version an upload may replace: the journal's last synced state."""

    version: str
    etag_raw: str | None


class Stager:
    """Uploads files through the staging folder of one congregation folder."""

    def __init__(
        self,
        dav: DavClient,
        *,
        journal: Journal | None = None,
        ensure_collection: Callable[[RemotePath], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.dav = dav
        self.journal = journal
        self.cancel = cancel
        self._ensure = ensure_collection or dav.ensure_collections
        self._staging_ready = False

    # -- the two public forms -----------------------------------------------------------------

    def upload_file(
        self,
        source: Path,
        target: RemotePath,
        *,
        local: LocalFile,
        replace: Expected | None,
        on_bytes: Callable[[int], None] | None = None,
    ) -> RemoteEntry:
        """Publish `source` (which must still be `local` afterwards) at `target`."""

        def put(staged: RemotePath) -> None:
            sent = 0

            def count(n: int) -> None:
                nonlocal sent
                sent += n
                if on_bytes is not None:
                    on_bytes(n)

            def attempt() -> None:
                nonlocal sent
                if sent and on_bytes is not None:
                    on_bytes(-sent)  # a retry starts over: take back the progress shown
                sent = 0
                self.dav.put_file(staged, source, cancel=self.cancel, on_bytes=count)

            with_retries(attempt, self.dav.retry, self.cancel, "/".join(target))
            try:
                st = source.stat()
            except OSError:
                st = None
            if st is None or (st.st_size, st.st_mtime_ns) != (local.size, local.mtime_ns):
                raise LocalChanged(
                    _("{path} changed while it was being uploaded; it is sent again later.").format(
                        path=source
                    )
                )

        return self._publish(put, target, replace)

    def upload_bytes(
        self, data: bytes, target: RemotePath, *, replace: Expected | None
    ) -> RemoteEntry:
        """Publish a small file held in memory (a marker, forcedPrefs.json) the same way."""

        def put(staged: RemotePath) -> None:
            with_retries(
                lambda: self.dav.put_bytes(staged, data), self.dav.retry, self.cancel, "upload"
            )

        return self._publish(put, target, replace)

    # -- the protocol ---------------------------------------------------------------------------

    def _publish(
        self,
        put: Callable[[RemotePath], None],
        target: RemotePath,
        replace: Expected | None,
    ) -> RemoteEntry:
        staged = (STAGING_FOLDER, f"{secrets.token_hex(12)}.part")
        if not self._staging_ready:
            self._ensure((STAGING_FOLDER,))
            self._staging_ready = True
        self._remember(staged[-1], True)
        moved = False
        try:
            put(staged)
            self._ensure(target[:-1])
            if replace is None:
                self._move(staged, target, overwrite=False, what=target)
            else:
                self._replace(staged, target, replace)
            moved = True
        finally:
            if not moved:
                self._discard(staged)
            self._remember(staged[-1], False)
        return self.dav.stat(target, self.cancel)

    def _replace(self, staged: RemotePath, target: RemotePath, expected: Expected) -> None:
        current = self._current(target)
        if current is None or current.version != expected.version:
            raise PreconditionFailed(
                _("{what} was changed on the server by someone else meanwhile.").format(
                    what="/".join(target)
                )
            )
        condition = current.etag_raw if is_strong_etag(current.etag_raw) else None
        try:
            self.dav.move(staged, target, overwrite=True, if_target_etag=condition)
        except ServerError as exc:
            if exc.status != 412 or condition is None:
                raise
            # Either the file really changed, or the server does not understand a tagged If.
            again = self._current(target)
            if again is None or again.version != expected.version:
                raise PreconditionFailed(
                    _("{what} was changed on the server by someone else meanwhile.").format(
                        what="/".join(target)
                    )
                ) from None
            log.info("the server refused a tagged If on MOVE; relying on the version check")
            self.dav.move(staged, target, overwrite=True)

    def _move(
        self, staged: RemotePath, target: RemotePath, *, overwrite: bool, what: RemotePath
    ) -> None:
        try:
            self.dav.move(staged, target, overwrite=overwrite)
        except ServerError as exc:
            if exc.status == 412:
                raise PreconditionFailed(
                    _("{what} was published on the server by someone else meanwhile.").format(
                        what="/".join(what)
                    )
                ) from None
            raise

    def _current(self, target: RemotePath) -> RemoteEntry | None:
        try:
            return self.dav.stat(target, self.cancel)
        except NotFound:
            return None

    def _discard(self, staged: RemotePath) -> None:
        try:
            self.dav.delete(staged)
        except (AuthError, NetworkError, Cancelled, ServerError) as exc:
            # Left behind for the stale-upload sweep; the upload's own error matters more.
            log.info("could not remove the staged upload %s: %s", staged[-1], exc.message)

    def _remember(self, name: str, active: bool) -> None:
        if self.journal is None:
            return
        with self.journal.transaction():
            names: list[str] = list(self.journal.get(STAGED_KEY) or [])
            if active and name not in names:
                names.append(name)
            elif not active and name in names:
                names.remove(name)
            self.journal.put(STAGED_KEY, names)


def clean_staging(
    dav: DavClient,
    journal: Journal | None,
    *,
    cancel: threading.Event | None = None,
    now: float | None = None,
) -> int:
    """Remove staged uploads this computer abandoned (a killed process) and anyone's stale ones.

    Call it only when no upload of this computer is in flight. Returns how many were removed.
    """
    try:
        listing = dav.list((STAGING_FOLDER,), cancel)
    except NotFound:
        return 0
    ours = set(journal.get(STAGED_KEY) or []) if journal is not None else set()
    cutoff = (time.time() if now is None else now) - STALE_AFTER
    removed = 0
    for entry in listing.children:
        stale = entry.modified is not None and entry.modified.timestamp() < cutoff
        if entry.is_dir or not entry.name.endswith(".part") or not (entry.name in ours or stale):
            continue
        try:
            dav.delete(entry.path)
            removed += 1
        except CongsyncError as exc:
            if isinstance(exc, AuthError | NetworkError | Cancelled):
                raise
            log.info("could not remove the staged upload %s: %s", entry.name, exc.message)
    if journal is not None and ours:
        journal.put(STAGED_KEY, [])
    return removed
