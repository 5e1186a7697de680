"""`congsync demo`: a sample congregation served over HTTPS on loopback and synced, offline."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from daemon.cli import main


def test_demo_syncs_the_sample_congregation_into_date_folders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    code = main(["demo", "--dir", str(tmp_path / "demo")])

    out = capsys.readouterr().out
    media = tmp_path / "demo" / "media"
    date_folders = [p for p in media.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert code == 0
    assert len(date_folders) >= 2
    assert all(any(f.name.startswith("Year text") for f in d.iterdir()) for d in date_folders)
    assert "hidden by the organizer" in out
    assert "Sync finished" in out
    hidden_line = next(line for line in out.splitlines() if "hidden by the organizer" in line)
    hidden_name = hidden_line.split("“")[1].split("”")[0]
    assert not list(media.rglob(hidden_name))
    # the unrelated file at the top of the server folder is left alone and not mirrored
    assert not list(media.rglob("custom-background-image*"))


def test_demo_keep_running_serves_until_interrupted(tmp_path: Path):
    process = subprocess.Popen(
        [sys.executable, "-m", "daemon", "demo", "--dir", str(tmp_path / "demo"), "--keep-running"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if "--ca-bundle" in line:
                break
        assert any("--ca-bundle" in line for line in lines), "".join(lines)
        assert process.poll() is None
    finally:
        process.send_signal(signal.SIGINT)
        # communicate() keeps draining the pipes, so a chatty shutdown cannot block the child
        _out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert os.path.isdir(tmp_path / "demo" / "media")


@pytest.mark.skipif(sys.platform == "win32", reason="the printed line is quoted for a POSIX shell")
def test_the_setup_command_the_demo_prints_works_as_printed(tmp_path: Path):
    demo_dir = tmp_path / "demo with spaces"
    process = subprocess.Popen(
        [sys.executable, "-m", "daemon", "demo", "--dir", str(demo_dir), "--keep-running"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "--ca-bundle" not in line:
            line = process.stdout.readline()
            assert line, "the demo ended before printing the setup command"
        # A real installation of its own: fresh configuration and state, an in-memory keyring.
        home = tmp_path / "real installation"
        env = dict(os.environ)
        env.pop("CONGSYNC_PASSWORD", None)
        env.update(
            CONGSYNC_CONFIG=str(home / "config.toml"),
            CONGSYNC_STATE_DIR=str(home / "state"),
            PYTHON_KEYRING_BACKEND="memory_keyring.MemoryKeyring",
            PYTHONPATH=os.pathsep.join(
                [str(Path(__file__).parent.parent), env.get("PYTHONPATH", "")]
            ),
        )
        setup = subprocess.run(
            shlex.split(line),
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)

    assert setup.returncode == 0, setup.stderr
    assert "The connection works" in setup.stdout
    saved = tomllib.loads((home / "config.toml").read_text())
    assert saved["media_dir"] == str(demo_dir / "my-media")
    assert saved["ca_bundle"] == str(demo_dir / "tls" / "ca.pem")
    password = (demo_dir / "password.txt").read_text().strip()
    assert password not in line  # the password is never on a command line


def test_the_demo_speaks_german_with_a_german_decimal_comma(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    env["LANG"] = "de_DE.UTF-8"
    done = subprocess.run(
        [sys.executable, "-m", "daemon", "demo", "--dir", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("Fertig nach ") and "," in last and "." not in last[:-1], last
