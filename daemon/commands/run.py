"""`congsync run`: the always-on daemon, with the tray icon when the desktop has one."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from daemon.commands.open import show_in_browser
from daemon.config import Profile
from daemon.errors import AlreadyRunning, ExitCode
from daemon.i18n import _
from daemon.paths import Paths
from daemon.service.logs import setup_logging
from daemon.service.root import ProfileRoot

if TYPE_CHECKING:
    from daemon.service.daemon import Daemon

#: "1" or "0": whether `congsync run` may count on a desktop to show a browser on, whatever
#: DISPLAY and WAYLAND_DISPLAY say (a kiosk, a test).
DESKTOP_VARIABLE = "CONGSYNC_DESKTOP"


def run(args: argparse.Namespace, profile: Profile) -> int:
    first_start = _first_start_on_a_desktop(args, profile)
    if first_start and (code := _set_up_in_the_browser(profile)) is not None:
        return code
    config = profile.config  # fail early, with the setup hint, when nothing is configured
    with ProfileRoot(profile) as root:
        daemon = root.daemon(interval=args.interval)
        # "Already running" comes first: before anything is printed, logged or opened.
        daemon.claim()
        _log_to_terminal_once(profile.paths, args.verbose, daemon)
        if args.no_tray:
            print(_("congsync is running; stop it with Ctrl+C or “congsync stop”."), flush=True)
            daemon.run_forever()
            return _exit_code(daemon)
        from tray.app import run_tray_or_headless  # imported late: pystray needs a display

        daemon.start()
        if first_start and (url := daemon.panel_url("/status")):
            # Set up in the browser: the volunteer goes on to see the first sync there.
            _show_in_background(url)
        try:
            run_tray_or_headless(
                daemon,
                headless_wait=daemon.run_forever,
                say=lambda text: print(text, file=sys.stderr, flush=True),
                media_dir=config.media_dir,
                organizer_dir=config.organizer_dir,
                log_file=profile.paths.log_file,
                notifications_enabled=config.notifications,
            )
        finally:
            daemon.stop()
        return _exit_code(daemon)


def _first_start_on_a_desktop(args: argparse.Namespace, profile: Profile) -> bool:
    """Nothing configured yet, and a desktop to show the setup page on (not with --no-tray,
    which is how services and terminals without a desktop start congsync)."""
    if args.no_tray or profile.paths.config_file.exists():
        return False
    forced = os.environ.get(DESKTOP_VARIABLE, "").strip()
    if forced in ("0", "1"):
        return forced == "1"
    from tray.app import has_desktop

    return has_desktop()


def _set_up_in_the_browser(profile: Profile) -> int | None:
    """Serve the panel's setup page until its save writes the configuration (None: `run` goes
    on), or until congsync is stopped first (the exit code). Started again meanwhile (the tab
    was closed), congsync opens that same setup page again."""
    from daemon.service.control import ControlClient
    from daemon.service.first_start import serve_setup

    def show(url: str) -> None:
        print(
            _(
                "congsync is not set up yet: its setup page opens in your browser. "
                "Stop with Ctrl+C or “congsync stop”."
            ),
            flush=True,
        )
        _show_in_background(url)

    try:
        with ProfileRoot(profile) as root:
            if serve_setup(profile.paths, root.panel_routes(), show=show):
                return None
    except AlreadyRunning:
        client = ControlClient.from_paths(profile.paths)
        if client is None:
            raise
        with client:
            url = client.panel_url("/setup")
        print(
            _("congsync is already running and waits to be set up: its setup page opens again."),
            flush=True,
        )
        show_in_browser(url)
        return int(ExitCode.OK)
    print(_("congsync stopped before it was set up."), flush=True)
    return int(ExitCode.OK)


def _show_in_background(url: str) -> None:
    # Some browsers' launchers only return once the browser closes; congsync goes on meanwhile.
    threading.Thread(
        target=show_in_browser, args=(url,), name="congsync-browser", daemon=True
    ).start()


def _exit_code(daemon: Daemon) -> int:
    if not daemon.lost:
        return int(ExitCode.OK)
    print(
        _(
            "congsync: its state folder was removed and congsync could not take it back "
            "(the log says why); this congsync has stopped."
        ),
        file=sys.stderr,
    )
    return int(ExitCode.FAILURE)


def _log_to_terminal_once(paths: Paths, verbose: bool, daemon: Daemon) -> None:
    """The daemon's log: all of it to the file; on the terminal each warning once per streak."""
    root = logging.getLogger()
    # The command line's provisional handler would print every line a second time.
    for handler in list(root.handlers):
        root.removeHandler(handler)
    setup_logging(paths, verbose=verbose)
    once = OncePerStreak(lambda: board.cycles_started if (board := daemon.board) else 0)
    for handler in root.handlers:
        if not isinstance(handler, logging.FileHandler):
            handler.addFilter(once)


class OncePerStreak(logging.Filter):
    """Lets a warning through unless the same one was let through or held back in this cycle
    or the one before: a condition that persists is told once, and again if it comes back
    after a cycle without it. Lines below WARNING (with --verbose) all pass."""

    def __init__(self, cycle: Callable[[], int]) -> None:
        super().__init__()
        self._cycle = cycle
        self._last_seen: dict[tuple[str, int, str], int] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        now = self._cycle()
        key = (record.name, record.levelno, record.getMessage())
        with self._lock:
            last = self._last_seen.get(key)
            self._last_seen[key] = now
            if len(self._last_seen) > 1000:  # forget what has not been seen lately
                self._last_seen = {k: n for k, n in self._last_seen.items() if n >= now - 1}
        return last is None or last < now - 1
