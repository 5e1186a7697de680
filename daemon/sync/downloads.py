"""Executes downloads in parallel: resumable temp files, checks, atomic rename, journal entry."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from daemon.core.member_plan import Download
from daemon.core.records import OwnedFile, RemoteFile
from daemon.dav.client import DavClient, RemoteEntry, normalise_etag
from daemon.errors import Cancelled, CongsyncError, ServerError
from daemon.i18n import _
from daemon.sync.journal import Journal
from daemon.sync.media_folder import MediaFolder
from daemon.sync.progress import Progress, ProgressMeter

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    action: Download
    error: CongsyncError | None = None
    size: int = 0


def download_all(
    downloads: Sequence[Download],
    dav: DavClient,
    media: MediaFolder,
    journal: Journal,
    *,
    workers: int,
    cancel: threading.Event,
    on_progress: Callable[[Progress], None] | None = None,
    before_install: Callable[[Download], None] | None = None,
) -> list[Outcome]:
    """Download every action; one failure never stops the others. Cancellation stops them all."""
    meter = ProgressMeter(len(downloads), sum(d.remote.size or 0 for d in downloads), on_progress)
    outcomes: list[Outcome] = []
    if not downloads:
        return outcomes
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="download") as pool:
        futures = {
            pool.submit(_download_one, d, dav, media, journal, cancel, meter, before_install): d
            for d in downloads
        }
        for future in as_completed(futures):
            action = futures[future]
            try:
                outcomes.append(Outcome(action, size=future.result()))
            except Cancelled:
                cancel.set()  # stop the rest promptly; partial files stay for next time
                outcomes.append(Outcome(action, error=Cancelled(_("Stopped on request."))))
            except CongsyncError as exc:
                log.warning("download of %s/%s failed: %s", action.date, action.name, exc.message)
                outcomes.append(Outcome(action, error=exc))
            meter.file_done()
    return outcomes


def fetch_verified(
    dav: DavClient,
    remote: RemoteFile,
    partial: Path,
    what: str,
    *,
    cancel: threading.Event,
    on_bytes: Callable[[int], None] | None = None,
) -> int:
    """Download (resuming) into `partial` and prove it is the listed version; returns its size.

    A wrong length or a different ETag means the file changed meanwhile: the partial file is
    dropped, so the next attempt starts clean.
    """
    entry = RemoteEntry(
        path=remote.path,
        is_dir=False,
        size=remote.size,
        etag=remote.etag,
        modified=None,
        etag_raw=remote.etag_raw,
        modified_raw=remote.modified_raw,
    )
    headers = dav.download(entry, partial, cancel=cancel, on_bytes=on_bytes)
    size = partial.stat().st_size
    if remote.size is not None and size != remote.size:
        partial.unlink(missing_ok=True)
        raise ServerError(
            _(
                "{what} arrived with {got} bytes but the server listed {want}; it will be "
                "downloaded again."
            ).format(what=what, got=size, want=remote.size)
        )
    served = normalise_etag(headers.get("ETag"))
    if remote.etag and served and served != remote.etag:
        partial.unlink(missing_ok=True)
        raise ServerError(
            _("{what} changed on the server during the download; it will be fetched again.").format(
                what=what
            )
        )
    return size


def _download_one(
    action: Download,
    dav: DavClient,
    media: MediaFolder,
    journal: Journal,
    cancel: threading.Event,
    meter: ProgressMeter,
    before_install: Callable[[Download], None] | None,
) -> int:
    if cancel.is_set():
        raise Cancelled(_("Stopped on request."))
    remote = action.remote
    what = f"{action.date}/{action.name}"
    meter.file_started(what)
    partial = media.partial_path(action.date, action.name, remote.version)
    size = fetch_verified(dav, remote, partial, what, cancel=cancel, on_bytes=meter.add_bytes)
    if before_install is not None:
        before_install(action)
    local = media.install(partial, action.date, action.name)
    journal.record_owned(
        OwnedFile(
            date=action.date,
            name=action.name,
            remote_path=remote.path,
            version=remote.version,
            size=local.size,
            mtime_ns=local.mtime_ns,
        )
    )
    return size
