"""`congsync run`: the always-on daemon, with the tray icon when the desktop has one."""

from __future__ import annotations

import argparse
import sys

from daemon.config import Profile
from daemon.i18n import _
from daemon.service.logs import setup_logging
from daemon.service.root import ProfileRoot


def run(args: argparse.Namespace, profile: Profile) -> int:
    config = profile.config  # fail early, with the setup hint, when nothing is configured
    setup_logging(profile.paths, verbose=args.verbose)
    with ProfileRoot(profile) as root:
        daemon = root.daemon(interval=args.interval)
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
