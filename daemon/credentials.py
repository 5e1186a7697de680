"""Where the password lives: the OS keyring (a password for one run comes with the profile)."""

from __future__ import annotations

import keyring
import keyring.errors

from daemon.config import PASSWORD_VARIABLE, Config
from daemon.errors import CredentialsError
from daemon.i18n import _

SERVICE = "congsync"
ENV_VAR = PASSWORD_VARIABLE


def _account(config: Config) -> str:
    return f"{config.username}@{config.host}"


def get_password(config: Config) -> str:
    """The stored password; CredentialsError (naming both ways out) when there is none."""
    try:
        stored = keyring.get_password(SERVICE, _account(config))
    except keyring.errors.KeyringError as exc:
        raise CredentialsError(
            _(
                "No password is available: the OS keyring cannot be used ({reason}). Set the "
                "{env} environment variable for this run, or set up a keyring (on Linux, a "
                "Secret Service such as GNOME Keyring or KWallet) and run “congsync setup” again."
            ).format(reason=exc, env=ENV_VAR)
        ) from exc
    if not stored:
        raise CredentialsError(
            _(
                "No password is stored for {account}. Run “congsync setup” to store it in the OS "
                "keyring, or set the {env} environment variable for this run."
            ).format(account=_account(config), env=ENV_VAR)
        )
    return stored


def store_password(config: Config, password: str) -> None:
    try:
        keyring.set_password(SERVICE, _account(config), password)
        # Some backends (the "null" one, a locked store) accept a password and keep nothing.
        stored = keyring.get_password(SERVICE, _account(config))
    except keyring.errors.KeyringError as exc:
        raise CredentialsError(
            _(
                "The password cannot be stored: the OS keyring is not available ({reason}). "
                "congsync does not keep passwords in plain files. Install and unlock a keyring "
                "(on Linux, GNOME Keyring or KWallet), or supply the password for each run with "
                "the {env} environment variable."
            ).format(reason=exc, env=ENV_VAR)
        ) from exc
    if stored != password:
        raise CredentialsError(
            _(
                "The OS keyring accepted the password but does not give it back, so it was not "
                "stored. Check that the keyring is unlocked, or supply the password for each run "
                "with the {env} environment variable."
            ).format(env=ENV_VAR)
        )


def forget_password(config: Config) -> None:
    try:
        keyring.delete_password(SERVICE, _account(config))
    except keyring.errors.PasswordDeleteError:
        pass  # nothing stored: nothing to forget
    except keyring.errors.KeyringError as exc:
        raise CredentialsError(
            _("The password cannot be removed from the OS keyring: {reason}.").format(reason=exc)
        ) from exc
