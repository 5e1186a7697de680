"""Where congsync keeps its files, decided once (platformdirs), overridable for tests.

`CONGSYNC_CONFIG` names another configuration file; `CONGSYNC_STATE_DIR` moves all state
(journal, status, control secret, logs, temp) to one folder, which is what tests use.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP = "congsync"


@dataclass(frozen=True)
class Paths:
    """Every location one profile uses. Nothing else in congsync invents a path."""

    config_file: Path
    state_dir: Path
    log_dir: Path
    # The configuration file the user named (CONGSYNC_CONFIG), absolute; None for the default
    # one. What an autostart entry must name so that it starts this profile.
    named_config: Path | None = None

    @property
    def journal_file(self) -> Path:
        return self.state_dir / "journal.sqlite3"

    @property
    def status_file(self) -> Path:
        return self.state_dir / "status.json"

    @property
    def control_file(self) -> Path:
        """Address and secret of the running daemon's control endpoint (user-only permissions)."""
        return self.state_dir / "control.json"

    @property
    def lock_file(self) -> Path:
        return self.state_dir / "daemon.lock"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "congsync.log"

    def ensure(self) -> None:
        for d in (self.state_dir, self.log_dir):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)


def default_paths(env: Mapping[str, str]) -> Paths:
    """The locations of the profile the environment names (the command line's only business)."""
    config_file = Path(
        env.get("CONGSYNC_CONFIG") or Path(platformdirs.user_config_dir(APP)) / "config.toml"
    )
    state_override = env.get("CONGSYNC_STATE_DIR")
    if state_override:
        state_dir = Path(state_override)
        log_dir = state_dir / "logs"
    elif env.get("CONGSYNC_CONFIG"):
        # A configuration file of its own gets state of its own: two profiles never share a journal.
        digest = hashlib.sha256(str(config_file.resolve()).encode()).hexdigest()[:12]
        state_dir = Path(platformdirs.user_state_dir(APP)) / f"profile-{digest}"
        log_dir = Path(platformdirs.user_log_dir(APP)) / f"profile-{digest}"
    else:
        state_dir = Path(platformdirs.user_state_dir(APP))
        log_dir = Path(platformdirs.user_log_dir(APP))
    named = Path(os.path.abspath(config_file)) if env.get("CONGSYNC_CONFIG") else None
    return Paths(config_file=config_file, state_dir=state_dir, log_dir=log_dir, named_config=named)
