"""The settings file (TOML), its validation, and the profile object everything else hangs off."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import tomli_w

from daemon.errors import ConfigError, RoleError
from daemon.i18n import _
from daemon.paths import Paths, default_paths

ROLES = ("member", "organizer")
# Supplies the password for one run instead of the keyring (automation, tests).
PASSWORD_VARIABLE = "CONGSYNC_PASSWORD"  # noqa: S105 - the variable's name, not a password


@dataclass(frozen=True)
class Config:
    """What the user configured on this computer. Never holds the password."""

    url: str  # the WebDAV server, https://host[:port]/[base path]
    username: str
    folder: str  # the congregation folder, relative to `url`
    media_dir: Path
    role: str = "member"
    organizer_dir: Path | None = None
    ca_bundle: Path | None = None  # extra CA to trust (self-hosted servers); verification stays on
    weeks_ahead: int = 2
    interval: int = 60  # seconds between polls of the running daemon
    transfers: int = 3  # parallel downloads
    keep_days: int = 7  # organizer: server date folders older than this are cleaned up
    notifications: bool = True
    # Local fallbacks when the congregation's forcedPrefs.json does not say (0 = Monday … 6 = Sunday)
    mw_day: int | None = None
    we_day: int | None = None

    def __post_init__(self) -> None:
        validate_url(self.url)
        if self.role not in ROLES:
            raise ConfigError(
                _("The role must be “member” or “organizer”, not “{role}”.").format(role=self.role)
            )
        if self.role == "organizer" and self.organizer_dir is None:
            raise ConfigError(_("An organizer needs an organizer folder (--organizer-dir)."))
        for name, low, high in (
            ("weeks_ahead", 1, 8),
            ("interval", 10, 86400),
            ("transfers", 1, 8),
            ("keep_days", 0, 365),
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or not low <= value <= high:
                raise ConfigError(
                    _("The setting {name} must be a whole number from {low} to {high}.").format(
                        name=name, low=low, high=high
                    )
                )
        for name in ("mw_day", "we_day"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or not 0 <= value <= 6):
                raise ConfigError(
                    _("The setting {name} must be a day from 0 (Monday) to 6 (Sunday).").format(
                        name=name
                    )
                )
        if not self.username:
            raise ConfigError(_("The username is empty."))

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc

    @property
    def is_organizer(self) -> bool:
        return self.role == "organizer"

    def require_organizer(self) -> None:
        """Every write to the server calls this before any request is sent."""
        if not self.is_organizer:
            raise RoleError(
                _(
                    "This computer is set up as a member, and members never change the "
                    "congregation folder on the server; only the organizer and his helpers do. "
                    "To publish media, run “congsync setup --role organizer --organizer-dir DIR”."
                )
            )

    def to_toml(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if value is None:
                continue
            data[key] = str(value) if isinstance(value, Path) else value
        return data

    @classmethod
    def from_toml(cls, data: dict[str, Any]) -> Config:
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigError(
                _("The configuration has settings congsync does not know: {names}.").format(
                    names=", ".join(unknown)
                )
            )
        for required in ("url", "username", "folder", "media_dir"):
            if required not in data:
                raise ConfigError(
                    _("The configuration lacks the setting “{name}”.").format(name=required)
                )
        values: dict[str, Any] = dict(data)
        for key in ("media_dir", "organizer_dir", "ca_bundle"):
            if values.get(key) is not None:
                values[key] = Path(os.path.expanduser(str(values[key])))
        return cls(**values)

    def with_changes(self, **changes: Any) -> Config:
        return replace(self, **changes)


def validate_url(url: str) -> None:
    """Only HTTPS: a plain-HTTP URL would send the password and the media in the clear."""
    parts = urlsplit(url)
    if parts.scheme == "http":
        raise ConfigError(
            _(
                "The server address must start with https://. Plain http:// would send your "
                "password and the congregation's media unencrypted, so congsync refuses it."
            )
        )
    if parts.scheme != "https" or not parts.netloc:
        raise ConfigError(
            _(
                "“{url}” is not a server address; it should look like https://example.org/dav/."
            ).format(url=url)
        )
    if parts.query or parts.fragment:
        raise ConfigError(_("The server address must not contain “?” or “#”."))


def load_config(path: Path) -> Config:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            _(
                "congsync is not set up yet ({path} does not exist). Run “congsync setup” first."
            ).format(path=path)
        ) from None
    except OSError as exc:
        raise ConfigError(
            _("The configuration {path} cannot be read: {reason}.").format(
                path=path, reason=exc.strerror or exc
            )
        ) from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            _("The configuration {path} is not valid TOML: {reason}.").format(path=path, reason=exc)
        ) from exc
    return Config.from_toml(data)


def save_config(path: Path, config: Config) -> None:
    """Write atomically so a crash never leaves half a configuration behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(b"# congsync configuration. The password is not here: it is in the OS keyring.\n")
        tomli_w.dump(config.to_toml(), fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


@dataclass
class Profile:
    """One congregation on this computer: its paths and configuration (no global singletons).

    `password` is one given for this run only (CONGSYNC_PASSWORD, a test); it is never stored.
    """

    paths: Paths
    _config: Config | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> Profile:
        """The profile the command line names (CONGSYNC_CONFIG, CONGSYNC_STATE_DIR, …)."""
        return cls(paths=default_paths(env), password=env.get(PASSWORD_VARIABLE) or None)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.paths.config_file)
        return self._config

    def reload(self) -> Config:
        self._config = None
        return self.config

    def save(self, config: Config) -> None:
        save_config(self.paths.config_file, config)
        self._config = config
