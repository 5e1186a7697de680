"""An organizer computer for tests: its own configuration, journal and organizer folder."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from davserver import DavFixture
from support import TODAY, make_profile

from daemon.config import Config
from daemon.dav import DavClient
from daemon.sync.connection import open_dav
from daemon.sync.discovery import Discovery
from daemon.sync.journal import Journal
from daemon.sync.organizer import run_organizer_cycle
from daemon.sync.progress import Progress
from daemon.sync.result import SyncResult


def organizer_cycle(
    config: Config,
    dav: DavClient,
    journal: Journal,
    *,
    today: date = TODAY,
    cancel: threading.Event | None = None,
    **options: Any,
) -> SyncResult:
    """The organizer half of a cycle alone, with its own look at the server (as the daemon's
    cycle does it, keeping what the look learned)."""
    discovery = Discovery(dav, journal.listing_memory(), full_listing=True)
    try:
        return run_organizer_cycle(
            config,
            dav,
            journal,
            discovery,
            cancel=cancel or threading.Event(),
            today=today,
            **options,
        )
    finally:
        journal.save_listing_memory(discovery.memory)


class Organizer:
    """One organizer computer: drop files into its folder, sync it, look at both sides."""

    def __init__(self, dav: DavFixture, home: Path, **overrides: Any) -> None:
        self.dav = dav
        self.dir = home / "organizer"
        self.profile = make_profile(
            dav, home, role="organizer", organizer_dir=self.dir, **overrides
        )

    def sync(
        self,
        today: date = TODAY,
        *,
        accept_deletions: bool = False,
        settle: float = 0.05,
        cancel: threading.Event | None = None,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> SyncResult:
        config = self.profile.reload()
        journal = Journal(self.profile.paths.journal_file)
        try:
            with open_dav(config, self.dav.password) as client:
                return organizer_cycle(
                    config,
                    client,
                    journal,
                    cancel=cancel,
                    today=today,
                    accept_deletions=accept_deletions,
                    settle_seconds=settle,
                    on_progress=on_progress,
                )
        finally:
            journal.close()

    def drop(self, rel: str, data: bytes) -> Path:
        """Put a file into the organizer folder, complete (as a finished copy would be)."""
        path = self.dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")  # ignored by congsync, like a copy tool's temp
        tmp.write_bytes(data)
        os.replace(tmp, path)
        return path

    def files(self) -> dict[str, bytes]:
        """Every file of the organizer folder outside congsync's own corners, by rel."""
        return {
            p.relative_to(self.dir).as_posix(): p.read_bytes()
            for p in self.dir.rglob("*")
            if p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(self.dir).parts)
        }


def server_files(dav: DavFixture) -> dict[str, bytes]:
    """Every file in the congregation folder on the server's disk, by relative path."""
    return {
        p.relative_to(dav.folder_path).as_posix(): p.read_bytes()
        for p in dav.folder_path.rglob("*")
        if p.is_file()
    }
