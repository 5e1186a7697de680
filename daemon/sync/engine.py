"""Wires a profile to a server connection and a cycle; what the CLI and the daemon both call."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date

from daemon.config import Config, Profile
from daemon.credentials import get_password
from daemon.dav.client import DavClient, RetryPolicy
from daemon.errors import NetworkError, NotFound, NotWebDAV
from daemon.i18n import _
from daemon.sync.journal import Journal
from daemon.sync.member import run_member_cycle
from daemon.sync.progress import Progress
from daemon.sync.result import SyncResult


def open_dav(config: Config, password: str, retry: RetryPolicy | None = None) -> DavClient:
    return DavClient(
        config.url,
        config.folder,
        config.username,
        password,
        ca_bundle=config.ca_bundle,
        retry=retry,
    )


def check_connection(config: Config, password: str) -> None:
    """What `setup` runs before saving: raises an error that says precisely what is wrong."""
    with open_dav(config, password, RetryPolicy(attempts=1)) as dav:
        try:
            entry = dav.stat(())
        except NotFound:
            raise NotFound(
                _("The folder “{folder}” does not exist on the server {host}.").format(
                    folder=config.folder, host=dav.host
                ),
                404,
            ) from None
        if not entry.is_dir:
            raise NotWebDAV(
                _("“{folder}” on the server is a file, not a folder.").format(folder=config.folder)
            )


def create_folder(config: Config, password: str) -> None:
    config.require_organizer()
    segments = tuple(s for s in config.folder.strip("/").split("/") if s)
    with open_dav(config, password, RetryPolicy(attempts=1)) as dav:
        # The congregation folder is the client's root: create its ancestors relative to it.
        base = DavClient(
            config.url,
            "",
            config.username,
            password,
            ca_bundle=config.ca_bundle,
            retry=RetryPolicy(attempts=1),
        )
        with base:
            base.ensure_collections(segments)
        dav.stat(())


class Engine:
    """One profile's sync machinery: a journal and, per cycle, a server connection."""

    def __init__(self, profile: Profile, password: str | None = None) -> None:
        self.profile = profile
        self._password = password
        profile.paths.ensure()
        self.journal = Journal(profile.paths.journal_file)
        self._dav: DavClient | None = None
        self._dav_key: tuple[object, ...] | None = None

    def close(self) -> None:
        if self._dav is not None:
            self._dav.close()
        self.journal.close()

    def dav(self) -> DavClient:
        """One connection pool across cycles (saves a TLS handshake per poll), renewed when the
        server settings change."""
        config = self.profile.config
        key = (config.url, config.folder, config.username, config.ca_bundle, self.password())
        if self._dav is None or key != self._dav_key:
            if self._dav is not None:
                self._dav.close()
            self._dav = open_dav(config, self.password())
            self._dav_key = key
        return self._dav

    def password(self) -> str:
        if self._password is None:
            self._password = get_password(self.profile.config)
        return self._password

    def run_cycle(
        self,
        cancel: threading.Event,
        on_progress: Callable[[Progress], None] | None = None,
        *,
        full_listing: bool = True,
        accept_deletions: bool = False,
        today: date | None = None,
    ) -> SyncResult:
        config = self.profile.config
        try:
            published = None
            if config.is_organizer:
                # Publish first, so this computer's own media folder already has what its
                # organizer just dropped.
                from daemon.sync.organizer import run_organizer_cycle  # organizers only

                published = run_organizer_cycle(
                    config,
                    self.dav(),
                    self.journal,
                    cancel=cancel,
                    on_progress=on_progress,
                    today=today,
                    accept_deletions=accept_deletions,
                )
            result = run_member_cycle(
                config,
                self.dav(),
                self.journal,
                cancel=cancel,
                on_progress=on_progress,
                full_listing=full_listing,
                accept_deletions=accept_deletions,
                today=today,
            )
            if published is not None:
                result.absorb_publishing(published)
            return result
        except NetworkError:
            # Start the next attempt with fresh connections: pooled ones to a server that went
            # away are dead, and holding them keeps a restarted local server from its port.
            self.drop_connection()
            raise

    def drop_connection(self) -> None:
        if self._dav is not None:
            self._dav.close()
            self._dav = None
