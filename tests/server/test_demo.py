"""`congsync demo`: a sample congregation served over HTTPS on loopback and synced, offline."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
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
            if "congsync setup" in line:
                break
        assert any("--ca-bundle" in line for line in lines), "".join(lines)
        assert process.poll() is None
    finally:
        process.send_signal(signal.SIGINT)
        # communicate() keeps draining the pipes, so a chatty shutdown cannot block the child
        _out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert os.path.isdir(tmp_path / "demo" / "media")
