"""Server cleanup (organizer only): past meeting folders inside Media/ and Hidden/, and nothing else."""

from __future__ import annotations

import logging
import threading
from datetime import date, timedelta

from daemon.config import Config
from daemon.core.layout import HIDDEN, MEDIA, parse_date_folder
from daemon.dav.client import DavClient, RemotePath
from daemon.errors import NotFound

log = logging.getLogger(__name__)


def clean_past_folders(
    config: Config,
    dav: DavClient,
    *,
    today: date | None = None,
    keep_days: int | None = None,
    cancel: threading.Event | None = None,
) -> list[RemotePath]:
    """Delete date folders in Media/ and Hidden/ for meetings more than `keep_days` days past.

    Only direct children of those two folders whose names read as a date are considered:
    `Recurring`, folders that are not dates, files, and everything outside Media/ and Hidden/
    are never touched. Returns the folders removed.
    """
    config.require_organizer()
    today = today or date.today()
    keep = config.keep_days if keep_days is None else keep_days
    cutoff = today - timedelta(days=keep)
    removed: list[RemotePath] = []
    for top in (MEDIA, HIDDEN):
        try:
            listing = dav.list((top,), cancel)
        except NotFound:
            continue
        for entry in listing.children:
            day = parse_date_folder(entry.name) if entry.is_dir else None
            if day is None or day >= cutoff:
                continue
            dav.delete(entry.path, collection=True)
            log.info("cleanup: removed %s (meeting of %s)", "/".join(entry.path), day)
            removed.append(entry.path)
    return removed
