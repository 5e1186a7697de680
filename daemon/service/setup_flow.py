"""Connecting this computer to a congregation folder: one code path for `congsync setup` and the
panel's Setup page.

Both build a `Config` (`build_config`), then `save_setup` tests the connection (refusing
addresses of providers that no longer offer WebDAV with a sentence that says so), creates the
folder for an organizer who asked for it, stores the password in the OS keyring (or keeps the
stored one when none was typed), saves the configuration and tells the running daemon.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from daemon.config import Config, Profile, check_folders, validate_url
from daemon.credentials import get_password, store_password, supplied_password
from daemon.errors import CongsyncError, NotFound, NotWebDAV
from daemon.i18n import _, fact
from daemon.sync.connection import (
    FolderLook,
    check_connection,
    create_folder,
    look_at_folder,
)

# Providers that ended their WebDAV service, as (host, path prefix); users migrating from an
# older tool still have these addresses saved. Box ended WebDAV in 2023.
RETIRED_WEBDAV: tuple[tuple[str, str, str], ...] = (
    ("dav.box.com", "", "Box"),
    ("app.box.com", "/dav", "Box"),
)


class FolderNotThere(NotFound):
    """The congregation folder does not exist, and the organizer did not ask to create it."""


@dataclass(frozen=True)
class SetupDone:
    config: Config
    created_folder: bool
    look: FolderLook


def retired_provider(url: str) -> str | None:
    """The sentence for the address of a provider that no longer offers WebDAV, or None."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    for retired_host, prefix, provider in RETIRED_WEBDAV:
        if host == retired_host and parts.path.startswith(prefix):
            return _(
                "{provider} no longer offers WebDAV (the address {host} stopped working), so "
                "congsync cannot use it. Move the congregation's media to a provider that speaks "
                "WebDAV, or to a server of your own, and enter its address."
            ).format(provider=provider, host=host)
    return None


def build_config(profile: Profile, base: Config | None = None, **values: Any) -> Config:
    """The configuration from setup's answers (over `base`, keeping what setup does not ask),
    with its folders checked against each other and congsync's own."""
    for key in ("media_dir", "organizer_dir", "export_dir", "ca_bundle", "password_file"):
        raw = values.get(key)
        if isinstance(raw, str):
            values[key] = Path(raw).expanduser().absolute() if raw.strip() else None
    if values.get("role") == "member":
        values.setdefault("organizer_dir", None)
        values.setdefault("export_dir", None)
    if isinstance(values.get("url"), str):
        validate_url(values["url"])
    config = base.with_changes(**values) if base is not None else Config(**values)
    check_folders(config, profile.paths)
    return config


def known_password(profile: Profile, config: Config) -> str:
    """The password already available for `config`'s account (given for this run, a password
    file, or the one stored in the OS keyring); CredentialsError when there is none."""
    supplied = supplied_password(profile)
    if supplied is not None and _same_account(profile, config):
        return supplied.password
    # The keyring keeps passwords per user@host: never one account's password for another.
    return get_password(config)


def _same_account(profile: Profile, config: Config) -> bool:
    """Whether `config` names the account the profile's supplied password is for (the saved
    configuration's, or any when nothing is saved yet: setup itself was given the password)."""
    if not profile.paths.config_file.exists():
        return True
    try:
        saved = profile.config
    except CongsyncError:
        return False
    return (saved.host, saved.username) == (config.host, config.username)


def check_server(config: Config, password: str) -> FolderLook:
    """Test the connection as setup does: raises an error that says precisely what is wrong;
    answers what the congregation folder holds."""
    retired = retired_provider(config.url)
    if retired is not None:
        raise NotWebDAV(retired)
    check_connection(config, password)
    return look_at_folder(config, password)


def connect(config: Config, password: str, *, create: bool) -> tuple[bool, FolderLook]:
    """`check_server`, creating a missing congregation folder when an organizer asked for it.
    Returns whether the folder was created, and what it holds."""
    try:
        return False, check_server(config, password)
    except NotFound as exc:
        if not config.is_organizer:
            raise NotFound(
                fact(
                    "{problem} Ask your organizer for the right folder, or check for typing mistakes.",
                    problem=exc.text,
                ),
                404,
            ) from None
        if not create:
            raise FolderNotThere(exc.message, 404) from None
    create_folder(config, password)
    return True, look_at_folder(config, password)


def save_setup(
    profile: Profile,
    config: Config,
    password: str | None,
    *,
    store: bool,
    create: bool = False,
    say: Callable[[str], None] = lambda _line: None,
    before_save: Callable[[Config, str], Config] | None = None,
    notify: Callable[[], None] | None = None,
) -> SetupDone:
    """Test, store the password, save, tell the daemon. `password` None keeps the one already
    available (stored in the keyring); `store` puts a given one into the OS keyring."""
    given = password is not None
    password = password if password is not None else known_password(profile, config)
    say(_("Testing the connection to {host} …").format(host=config.host))
    created, look = connect(config, password, create=create)
    if created:
        say(_("Created the folder {folder}.").format(folder=config.folder))
    say(_("The connection works."))
    if before_save is not None:
        config = before_save(config, password)
    if store and given:
        store_password(config, password)
        say(_("The password is stored in the OS keyring."))
    profile.save(config)
    say(_("Saved the configuration to {path}.").format(path=profile.paths.config_file))
    if notify is not None:
        notify()
    return SetupDone(config, created, look)
