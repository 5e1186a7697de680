"""The settings file (TOML), its validation, and the profile object everything else hangs off."""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import urlsplit

import tomli_w

from daemon.errors import ConfigError, RoleError
from daemon.i18n import SUPPORTED_LANGUAGES, fact
from daemon.paths import Paths, default_paths

ROLES = ("member", "organizer")
# Supplies the password for one run instead of the keyring (automation, tests).
PASSWORD_VARIABLE = "CONGSYNC_PASSWORD"  # noqa: S105 - the variable's name, not a password
# Names a file holding the password (computers without a keyring: servers, systemd services).
PASSWORD_FILE_VARIABLE = "CONGSYNC_PASSWORD_FILE"  # noqa: S105 - a variable's name
# Set by systemd for a service with LoadCredential= (see credentials.CREDENTIAL_NAME).
CREDENTIALS_DIRECTORY_VARIABLE = "CREDENTIALS_DIRECTORY"


@dataclass(frozen=True)
class Config:
    """What the user configured on this computer. Never holds the password."""

    url: str  # the WebDAV server, https://host[:port]/[base path]
    username: str
    folder: str  # the congregation folder, relative to `url`
    media_dir: Path
    role: str = "member"
    organizer_dir: Path | None = None
    # organizer: Meeting Media Manager's media auto-export folder, published one way (read only)
    export_dir: Path | None = None
    ca_bundle: Path | None = None  # extra CA to trust (self-hosted servers); verification stays on
    # The SHA-256 fingerprint of the one certificate to trust (`congsync serve`'s self-signed one)
    pin_sha256: str | None = None
    weeks_ahead: int = 2
    interval: int = 60  # seconds between polls of the running daemon
    transfers: int = 3  # parallel downloads
    max_rate: str = "0"  # bandwidth limit for all transfers, e.g. "2MB/s"; "0" or "" = none
    keep_days: int = 7  # organizer: server date folders older than this are cleaned up
    notifications: bool = True
    # the language congsync speaks: one of i18n.SUPPORTED_LANGUAGES, or "" for the system's
    language: str = ""
    convert: bool = True  # PDF pages, SVG and HEIC photos become images M³ can show
    # Local fallbacks when the congregation's forcedPrefs.json does not say (0 = Monday … 6 = Sunday)
    mw_day: int | None = None
    we_day: int | None = None
    # A computer without a keyring: the private file setup was given the password in
    password_file: Path | None = None

    def __post_init__(self) -> None:
        validate_url(self.url)
        if self.role not in ROLES:
            raise ConfigError(
                fact("The role must be “member” or “organizer”, not “{role}”.", role=self.role)
            )
        if self.role == "organizer" and self.organizer_dir is None:
            raise ConfigError(fact("An organizer needs an organizer folder (--organizer-dir)."))
        if self.role != "organizer" and self.export_dir is not None:
            raise ConfigError(
                fact(
                    "Only an organizer publishes from Meeting Media Manager's export folder "
                    "(--export-dir); a member's computer receives the media."
                )
            )
        for name, low, high in (
            ("weeks_ahead", 1, 8),
            ("interval", 10, 86400),
            ("transfers", 1, 8),
            ("keep_days", 0, 365),
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or not low <= value <= high:
                raise ConfigError(
                    fact(
                        "The setting {name} must be a whole number from {low} to {high}.",
                        name=name,
                        low=low,
                        high=high,
                    )
                )
        for name in ("mw_day", "we_day"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or not 0 <= value <= 6):
                raise ConfigError(
                    fact(
                        "The setting {name} must be a day from 0 (Monday) to 6 (Sunday).", name=name
                    )
                )
        if self.language != "" and self.language not in SUPPORTED_LANGUAGES:
            raise ConfigError(
                fact(
                    "The setting language must be one of {known}, or empty for the system's language, not “{value}”.",
                    known=", ".join(SUPPORTED_LANGUAGES),
                    value=self.language,
                )
            )
        if not self.username:
            raise ConfigError(fact("The username is empty."))
        if self.pin_sha256 is not None:
            object.__setattr__(self, "pin_sha256", normalise_pin(self.pin_sha256))

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
                fact(
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
                fact(
                    "The configuration has settings congsync does not know: {names}.",
                    names=", ".join(unknown),
                )
            )
        for required in ("url", "username", "folder", "media_dir"):
            if required not in data:
                raise ConfigError(
                    fact("The configuration lacks the setting “{name}”.", name=required)
                )
        values: dict[str, Any] = dict(data)
        for key in ("media_dir", "organizer_dir", "export_dir", "ca_bundle", "password_file"):
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
            fact(
                "The server address must start with https://. Plain http:// would send your "
                "password and the congregation's media unencrypted, so congsync refuses it."
            )
        )
    if parts.scheme != "https" or not parts.netloc:
        raise ConfigError(
            fact(
                "“{url}” is not a server address; it should look like https://example.org/dav/.",
                url=url,
            )
        )
    if parts.query or parts.fragment:
        raise ConfigError(fact("The server address must not contain “?” or “#”."))


_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def normalise_pin(text: str) -> str:
    """64 lowercase hex digits from `AB:CD:…`, `ab cd …` or `abcd…`; anything else is refused."""
    clean = re.sub(r"[\s:]", "", text).lower()
    if clean.startswith("sha256/") or clean.startswith("sha256="):
        clean = clean[7:]
    if not _SHA256_HEX.match(clean):
        raise ConfigError(
            fact(
                "“{pin}” is not a SHA-256 fingerprint: it should be 64 hexadecimal digits "
                "(0-9, a-f), as “congsync serve” prints them, with or without colons.",
                pin=text,
            )
        )
    return clean


# Windows and macOS file systems ignore case by default: "Media" and "media" are one folder.
_CASE_INSENSITIVE = sys.platform in ("win32", "darwin")


def _folder_key(path: Path) -> tuple[str, ...]:
    """The folder as the file system sees it: `~`, relative parts and symbolic links resolved."""
    resolved = os.path.realpath(os.path.expanduser(path))
    return PurePath(resolved.casefold() if _CASE_INSENSITIVE else resolved).parts


def _overlap(a: Path, b: Path) -> bool:
    """The same folder, or one inside the other."""
    key_a, key_b = _folder_key(a), _folder_key(b)
    shorter = min(len(key_a), len(key_b))
    return key_a[:shorter] == key_b[:shorter]


# M³ persists its per-congregation settings (mediaAutoExportFolder among them) in the
# localStorage of its window ("congregation-settings", src/stores/congregation-settings.ts),
# which Chromium keeps as LevelDB files in <data folder>/Local Storage/leveldb/. Values are
# stored as Latin-1 or UTF-16LE text; recently written ones sit uncompressed in the .log file,
# older ones may be compressed inside .ldb tables. Reading the key out of the raw bytes is best
# effort: an export folder found is certain, one not found may still exist.
_EXPORT_SETTING = re.compile(r'"mediaAutoExportFolder"\s*:\s*("(?:[^"\\]|\\.)*")')
_MAX_SCANNED_BYTES = 64 * 1024 * 1024


def m3_export_folders(data_dir: Path) -> set[Path]:
    """The media auto-export folders M³'s settings in `data_dir` name (best effort, see above)."""
    found: set[Path] = set()
    storage = data_dir / "Local Storage" / "leveldb"
    try:
        candidates = [p for p in storage.iterdir() if p.suffix in (".log", ".ldb")]
    except OSError:
        return found
    for candidate in candidates:
        try:
            st = candidate.stat()
        except OSError:
            continue
        if st.st_size <= _MAX_SCANNED_BYTES:
            # Every command loads the configuration: a file is read again only once it changed.
            found.update(_export_settings_in(candidate, st.st_mtime_ns, st.st_size))
    return found


_EXPORT_KEY = "mediaAutoExportFolder"


@functools.lru_cache(maxsize=64)
def _export_settings_in(path: Path, mtime_ns: int, size: int) -> frozenset[Path]:
    try:
        data = path.read_bytes()
    except OSError:
        return frozenset()
    texts: list[str] = []
    if _EXPORT_KEY.encode("latin-1") in data:
        texts.append(data.decode("latin-1"))
    if _EXPORT_KEY.encode("utf-16-le") in data:
        # UTF-16LE text starting at an even or an odd byte.
        texts += [data[offset:].decode("utf-16-le", errors="replace") for offset in (0, 1)]
    found: set[Path] = set()
    for text in texts:
        for match in _EXPORT_SETTING.finditer(text):
            try:
                value = json.loads(match.group(1))
            except ValueError:
                continue
            if isinstance(value, str) and value.strip():
                found.add(Path(value).expanduser())
    return frozenset(found)


def _profile_folders(config: Config) -> Iterator[tuple[str, Path]]:
    yield "media_dir", config.media_dir
    if config.organizer_dir is not None:
        yield "organizer_dir", config.organizer_dir


def check_folders(config: Config, paths: Paths) -> None:
    """Refuse folders that overlap one another, congsync's state or Meeting Media Manager's own.

    Run when a configuration is loaded (every command, the daemon's start) and before one is
    saved (setup, settings set), so that no sync ever starts with such folders.
    """
    if config.organizer_dir is not None and _overlap(config.media_dir, config.organizer_dir):
        raise ConfigError(
            fact(
                "The media folder {media} and the organizer folder {organizer} are the same "
                "folder, or one is inside the other. congsync would upload what it downloads and "
                "download what it uploads without end, and recurring media would reach every "
                "member as media of one meeting. Choose two separate folders.",
                media=config.media_dir,
                organizer=config.organizer_dir,
            )
        )
    for setting, folder in _profile_folders(config):
        for own in (paths.state_dir, paths.log_dir):
            if _overlap(folder, own):
                raise ConfigError(
                    fact(
                        "The folder {folder} ({setting}) and congsync's own folder {own} are the "
                        "same folder, or one is inside the other. congsync keeps its journal, "
                        "logs and temporary files there, and media synced into it would be mixed "
                        "up with them. Choose another folder.",
                        folder=folder,
                        setting=setting,
                        own=own,
                    )
                )
    if config.export_dir is not None:
        check_export_dir(config, config.export_dir, paths)
    existing = [d for d in paths.m3_data_dirs if d.is_dir()]
    for setting, folder in _profile_folders(config):
        for data_dir in existing:
            if _overlap(folder, data_dir):
                raise ConfigError(
                    fact(
                        "The folder {folder} ({setting}) and Meeting Media Manager's data folder "
                        "{m3} are the same folder, or one is inside the other. Meeting Media "
                        "Manager keeps its own files there and changes or deletes them as it "
                        "needs. Choose a folder of its own, and name it in Meeting Media "
                        "Manager's “folder to watch” setting.",
                        folder=folder,
                        setting=setting,
                        m3=data_dir,
                    )
                )
    exports = {export for data_dir in existing for export in m3_export_folders(data_dir)}
    for setting, folder in _profile_folders(config):
        for export in sorted(exports):
            if _overlap(folder, export):
                raise ConfigError(
                    fact(
                        "The folder {folder} ({setting}) and Meeting Media Manager's media "
                        "auto-export folder {export} are the same folder, or one is inside the "
                        "other. Meeting Media Manager deletes every file in its export folder "
                        "that it did not put there itself. Choose another folder.",
                        folder=folder,
                        setting=setting,
                        export=export,
                    )
                )


def check_export_dir(config: Config, export: Path, paths: Paths) -> None:
    """The export folder is M³'s alone: it never overlaps a folder congsync writes into."""
    if _overlap(export, config.media_dir):
        raise ConfigError(
            fact(
                "The export folder {export} and the media folder {media} are the same folder, "
                "or one is inside the other. Meeting Media Manager deletes every file in its "
                "export folder that it did not put there itself, so it would delete the media "
                "congsync downloads. Choose two separate folders.",
                export=export,
                media=config.media_dir,
            )
        )
    if config.organizer_dir is not None and _overlap(export, config.organizer_dir):
        raise ConfigError(
            fact(
                "The export folder {export} and the organizer folder {organizer} are the same "
                "folder, or one is inside the other. Meeting Media Manager deletes every file in "
                "its export folder that it did not put there itself, and congsync would publish "
                "the same media twice. Choose two separate folders.",
                export=export,
                organizer=config.organizer_dir,
            )
        )
    if _overlap(export, paths.state_dir):
        raise ConfigError(
            fact(
                "The export folder {export} and congsync's state folder {own} are the same "
                "folder, or one is inside the other. Meeting Media Manager would delete "
                "congsync's journal there. Choose another folder.",
                export=export,
                own=paths.state_dir,
            )
        )
    if _overlap(export, paths.log_dir):
        raise ConfigError(
            fact(
                "The export folder {export} and congsync's log folder {own} are the same "
                "folder, or one is inside the other. Meeting Media Manager would delete "
                "congsync's logs there. Choose another folder.",
                export=export,
                own=paths.log_dir,
            )
        )


def load_config(path: Path) -> Config:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            fact(
                "congsync is not set up yet ({path} does not exist). Run “congsync setup” first.",
                path=path,
            )
        ) from None
    except OSError as exc:
        raise ConfigError(
            fact(
                "The configuration {path} cannot be read: {reason}.",
                path=path,
                reason=exc.strerror or exc,
            )
        ) from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            fact("The configuration {path} is not valid TOML: {reason}.", path=path, reason=exc)
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
    `password_file` (--password-file, CONGSYNC_PASSWORD_FILE) and `credentials_dir` (systemd's
    CREDENTIALS_DIRECTORY) say where else to look before the keyring (see `credentials`).
    """

    paths: Paths
    _config: Config | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    password_file: Path | None = None
    credentials_dir: Path | None = None

    @classmethod
    def from_environment(
        cls, env: Mapping[str, str], *, password_file: str | None = None
    ) -> Profile:
        """The profile the command line names (CONGSYNC_CONFIG, CONGSYNC_STATE_DIR, …);
        `password_file` (the --password-file flag) wins over CONGSYNC_PASSWORD_FILE."""
        file = password_file or env.get(PASSWORD_FILE_VARIABLE)
        credentials = env.get(CREDENTIALS_DIRECTORY_VARIABLE)
        return cls(
            paths=default_paths(env),
            password=env.get(PASSWORD_VARIABLE) or None,
            password_file=Path(file).expanduser() if file else None,
            credentials_dir=Path(credentials) if credentials else None,
        )

    @property
    def config(self) -> Config:
        if self._config is None:
            config = load_config(self.paths.config_file)
            check_folders(config, self.paths)
            self._config = config
        return self._config

    def reload(self) -> Config:
        self._config = None
        return self.config

    def save(self, config: Config) -> None:
        check_folders(config, self.paths)
        save_config(self.paths.config_file, config)
        self._config = config
