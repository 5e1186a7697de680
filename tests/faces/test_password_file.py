"""A computer without a keyring (a server under systemd): the password from a file only its owner
can read, or from a systemd credential, through the command line against the real test server."""

from __future__ import annotations

import os
import sys
from datetime import date, timedelta
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest
from davserver import DavFixture
from memory_keyring import MemoryKeyring
from support import write_prefs
from test_cli import run_cli, setup_args

from daemon.config import Config, Profile
from daemon.credentials import store_password
from daemon.errors import CredentialsError, ExitCode

CREDENTIAL_NAME = "congsync-password"  # the name README and a unit's LoadCredential= use
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file permissions")
TOMORROW = (date.today() + timedelta(days=1)).isoformat()


def password_file(path: Path, content: str, mode: int = 0o600) -> Path:
    path.write_text(content, encoding="utf-8")
    path.chmod(mode)
    return path


def configure(dav: DavFixture, tmp_path: Path) -> Config:
    """A saved configuration for the test server, and media waiting on it; no password anywhere."""
    write_prefs(dav)
    dav.put_file(f"Media/{TOMORROW}/talk.jpg", b"talk")
    config = Config(
        url=dav.base_url,
        username=dav.username,
        folder=dav.folder,
        media_dir=tmp_path / "media",
        ca_bundle=dav.ca_path,
    )
    Profile.from_environment(os.environ).save(config)
    return config


def synced(tmp_path: Path) -> bool:
    return (tmp_path / "media" / TOMORROW / "talk.jpg").is_file()


def test_sync_reads_the_password_from_a_private_file(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    configure(dav, tmp_path)
    secret = password_file(tmp_path / "password", dav.password + "\n")  # as `echo` writes it

    code, out, err = run_cli(monkeypatch, ["sync", "--password-file", str(secret)])

    assert code == 0, err
    assert synced(tmp_path)
    assert dav.password not in out + err


@posix_only
def test_a_password_file_others_can_read_is_refused(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    configure(dav, tmp_path)
    secret = password_file(tmp_path / "password", dav.password, mode=0o644)
    monkeypatch.setenv("CONGSYNC_PASSWORD_FILE", str(secret))

    code, out, err = run_cli(monkeypatch, ["sync"])

    assert code == ExitCode.AUTH
    assert str(secret) in err and "other users" in err and "chmod 600" in err
    assert dav.password not in out + err
    assert dav.faults.requests == []  # refused before anything was sent
    assert not synced(tmp_path)


def test_a_systemd_credential_supplies_the_password(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    configure(dav, tmp_path)
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    password_file(credentials / CREDENTIAL_NAME, dav.password, mode=0o400)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))

    code, _out, err = run_cli(monkeypatch, ["sync"])

    assert code == 0, err
    assert synced(tmp_path)


def test_without_a_keyring_the_error_names_the_password_file_and_the_credential(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    configure(dav, tmp_path)
    keyring.set_keyring(keyring.backends.fail.Keyring())

    code, _out, err = run_cli(monkeypatch, ["sync"])

    assert code == ExitCode.AUTH
    assert "--password-file" in err and "CONGSYNC_PASSWORD_FILE" in err
    assert f"LoadCredential={CREDENTIAL_NAME}:" in err
    assert "CONGSYNC_PASSWORD" in err


def test_setup_with_a_password_file_works_without_a_keyring_and_stores_nothing(
    dav: DavFixture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    keyring.set_keyring(keyring.backends.fail.Keyring())
    write_prefs(dav)
    dav.put_file(f"Media/{TOMORROW}/talk.jpg", b"talk")
    secret = password_file(tmp_path / "password", dav.password + "\n")
    args = [a for a in setup_args(dav, tmp_path) if a != "--password-stdin"]

    code, out, err = run_cli(monkeypatch, [*args, "--password-file", str(secret)])

    assert code == 0, err
    assert "The connection works" in out and str(secret) in out
    assert dav.password not in Path(os.environ["CONGSYNC_CONFIG"]).read_text()
    # The configuration remembers the file: later runs need no flag (a systemd unit, autostart).
    code, _out, err = run_cli(monkeypatch, ["sync"])
    assert code == 0, err
    assert synced(tmp_path)


@posix_only
def test_setup_refuses_a_password_file_others_can_read(
    dav: DavFixture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    isolated_environment: MemoryKeyring,
):
    secret = password_file(tmp_path / "password", dav.password, mode=0o640)
    args = [a for a in setup_args(dav, tmp_path) if a != "--password-stdin"]

    code, _out, err = run_cli(monkeypatch, [*args, "--password-file", str(secret)])

    assert code == ExitCode.AUTH
    assert "other users" in err
    assert not Path(os.environ["CONGSYNC_CONFIG"]).exists()
    assert isolated_environment.passwords == {}


def test_the_first_place_with_a_password_wins(
    dav: DavFixture, tmp_path: Path, isolated_environment: MemoryKeyring
):
    from daemon.credentials import password_for  # new with the password file

    config = configure(dav, tmp_path)
    store_password(config, "from-keyring")
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    password_file(credentials / CREDENTIAL_NAME, "from-systemd")
    file = password_file(tmp_path / "password", "from-file\r\n")
    env = {
        "CONGSYNC_CONFIG": os.environ["CONGSYNC_CONFIG"],
        "CONGSYNC_STATE_DIR": os.environ["CONGSYNC_STATE_DIR"],
    }

    def password(**extra: str) -> str:
        return password_for(Profile.from_environment({**env, **extra}))

    assert password() == "from-keyring"
    assert password(CREDENTIALS_DIRECTORY=str(credentials)) == "from-systemd"
    both = {"CREDENTIALS_DIRECTORY": str(credentials), "CONGSYNC_PASSWORD_FILE": str(file)}
    assert password(**both) == "from-file"  # exactly one trailing newline taken off
    assert password(**both, CONGSYNC_PASSWORD="for-one-run") == "for-one-run"
    # The --password-file flag names another file than the variable: the flag wins.
    flag = password_file(tmp_path / "other", "from-flag\n\n")
    profile = Profile.from_environment({**env, **both}, password_file=str(flag))
    assert password_for(profile) == "from-flag\n"
    # A systemd credentials folder without congsync's credential is no error: the keyring.
    assert password(CREDENTIALS_DIRECTORY=str(tmp_path)) == "from-keyring"


def test_a_missing_or_empty_password_file_is_named(tmp_path: Path):
    from daemon.credentials import password_for  # new with the password file

    env = {"CONGSYNC_CONFIG": os.environ["CONGSYNC_CONFIG"]}
    missing = Profile.from_environment(env, password_file=str(tmp_path / "nope"))
    empty = Profile.from_environment(env, password_file=str(password_file(tmp_path / "e", "\n")))

    with pytest.raises(CredentialsError, match=r"nope.*cannot be read"):
        password_for(missing)
    with pytest.raises(CredentialsError, match="is empty"):
        password_for(empty)
