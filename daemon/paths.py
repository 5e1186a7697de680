"""Where congsync keeps its files, decided once (platformdirs), overridable for tests.

`CONGSYNC_CONFIG` names another configuration file; `CONGSYNC_STATE_DIR` moves all state
(journal, status, control secret, logs, temp) to one folder, which is what tests use.
"""

from __future__ import annotations

import hashlib
import os
import sys
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
    # Meeting Media Manager's data folders on this computer (`m3_data_dirs`): places this
    # profile's folders must stay out of. Empty: not looked for (tests, the demo).
    m3_data_dirs: tuple[Path, ...] = ()

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
    def pause_file(self) -> Path:
        """A pause in force (until when, or until resumed), so that it outlives a restart."""
        return self.state_dir / "pause.json"

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
    return Paths(
        config_file=config_file,
        state_dir=state_dir,
        log_dir=log_dir,
        named_config=named,
        m3_data_dirs=m3_data_dirs(env),
    )


# Names another place for Meeting Media Manager's data folder (several separated by os.pathsep);
# what tests use, and a way to point congsync at a portable M³.
M3_DATA_VARIABLE = "CONGSYNC_M3_DATA_DIR"
# M³ is an Electron app: its data folder is Electron's userData, <app data>/<productName>
# ("Meeting Media Manager", package.json of sircharlo/meeting-media-manager v26.8); the package
# name "meeting-media-manager" is what builds without a product name used. Installed for all
# users it prefers a shared folder (getSharedDataPath in src-electron/main/utils.ts).
_M3_NAMES = ("Meeting Media Manager", "meeting-media-manager")


def m3_data_dirs(env: Mapping[str, str]) -> tuple[Path, ...]:
    """Where Meeting Media Manager keeps its data on this system (whether or not it exists)."""
    override = env.get(M3_DATA_VARIABLE)
    if override:
        return tuple(Path(p).expanduser() for p in override.split(os.pathsep) if p)
    home = Path.home()
    if sys.platform == "win32":
        app_data = Path(env.get("APPDATA") or home / "AppData" / "Roaming")
        shared = Path(env.get("ProgramData") or "C:\\ProgramData") / _M3_NAMES[0]
    elif sys.platform == "darwin":
        app_data = home / "Library" / "Application Support"
        shared = Path("/Library/Application Support") / _M3_NAMES[0]
    else:
        app_data = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
        shared = Path("/var/cache") / _M3_NAMES[1]
    return (*(app_data / name for name in _M3_NAMES), shared)
