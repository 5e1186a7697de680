"""The accounts of `congsync serve`: names, roles and argon2 hashes in a TOML file, never a password.

The file lives beside the served folder (never inside it, where it would be served) and is
readable by its owner only. The running server re-reads it when it changes, so `congsync serve
user add` takes effect without a restart.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import re
import secrets
import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path

import tomli_w
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from daemon.errors import AccountsError
from daemon.i18n import fact
from daemon.server.webdav import write_private

ORGANIZER = "organizer"
MEMBER = "member"
ROLES = (ORGANIZER, MEMBER)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_HASHER = PasswordHasher()  # argon2id with the library's current recommended costs


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    password_hash: str

    @property
    def can_write(self) -> bool:
        return self.role == ORGANIZER


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise AccountsError(
            fact(
                "“{name}” cannot be an account name: use up to 64 letters, digits, dots, "
                "dashes, underscores or @, starting with a letter or digit.",
                name=name,
            )
        )
    return name


def load_accounts(path: Path) -> dict[str, Account]:
    """The accounts in `path`; a missing file is no accounts."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise AccountsError(
            fact("The accounts file {path} cannot be read: {reason}", path=path, reason=exc)
        ) from exc
    accounts: dict[str, Account] = {}
    users = data.get("users", {})
    if not isinstance(users, dict):
        raise AccountsError(fact("The accounts file {path} is damaged.", path=path))
    for name, entry in users.items():
        if (
            not isinstance(entry, dict)
            or entry.get("role") not in ROLES
            or not str(entry.get("hash", "")).startswith("$argon2")
        ):
            raise AccountsError(
                fact("The account “{name}” in {path} is damaged.", name=name, path=path)
            )
        accounts[name] = Account(name, str(entry["role"]), str(entry["hash"]))
    return accounts


def save_accounts(path: Path, accounts: dict[str, Account]) -> None:
    """Write the file whole (a private temporary file, then renamed over the old one)."""
    data = {
        "users": {
            a.name: {"role": a.role, "hash": a.password_hash}
            for a in sorted(accounts.values(), key=lambda a: a.name)
        }
    }
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    write_private(staging, tomli_w.dumps(data).encode("utf-8"))
    os.replace(staging, path)


def add_account(path: Path, name: str, role: str, password: str) -> bool:
    """Add or replace an account; True if it replaced one of that name."""
    check_name(name)
    if role not in ROLES:
        raise AccountsError(fact("The role must be “member” or “organizer”."))
    if not password:
        raise AccountsError(fact("The password is empty."))
    accounts = load_accounts(path)
    replaced = name in accounts
    accounts[name] = Account(name, role, _HASHER.hash(password))
    save_accounts(path, accounts)
    return replaced


def remove_account(path: Path, name: str) -> None:
    accounts = load_accounts(path)
    if name not in accounts:
        raise AccountsError(fact("There is no account “{name}” in {path}.", name=name, path=path))
    del accounts[name]
    save_accounts(path, accounts)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return bool(_HASHER.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _no_such_account_hash() -> str:
    return _HASHER.hash(secrets.token_urlsafe(16))


class AccountStore:
    """The accounts as the running server checks them, re-read whenever the file changes.

    argon2 is slow by design and Basic auth sends the password with every request, so a
    verified (name, password) pair is remembered as a keyed digest (never the password) until
    the file changes.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._accounts: dict[str, Account] = {}
        self._key = secrets.token_bytes(32)
        self._verified: dict[str, bytes] = {}
        self._refresh()

    def _refresh(self) -> None:
        try:
            st = self.path.stat()
            stamp: tuple[int, int, int] | None = (st.st_ino, st.st_size, st.st_mtime_ns)
        except FileNotFoundError:
            stamp = None
        if stamp == self._stamp and self._stamp is not None:
            return
        self._accounts = load_accounts(self.path)
        self._verified.clear()
        self._stamp = stamp

    def names(self) -> list[str]:
        with self._lock:
            self._refresh()
            return sorted(self._accounts)

    def authenticate(self, name: str, password: str) -> Account | None:
        """The account if `password` is its password, else None."""
        with self._lock:
            try:
                self._refresh()
            except AccountsError:
                return None  # a damaged file lets nobody in until it is mended
            account = self._accounts.get(name)
        if account is None:
            # As slow as a wrong password, so the time taken does not tell which names exist.
            _verify(_no_such_account_hash(), password)
            return None
        # Keyed by the hash too: a check under way while the password changed must not leave
        # the old password remembered as good for the new hash.
        message = account.password_hash.encode("utf-8") + b"\0" + password.encode("utf-8")
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        with self._lock:
            known = self._verified.get(name)
            if known is not None and hmac.compare_digest(known, digest):
                return account
        if not _verify(account.password_hash, password):
            return None
        with self._lock:
            self._verified[name] = digest
        return account
