"""Where the password lives: the OS keyring, or what the profile names instead.

The first of these that has a password is used:
  1. CONGSYNC_PASSWORD, for one run (automation, tests);
  2. a password file: --password-file, CONGSYNC_PASSWORD_FILE, or the `password_file` setting
     `congsync setup --password-file` saves (a computer without a keyring); only its owner may
     read it, and one trailing newline is not part of the password;
  3. the systemd credential `congsync-password` ($CREDENTIALS_DIRECTORY/congsync-password, from
     `LoadCredential=congsync-password:/path/to/file` in the service); systemd keeps it private;
  4. the OS keyring, where `congsync setup` stores it.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import keyring
import keyring.errors

from daemon.config import PASSWORD_FILE_VARIABLE, PASSWORD_VARIABLE, Config, Profile
from daemon.errors import CredentialsError
from daemon.i18n import fact

SERVICE = "congsync"
ENV_VAR = PASSWORD_VARIABLE
FILE_ENV_VAR = PASSWORD_FILE_VARIABLE
# The systemd credential's name: LoadCredential=congsync-password:/etc/congsync/password
CREDENTIAL_NAME = "congsync-password"


class Origin(Enum):
    """Where a password given outside the keyring came from."""

    ENVIRONMENT = "environment"
    FILE = "file"
    SYSTEMD = "systemd"


@dataclass(frozen=True)
class SuppliedPassword:
    """A password given outside the keyring, and where from (`path` for a file)."""

    password: str = field(repr=False)
    origin: Origin
    path: Path | None = None


def password_for(profile: Profile) -> str:
    """The password for the profile's server, from the first place that has one (see above)."""
    supplied = supplied_password(profile)
    return supplied.password if supplied is not None else get_password(profile.config)


def supplied_password(profile: Profile) -> SuppliedPassword | None:
    """The password given outside the keyring (environment, file, systemd), or None."""
    if profile.password:
        return SuppliedPassword(profile.password, Origin.ENVIRONMENT)
    return file_password(profile)


def file_password(profile: Profile) -> SuppliedPassword | None:
    """The password from the profile's password file or its systemd credential, or None.

    A password file that is missing, empty or readable by others is an error (it was asked
    for); a systemd credentials folder without `congsync-password` is not (other credentials).
    """
    path = profile.password_file or _configured_file(profile)
    if path is not None:
        return SuppliedPassword(_read_password_file(path, private=True), Origin.FILE, path)
    if profile.credentials_dir is not None:
        path = profile.credentials_dir / CREDENTIAL_NAME
        if path.is_file():
            return SuppliedPassword(_read_password_file(path, private=False), Origin.SYSTEMD, path)
    return None


def _configured_file(profile: Profile) -> Path | None:
    if not profile.paths.config_file.exists():
        return None  # not set up yet (setup itself names its file)
    return profile.config.password_file


def _read_password_file(path: Path, *, private: bool) -> str:
    try:
        with open(path, "rb") as fh:
            mode = os.fstat(fh.fileno()).st_mode
            if private and os.name == "posix" and mode & (stat.S_IRGRP | stat.S_IROTH):
                raise CredentialsError(
                    fact(
                        "The password file {path} can be read by other users (its permissions "
                        "are {mode}), so congsync does not use it. Make it private with "
                        "“chmod 600 {path}”.",
                        path=path,
                        mode=stat.filemode(mode),
                    )
                )
            raw = fh.read()
    except OSError as exc:
        raise CredentialsError(
            fact(
                "The password file {path} cannot be read: {reason}.",
                path=path,
                reason=exc.strerror or exc,
            )
        ) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CredentialsError(
            fact("The password file {path} is not UTF-8 text.", path=path)
        ) from None
    # One trailing newline (as editors and `echo` leave) is not part of the password.
    if text.endswith("\n"):
        text = text[:-1].removesuffix("\r")
    if not text:
        raise CredentialsError(fact("The password file {path} is empty.", path=path))
    return text


def _account(config: Config) -> str:
    return f"{config.username}@{config.host}"


def get_password(config: Config) -> str:
    """The stored password; CredentialsError (naming both ways out) when there is none."""
    try:
        stored = keyring.get_password(SERVICE, _account(config))
    except keyring.errors.KeyringError as exc:
        raise CredentialsError(
            fact(
                "No password is available: the OS keyring cannot be used ({reason}). On a "
                "computer without a keyring (a server), put the password in a file only you can "
                "read and name it with --password-file FILE or the {file_env} environment "
                "variable, or, in a systemd service, give it as the credential {credential} "
                "(LoadCredential={credential}:FILE); {env} supplies it for one run. Or set up a "
                "keyring (on Linux, a Secret Service such as GNOME Keyring or KWallet) and run "
                "“congsync setup” again.",
                reason=exc,
                env=ENV_VAR,
                file_env=FILE_ENV_VAR,
                credential=CREDENTIAL_NAME,
            )
        ) from exc
    if not stored:
        raise CredentialsError(
            fact(
                "No password is stored for {account}. Run “congsync setup” to store it in the OS "
                "keyring, or set the {env} environment variable for this run.",
                account=_account(config),
                env=ENV_VAR,
            )
        )
    return stored


def store_password(config: Config, password: str) -> None:
    try:
        keyring.set_password(SERVICE, _account(config), password)
        # Some backends (the "null" one, a locked store) accept a password and keep nothing.
        stored = keyring.get_password(SERVICE, _account(config))
    except keyring.errors.KeyringError as exc:
        raise CredentialsError(
            fact(
                "The password cannot be stored: the OS keyring is not available ({reason}). "
                "congsync never writes passwords into files itself. Install and unlock a keyring "
                "(on Linux, GNOME Keyring or KWallet), or put the password in a file only you "
                "can read and give it to setup and every run with --password-file FILE (or "
                "{file_env}), or supply it for each run with the {env} environment variable.",
                reason=exc,
                env=ENV_VAR,
                file_env=FILE_ENV_VAR,
            )
        ) from exc
    if stored != password:
        raise CredentialsError(
            fact(
                "The OS keyring accepted the password but does not give it back, so it was not "
                "stored. Check that the keyring is unlocked, or supply the password for each run "
                "with the {env} environment variable.",
                env=ENV_VAR,
            )
        )


def forget_password(config: Config) -> None:
    try:
        keyring.delete_password(SERVICE, _account(config))
    except keyring.errors.PasswordDeleteError:
        pass  # nothing stored: nothing to forget
    except keyring.errors.KeyringError as exc:
        raise CredentialsError(
            fact("The password cannot be removed from the OS keyring: {reason}.", reason=exc)
        ) from exc
