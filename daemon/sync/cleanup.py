"""Server cleanup (organizer only): past meeting folders inside Media/ and Hidden/, and nothing else."""

from __future__ import annotations

import logging
import threading
from datetime import date, timedelta

from daemon.config import Config
from daemon.dav import DavClient, RemotePath
from daemon.sync.discovery import ServerSnapshot

log = logging.getLogger(__name__)


def clean_past_folders(
    config: Config,
    dav: DavClient,
    server: ServerSnapshot,
    *,
    today: date,
    keep_days: int | None = None,
    cancel: threading.Event | None = None,
) -> list[RemotePath]:
    """Delete date folders in Media/ and Hidden/ for meetings more than `keep_days` days past.

    Only direct children of those two folders whose names read as a date are considered (the
    snapshot lists nothing else as a date folder): `Recurring`, folders that are not dates,
    files, and everything outside Media/ and Hidden/ are never touched. Returns those removed.
    """
    config.require_organizer()
    keep = config.keep_days if keep_days is None else keep_days
    removed: list[RemotePath] = []
    for day, path in server.past_date_folders(before=today - timedelta(days=keep)):
        dav.delete(path, collection=True, cancel=cancel)
        log.info("cleanup: removed %s (meeting of %s)", "/".join(path), day)
        removed.append(path)
    return removed
