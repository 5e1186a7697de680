"""Helpers shared by the tests that run congsync against the real test server."""

from __future__ import annotations

import json
import threading
from datetime import date, datetime
from pathlib import Path
from typing import Any

from davserver import DavFixture

from daemon.config import Config, Profile
from daemon.paths import Paths
from daemon.service.root import ProfileRoot
from daemon.sync.result import SyncResult

# A Monday far from the real calendar, so tests never depend on the day they run.
TODAY = date(2030, 1, 7)
TUESDAY = "2030-01-08"
SUNDAY = "2030-01-13"
NEXT_TUESDAY = "2030-01-15"
NEXT_SUNDAY = "2030-01-20"
PREFS = {"meeting": {"mwDay": 1, "weDay": 6}, "app": {"congregationName": "Test"}}


def write_prefs(dav: DavFixture, prefs: dict[str, Any] | None = None) -> None:
    dav.put_file("forcedPrefs.json", json.dumps(prefs or PREFS).encode())


def make_profile(dav: DavFixture, home: Path, **overrides: Any) -> Profile:
    """An isolated congsync installation (own config, state and media) for this server."""
    values: dict[str, Any] = {
        "url": dav.base_url,
        "username": dav.username,
        "folder": dav.folder,
        "media_dir": home / "media",
        "ca_bundle": dav.ca_path,
    }
    values.update(overrides)
    profile = Profile(
        paths=Paths(
            config_file=home / "config.toml", state_dir=home / "state", log_dir=home / "logs"
        )
    )
    profile.save(Config(**values))
    return profile


class Member:
    """One member computer: sync it, look at its media folder."""

    def __init__(self, dav: DavFixture, home: Path, **overrides: Any) -> None:
        self.dav = dav
        self.profile = make_profile(dav, home, **overrides)
        self.media = self.profile.config.media_dir

    def sync(
        self,
        today: date = TODAY,
        *,
        accept_deletions: bool = False,
        full_listing: bool = True,
        cancel: threading.Event | None = None,
        password: str | None = None,
        now: datetime | None = None,
    ) -> SyncResult:
        with ProfileRoot(self.profile, password=password or self.dav.password) as root:
            return root.run_cycle(
                cancel or threading.Event(),
                full_listing=full_listing,
                accept_deletions=accept_deletions,
                today=today,
                now=now,
            )

    def files(self, day: str) -> dict[str, bytes]:
        folder = self.media / day
        if not folder.is_dir():
            return {}
        return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}

    def all_paths(self) -> set[str]:
        """Every file under the media folder outside congsync's own corner, relative."""
        return {
            str(p.relative_to(self.media))
            for p in self.media.rglob("*")
            if p.is_file() and ".congsync" not in p.relative_to(self.media).parts
        }
