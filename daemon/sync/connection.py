"""The connection to a congregation folder built from a configuration, and the checks setup runs
before anything is saved."""

from __future__ import annotations

from typing import Any

from daemon.config import Config
from daemon.core.layout import MAX_PREFS_BYTES, PREFS_FILE, CongregationSettings, parse_forced_prefs
from daemon.dav import DavClient, RetryPolicy
from daemon.errors import HostileResponse, NotFound, NotWebDAV
from daemon.i18n import _


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
