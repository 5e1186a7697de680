"""Small things a volunteer notices at the command line: exit codes, times, pipes, plain messages.

Real `congsync` processes (and a real `congsync run --no-tray` daemon) against the real TLS server.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from davserver import DavFixture
from installation import TOMORROW, Installation
from test_publish_cli import cli, organizer  # noqa: F401 - a fixture, used by name

from daemon.errors import ExitCode


@pytest.fixture
def installation(dav: DavFixture, tmp_path: Path) -> Iterator[Installation]:
    inst = Installation(dav, tmp_path / "inst")
    yield inst
    inst.close()


def test_a_sync_handed_to_the_daemon_ends_with_the_one_shot_code_for_a_wrong_password(
    installation: Installation,
):
    installation.env["CONGSYNC_PASSWORD"] = "wrong-password"
    one_shot = installation.cli("sync")
    assert one_shot.returncode == ExitCode.AUTH, one_shot.stderr

    installation.start("--interval", "3600")
    installation.wait_state("error")
    handed = installation.cli("sync")

    assert handed.returncode == one_shot.returncode, handed.stderr
    assert "password" in handed.stderr


def test_status_says_times_in_local_time_and_words(installation: Installation):
    zone = "Asia/Kathmandu"  # UTC+05:45: neither the hour nor the minute is UTC's
    installation.env["TZ"] = zone
    installation.start("--interval", "3600")
    installation.wait_state("idle")
    assert installation.cli("pause", "--for", "2h").returncode == 0
    facts = installation.wait_state("paused")

    shown = installation.cli("status")

    assert shown.returncode == 0, shown.stderr
    local = ZoneInfo(zone)
    last = datetime.fromisoformat(facts["last_sync_at"]).astimezone(local)
    until = datetime.fromisoformat(facts["paused_until"]).astimezone(local)
    assert re.search(rf"Last sync: (today|yesterday) at {last:%H:%M}\n", shown.stdout)
    assert re.search(rf"paused until (today|tomorrow) at {until:%H:%M}\.", shown.stdout)
    assert not re.search(r"\d\d:\d\d:\d\d", shown.stdout)  # no ISO 8601 moment left
    json_facts = installation.status()
    assert json_facts["paused_until"] == facts["paused_until"]  # --json keeps ISO 8601


def test_status_while_paused_says_how_to_resume_in_a_terminal(installation: Installation):
    installation.start("--interval", "3600")
    installation.wait_state("idle")
    assert installation.cli("pause").returncode == 0
    installation.wait_state("paused")

    shown = installation.cli("status")

    assert shown.returncode == 0, shown.stderr
    assert "Choose" not in shown.stdout
    assert "congsync resume" in shown.stdout


def test_a_pipe_closed_early_ends_the_command_without_a_traceback(installation: Installation):
    process = subprocess.Popen(
        [sys.executable, "-m", "daemon", "status"],
        env=installation.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    process.stdout.close()  # like `congsync status | head -1`, before congsync has written
    _out, err = process.communicate(timeout=60)

    assert "Traceback" not in err
    assert "BrokenPipeError" not in err
    assert process.returncode == 141  # 128 + SIGPIPE, as the shell reports a closed pipe


@pytest.mark.usefixtures("organizer")
def test_settings_show_right_after_settings_push_shows_the_new_value(
    monkeypatch: pytest.MonkeyPatch,
):
    assert cli(monkeypatch, "sync")[0] == 0  # the cache now holds the old settings
    code, _out, err = cli(monkeypatch, "settings", "push", "meeting.mwDay=3")
    assert code == 0, err

    code, out, err = cli(monkeypatch, "settings", "show")

    assert code == 0, err
    assert "mw_day = 3  (set by the congregation" in out


@pytest.mark.usefixtures("organizer")
def test_unhide_of_something_not_hidden_is_a_plain_message(
    dav: DavFixture, monkeypatch: pytest.MonkeyPatch
):
    dav.put_file(f"Media/{TOMORROW}/talk.mp4", b"talk")

    code, out, err = cli(monkeypatch, "unhide", TOMORROW, "talk.mp4")

    assert code == 0, err
    assert err == ""
    assert f"talk.mp4 is not hidden at the meeting on {TOMORROW}." in out
