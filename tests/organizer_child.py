"""Runs one organizer cycle in its own process, so a test can kill it mid-upload.

Usage: python organizer_child.py CONFIG_FILE STATE_DIR TODAY (password in CONGSYNC_PASSWORD).
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

from organizer_support import organizer_cycle

from daemon.config import Profile
from daemon.paths import Paths
from daemon.sync.connection import open_dav
from daemon.sync.journal import Journal


def main() -> None:
    config_file, state_dir, today = sys.argv[1:4]
    profile = Profile(
        paths=Paths(
            config_file=Path(config_file), state_dir=Path(state_dir), log_dir=Path(state_dir)
        )
    )
    journal = Journal(profile.paths.journal_file)
    with open_dav(profile.config, os.environ["CONGSYNC_PASSWORD"]) as dav:
        organizer_cycle(
            profile.config, dav, journal, today=date.fromisoformat(today), settle_seconds=0.05
        )
    print("cycle finished", flush=True)


if __name__ == "__main__":
    main()
