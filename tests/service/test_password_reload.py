"""A password changed on the server: the running daemon stops asking; `congsync setup` with the new
one reaches it at once and the next cycle runs, without a restart (real processes, real server)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from davserver import DavFixture
from file_keyring import file_keyring_env
from installation import TOMORROW, Installation, wait_until

NEW_PASSWORD = "n3w-pass-after-the-change"


@pytest.fixture
def installation(dav: DavFixture, tmp_path: Path) -> Iterator[Installation]:
    inst = Installation(dav, tmp_path / "inst")
    # Not for one run: the daemon uses the saved password, like an installed one.
    del inst.env["CONGSYNC_PASSWORD"]
    yield inst
    inst.close()


def setup(
    inst: Installation, dav: DavFixture, *extra: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    config = inst.member.profile.config
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "daemon",
            "setup",
            "--url",
            config.url,
            "--username",
            config.username,
            "--folder",
            config.folder,
            "--media-dir",
            str(config.media_dir),
            "--ca-bundle",
            str(dav.ca_path),
            *extra,
        ],
        env=inst.env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def lock_out(inst: Installation, dav: DavFixture) -> None:
    """Change the password on the server under the running daemon; wait until it stops asking."""
    inst.wait_state("idle")
    dav.change_password(NEW_PASSWORD)
    dav.put_file(f"Media/{TOMORROW}/after.jpg", b"after")
    inst.cli("sync")  # the next cycle, now rather than in an hour
    failed = inst.wait_state("error")
    assert "password" in failed["message"]["text"]
    assert not inst.member.files(TOMORROW)


def assert_syncing_again_without_a_restart(
    inst: Installation, daemon: subprocess.Popen[str]
) -> None:
    wait_until(lambda: inst.member.files(TOMORROW))
    assert inst.member.files(TOMORROW) == {"after.jpg": b"after"}
    assert inst.wait_state("idle")["message"] == ""
    assert daemon.poll() is None  # the same process all along
    assert inst.processes == [daemon]


def test_setup_with_the_new_password_reaches_the_running_daemon(
    dav: DavFixture, installation: Installation, tmp_path: Path
):
    installation.env.update(file_keyring_env(tmp_path / "keyring.json"))
    first = setup(installation, dav, "--password-stdin", stdin=dav.password + "\n")
    assert first.returncode == 0, first.stderr
    daemon = installation.start("--interval", "3600")
    lock_out(installation, dav)

    done = setup(installation, dav, "--password-stdin", stdin=NEW_PASSWORD + "\n")

    assert done.returncode == 0, done.stderr
    assert_syncing_again_without_a_restart(installation, daemon)
    assert "syncs now" in done.stdout


def test_a_headless_daemon_takes_a_new_password_file_from_setup(
    dav: DavFixture, installation: Installation, tmp_path: Path
):
    # No keyring at all (PYTHON_KEYRING_BACKEND is the failing one): a server under systemd.
    secret = tmp_path / "password"
    secret.write_text(dav.password + "\n", encoding="utf-8")
    secret.chmod(0o600)
    daemon = installation.start("--interval", "3600", "--password-file", str(secret))
    lock_out(installation, dav)

    secret.write_text(NEW_PASSWORD + "\n", encoding="utf-8")
    done = setup(installation, dav, "--password-file", str(secret))

    assert done.returncode == 0, done.stderr
    assert "not stored in the OS keyring" in done.stdout
    assert_syncing_again_without_a_restart(installation, daemon)
