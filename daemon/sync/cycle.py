"""One sync cycle of a profile: the organizer's two-way folder first (an organizer's own media folder
then already has what he just dropped), then the member's mirror, from one discovery."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import date, datetime

from daemon.config import Config
from daemon.core.settings import effective
from daemon.dav import DavClient
from daemon.sync.congregation import cached_settings
from daemon.sync.discovery import Discovery
from daemon.sync.downloads import PostDownloadStep
from daemon.sync.journal import Journal
from daemon.sync.member import run_member_cycle
from daemon.sync.organizer import run_organizer_cycle
from daemon.sync.progress import Progress
from daemon.sync.result import SyncResult


def run_cycle(
    config: Config,
    dav: DavClient,
    journal: Journal,
    *,
    cancel: threading.Event,
    on_progress: Callable[[Progress], None] | None = None,
    full_listing: bool = True,
    accept_deletions: bool = False,
    today: date | None = None,
    steps: Sequence[PostDownloadStep] = (),
    now: datetime | None = None,
) -> SyncResult:
    """Sync once. Raises the errors of `daemon.errors` for failures of the whole cycle (network,
    password, a safety stop, Cancelled); per-file failures are in the returned result.

    The member cycle reuses the organizer cycle's snapshot unless the organizer changed the
    server meanwhile. What discovery and the connection learned is kept in the journal.
    """
    today = today or date.today()
    # Uploads go by this too; the member half adjusts it for quiet during meetings.
    dav.throttle.set_rate(effective(config, cached_settings(journal)).max_rate)
    discovery = Discovery(dav, journal.listing_memory(), full_listing=full_listing, cancel=cancel)
    try:
        published = None
        if config.is_organizer:
            published = run_organizer_cycle(
                config,
                dav,
                journal,
                discovery,
                cancel=cancel,
                on_progress=on_progress,
                today=today,
                accept_deletions=accept_deletions,
            )
        result = run_member_cycle(
            config,
            dav,
            journal,
            discovery,
            cancel=cancel,
            on_progress=on_progress,
            accept_deletions=accept_deletions,
            today=today,
            steps=steps,
            publishing=published,
            now=now,
        )
        return result
    finally:
        journal.save_listing_memory(discovery.memory)
        journal.save_server_capabilities(dav.capabilities.to_json())
