"""The connection to a congregation folder built from a configuration, and the checks setup runs
before anything is saved."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from daemon.config import Config
from daemon.core.layout import (
    MAX_PREFS_BYTES,
    MEDIA,
    PREFS_FILE,
    CongregationSettings,
    parse_forced_prefs,
)
from daemon.dav import DavClient, RetryPolicy
from daemon.errors import ConfigError, HostileResponse, NotFound, NotWebDAV
from daemon.i18n import fact


def open_dav(
    config: Config,
    password: str,
    retry: RetryPolicy | None = None,
    *,
    folder: str | None = None,
    capabilities: dict[str, Any] | None = None,
) -> DavClient:
    """A client for the configured folder (or `folder`, relative to the server address)."""
    return DavClient(
        config.url,
        config.folder if folder is None else folder,
        config.username,
        password,
        ca_bundle=config.ca_bundle,
        pin_sha256=config.pin_sha256,
        retry=retry,
        capabilities=capabilities,
    )


def check_connection(config: Config, password: str) -> None:
    """What `setup` runs before saving: raises an error that says precisely what is wrong."""
    with open_dav(config, password, RetryPolicy(attempts=1)) as dav:
        try:
            entry = dav.stat(())
        except NotFound:
            raise NotFound(
                fact(
                    "The folder “{folder}” does not exist on the server {host}.",
                    folder=config.folder,
                    host=dav.host,
                ),
                404,
            ) from None
        if not entry.is_dir:
            raise NotWebDAV(
                fact("“{folder}” on the server is a file, not a folder.", folder=config.folder)
            )


def create_folder(config: Config, password: str) -> None:
    """Create the congregation folder and its missing ancestors (organizers only)."""
    config.require_organizer()
    segments = tuple(s for s in config.folder.strip("/").split("/") if s)
    # The congregation folder is the client's root: create it from the server address's root.
    with open_dav(config, password, RetryPolicy(attempts=1), folder="") as base:
        base.ensure_collections(segments)
    with open_dav(config, password, RetryPolicy(attempts=1)) as dav:
        dav.stat(())


def read_congregation_settings(config: Config, password: str) -> CongregationSettings:
    """What the congregation's forcedPrefs.json says (setup asks for what it leaves open).

    No file, or one that cannot be used, leaves everything open.
    """
    with open_dav(config, password, RetryPolicy(attempts=1)) as dav:
        try:
            data = dav.get_bytes((PREFS_FILE,), MAX_PREFS_BYTES)
        except (NotFound, HostileResponse):
            return CongregationSettings()
    try:
        settings, _warnings = parse_forced_prefs(data)
    except ValueError:
        return CongregationSettings()
    return settings


@dataclass(frozen=True)
class FolderLook:
    """One server folder as setup's folder browser shows it."""

    folder: str  # relative to the server address, without leading or trailing slash
    subfolders: tuple[str, ...]
    has_media: bool  # a `Media/` folder: it looks like a congregation folder
    has_prefs: bool  # a forcedPrefs.json

    @property
    def congregation_folder(self) -> bool:
        return self.has_media or self.has_prefs


def _clean(folder: str) -> str:
    return "/".join(s for s in folder.strip().strip("/").split("/") if s)


def look_at_folder(config: Config, password: str, folder: str | None = None) -> FolderLook:
    """The sub-folders of `folder` (the configured one by default; "" is the address's root,
    where the account's files start), and whether it looks like a congregation folder."""
    where = _clean(config.folder if folder is None else folder)
    if any(s in (".", "..") for s in where.split("/")):
        raise NotFound(fact("“{folder}” is not a folder name.", folder=where), 404)
    with open_dav(config, password, RetryPolicy(attempts=1), folder=where) as dav:
        listing = dav.list(())
    dirs = sorted(
        (e.name for e in listing.children if e.is_dir and e.name and not e.name.startswith(".")),
        key=str.casefold,
    )
    files = {e.name for e in listing.children if not e.is_dir}
    return FolderLook(
        folder=where,
        subfolders=tuple(dirs),
        has_media=MEDIA in dirs,
        has_prefs=PREFS_FILE in files,
    )


def make_subfolder(config: Config, password: str, parent: str, name: str) -> str:
    """Create the folder `name` inside `parent` (organizers only); answers its path."""
    config.require_organizer()
    clean = name.strip()
    if (
        not clean
        or "/" in clean
        or "\\" in clean
        or clean in (".", "..")
        or not clean.isprintable()
    ):
        raise ConfigError(
            fact("“{name}” cannot be a folder name: use letters, digits and spaces.", name=name)
        )
    where = _clean(parent)
    with open_dav(config, password, RetryPolicy(attempts=1), folder=where) as dav:
        dav.mkcol((clean,))
    return f"{where}/{clean}" if where else clean
