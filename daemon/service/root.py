"""The composition root of one profile: where congsync's parts for one congregation are assembled.

Everything that runs for a profile is built here and nowhere else: the journal, the connection
to the server (one pool across cycles, renewed when the server settings change, with what the
server proved before), the cycle the scheduler runs, the publishing commands, and the daemon
with its scheduler, status board, control endpoint and organizer-folder watcher. `run`, `demo`
and the one-shot commands use it; a panel, `serve` and a host of several profiles will too.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from daemon.config import Config, Profile
from daemon.credentials import password_for
from daemon.dav import DavClient
from daemon.errors import (
    AuthError,
    CongsyncError,
    CredentialsError,
    NetworkError,
)
from daemon.service.instance import media_folder_lock
from daemon.service.logs import register_secret, tail_log
from daemon.sync.connection import open_dav
from daemon.sync.cycle import run_cycle
from daemon.sync.downloads import PostDownloadStep
from daemon.sync.journal import Journal
from daemon.sync.media_folder import MediaFolder, MeetingSummary
from daemon.sync.progress import Progress
from daemon.sync.result import SyncResult

if TYPE_CHECKING:
    from daemon.service.control import Route
    from daemon.service.daemon import Daemon
    from daemon.sync.publishing import Publisher

log = logging.getLogger(__name__)


class ProfileRoot:
    """One profile's parts, built on demand and closed together."""

    def __init__(
        self,
        profile: Profile,
        *,
        password: str | None = None,
        steps: Sequence[PostDownloadStep] = (),
    ) -> None:
        self.profile = profile
        self._given = password or None  # a password handed to the root is the only one it uses
        self._password = self._given
        self._steps = tuple(steps)
        self._journal: Journal | None = None
        self._dav: DavClient | None = None
        self._dav_key: tuple[object, ...] | None = None
        self._lock = threading.Lock()
        self._daemon: Daemon | None = None  # told when a cycle finds the language changed

    def close(self) -> None:
        if self._dav is not None and self._journal is not None:
            # What the server proved during commands outside a cycle is kept too.
            self._journal.save_server_capabilities(self._dav.capabilities.to_json())
        self.drop_connection()
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def __enter__(self) -> ProfileRoot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- parts -----------------------------------------------------------------------------------

    @property
    def config(self) -> Config:
        return self.profile.config

    @property
    def journal(self) -> Journal:
        if self._journal is not None and not self.profile.paths.journal_file.exists():
            # The state folder was deleted under a running daemon: what it writes would go into
            # a file nobody can open again. A fresh journal learns the owned files back by
            # adoption (same size and time as the server's), so nothing is downloaded again.
            log.warning(
                "The journal %s is gone; starting a new one", self.profile.paths.journal_file
            )
            self._journal.close()
            self._journal = None
        if self._journal is None:
            self.profile.paths.ensure()
            self._journal = Journal(self.profile.paths.journal_file)
        return self._journal

    def password(self) -> str:
        if self._password is None:
            self._password = password_for(self.profile)
        return self._password

    def _renewed_password(self) -> bool:
        """After the server refused the password: True when another one is available now (setup
        or the panel saved it meanwhile). Otherwise the next cycle looks again, so that one
        saved later is used without a restart and without another refused try first."""
        refused, self._password = self._password, None
        if self._given is not None:
            self._password = refused
            return False
        try:
            renewed = self.password()
        except CredentialsError:
            return False
        if renewed == refused:
            self._password = None
            return False
        log.info("The server refused the password; trying the one saved since")
        return True

    def connection(self) -> DavClient:
        """One connection pool across cycles (saves a TLS handshake per poll), renewed when the
        server settings change; it starts from what this server proved before."""
        config = self.config
        key = (
            config.url,
            config.folder,
            config.username,
            config.ca_bundle,
            config.pin_sha256,
            self.password(),
        )
        with self._lock:
            if self._dav is None or key != self._dav_key:
                if self._dav is not None:
                    self._dav.close()
                self._dav = open_dav(
                    config, self.password(), capabilities=self.journal.server_capabilities()
                )
                self._dav_key = key
            return self._dav

    def drop_connection(self) -> None:
        with self._lock:
            if self._dav is not None:
                self._dav.close()
                self._dav = None

    # -- what runs -------------------------------------------------------------------------------

    def run_cycle(
        self,
        cancel: threading.Event,
        on_progress: Callable[[Progress], None] | None = None,
        *,
        full_listing: bool = True,
        accept_deletions: bool = False,
        today: date | None = None,
        now: datetime | None = None,
    ) -> SyncResult:
        """One complete sync with the configuration as it is now on disk (`now`: the local
        wall-clock time quiet during meetings goes by, default the clock)."""
        config = self.profile.reload()  # edits to the configuration apply at the next cycle
        if self._daemon is not None:
            self._daemon.apply_language(config.language)
        register_secret(self.password())
        # Whoever else syncs this media folder (a daemon whose state folder was removed, another
        # configuration) waits for, or makes this cycle wait: two cycles never run at once on it.
        try:
            with media_folder_lock(config.media_dir, cancel):
                return run_cycle(
                    config,
                    self.connection(),
                    self.journal,
                    cancel=cancel,
                    on_progress=on_progress,
                    full_listing=full_listing,
                    accept_deletions=accept_deletions,
                    today=today,
                    steps=self._steps,
                    now=now,
                )
        except NetworkError:
            # Start the next attempt with fresh connections: pooled ones to a server that went
            # away are dead, and holding them keeps a restarted local server from its port.
            self.drop_connection()
            raise
        except AuthError:
            if not self._renewed_password():
                raise
            return self.run_cycle(
                cancel,
                on_progress,
                full_listing=full_listing,
                accept_deletions=accept_deletions,
                today=today,
                now=now,
            )

    def meetings(self) -> list[MeetingSummary]:
        return MediaFolder(self.config.media_dir).meeting_summaries(date.today())

    @contextlib.contextmanager
    def publisher(self, *, write: bool) -> Iterator[Publisher]:
        """The organizer's commands on this profile's server; for changes the role is checked
        before the keyring is asked or a request is sent."""
        from daemon.sync.publishing import Publisher  # only the publishing commands need it

        if write:
            self.config.require_organizer()
        yield Publisher(self.config, self.connection(), self.journal)

    def panel_routes(self) -> dict[str, dict[str, Route]]:
        """The control panel's pages for this profile (also before it is configured: the first
        start serves its setup page alone, see `service.first_start`)."""
        from daemon.service.panel import PanelServices, panel_routes

        return panel_routes(
            PanelServices(
                profile=self.profile,
                publisher=lambda write: open_publisher(self.profile, write=write),
                meetings=self.meetings,
                log_tail=lambda lines: tail_log(self.profile.paths, lines),
            )
        )

    def daemon(
        self,
        *,
        interval: float | None = None,
        scheduler_options: Mapping[str, Any] | None = None,
    ) -> Daemon:
        """The always-on service of this profile, wired and ready to start."""
        # Imported here: a one-shot command (a sync, a publish) needs no scheduler, control
        # endpoint or watcher, and skipping them keeps its memory small.
        from daemon.dav import server_reachable
        from daemon.service.daemon import Daemon
        from daemon.sync.watch import OrganizerWatcher

        config = self.config
        options: dict[str, Any] = {"reachable": lambda: server_reachable(self.config.url)}
        options.update(scheduler_options or {})
        daemon = Daemon(
            self.profile.paths,
            self.run_cycle,
            interval=interval or config.interval,
            role=config.role,
            media_dir=config.media_dir,
            organizer_dir=config.organizer_dir,
            meetings=self.meetings,
            scheduler_options=options,
            routes=self.panel_routes(),
            language=lambda: self.profile.reload().language,
        )
        self._daemon = daemon
        if config.is_organizer:
            assert config.organizer_dir is not None  # Config guarantees it for organizers
            daemon.add_companion(OrganizerWatcher(config.organizer_dir, _sync_soon(daemon)))
        return daemon


@contextlib.contextmanager
def open_publisher(profile: Profile, *, write: bool) -> Iterator[Publisher]:
    """The publishing commands for one command line: a root of their own, closed afterwards."""
    with ProfileRoot(profile) as root, root.publisher(write=write) as publisher:
        yield publisher


def _sync_soon(daemon: Daemon) -> Callable[[], None]:
    """A drop into the organizer folder asks for a cycle soon (not while paused)."""

    from daemon.service.status import State

    def on_change() -> None:
        try:
            if daemon.snapshot().state != State.PAUSED:
                daemon.sync_now(full_listing=False)
        except (CongsyncError, RuntimeError) as exc:  # not started yet, or already stopping
            log.debug("organizer change not forwarded: %s", exc)

    return on_change
