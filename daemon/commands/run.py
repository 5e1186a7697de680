"""`congsync run`: the always-on daemon, with the tray icon when the desktop has one."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections.abc import Callable
from datetime import date

from daemon.config import Config, Profile
from daemon.dav.client import server_reachable
from daemon.errors import CongsyncError
from daemon.i18n import _
from daemon.service.daemon import Daemon
from daemon.service.logs import register_secret, setup_logging
from daemon.service.status import Progress, State
from daemon.sync.engine import Engine
from daemon.sync.media_folder import MediaFolder
from daemon.sync.result import SyncResult
from daemon.sync.watch import OrganizerWatcher

log = logging.getLogger(__name__)


class CycleRunner:
    """What the scheduler calls each cycle: reload the configuration, sync, publish meetings."""

    def __init__(self, profile: Profile, engine: Engine) -> None:
        self.profile = profile
        self.engine = engine
        self.daemon: Daemon | None = None

    def __call__(
        self,
        cancel: threading.Event,
        on_progress: Callable[[Progress], None],
        *,
        full_listing: bool,
        accept_deletions: bool,
    ) -> SyncResult:
        config = self.profile.reload()  # edits to the configuration apply at the next cycle
        register_secret(self.engine.password())
        result = self.engine.run_cycle(
            cancel, on_progress, full_listing=full_listing, accept_deletions=accept_deletions
        )
        if self.daemon is not None and self.daemon.board is not None:
            summaries = MediaFolder(config.media_dir).meeting_summaries(date.today())
            self.daemon.board.update(meetings=tuple(summaries))
        return result


def run(args: argparse.Namespace, profile: Profile | None = None) -> int:
    profile = profile or Profile.default()
    config = profile.config  # fail early, with the setup hint, when nothing is configured
    setup_logging(profile.paths, verbose=args.verbose)
    engine = Engine(profile)
    runner = CycleRunner(profile, engine)
    daemon = Daemon(
        profile.paths,
        runner,
        interval=args.interval or config.interval,
        role=config.role,
        media_dir=config.media_dir,
        organizer_dir=config.organizer_dir,
        scheduler_options={"reachable": lambda: server_reachable(profile.config.url)},
    )
    runner.daemon = daemon
    watcher = _watch_organizer_folder(daemon, config) if config.is_organizer else None
    try:
        if args.no_tray:
            print(_("congsync is running; stop it with Ctrl+C or “congsync stop”."), flush=True)
            daemon.run_forever()
            return 0
        from tray.app import run_tray_or_headless  # imported late: pystray needs a display

        daemon.start()
        try:
            run_tray_or_headless(
                daemon,
                headless_wait=daemon.run_forever,
                say=lambda text: print(text, file=sys.stderr, flush=True),
                media_dir=config.media_dir,
                organizer_dir=config.organizer_dir,
                log_file=profile.paths.log_file,
                config_file=profile.paths.config_file,
                notifications_enabled=config.notifications,
            )
        finally:
            daemon.stop()
        return 0
    finally:
        if watcher is not None:
            watcher.stop()
        engine.close()


def _watch_organizer_folder(daemon: Daemon, config: Config) -> OrganizerWatcher:
    """A drop into the organizer folder asks for a cycle soon (not while paused)."""

    def on_change() -> None:
        try:
            if daemon.snapshot().state != State.PAUSED:
                daemon.sync_now()
        except (CongsyncError, RuntimeError) as exc:  # not started yet, or already stopping
            log.debug("organizer change not forwarded: %s", exc)

    assert config.organizer_dir is not None  # Config guarantees it for organizers
    watcher = OrganizerWatcher(config.organizer_dir, on_change)
    watcher.start()
    return watcher
