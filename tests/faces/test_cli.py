"""The command line: setup, sync and status against the real test server, with exit codes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest
from davserver import DavFixture
from memory_keyring import MemoryKeyring
from support import write_prefs

from daemon.cli import main
from daemon.errors import ExitCode


def setup_args(dav: DavFixture, tmp_path: Path, *extra: str, url: str | None = None) -> list[str]:
    return [
        "setup",
        "--url",
        url or dav.base_url,
        "--username",
        dav.username,
        "--folder",
        dav.folder,
        "--media-dir",
        str(tmp_path / "media"),
        "--ca-bundle",
        str(dav.ca_path),
        "--password-stdin",
        *extra,
    ]


def run_cli(
    monkeypatch: pytest.MonkeyPatch, args: list[str], stdin: str = ""
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    code = main(args)
    return code, out.getvalue(), err.getvalue()


def test_setup_tests_the_connection_and_stores_the_password_in_the_keyring(
    dav: DavFixture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    isolated_environment: MemoryKeyring,
):
    code, out, _err = run_cli(monkeypatch, setup_args(dav, tmp_path), stdin=dav.password + "\n")

    assert code == 0, out
    config_text = Path(os.environ["CONGSYNC_CONFIG"]).read_text()
    assert dav.password not in config_text
    assert dav.password not in out
    assert list(isolated_environment.passwords.values()) == [dav.password]


def test_setup_refuses_a_plain_http_url(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    url = dav.base_url.replace("https://", "http://")
    code, _out, err = run_cli(monkeypatch, setup_args(dav, tmp_path, url=url), stdin="x\n")

    assert code == ExitCode.CONFIG
    assert "https://" in err and "unencrypted" in err
    assert dav.faults.requests == []


def test_setup_with_a_wrong_password_says_so(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    code, _out, err = run_cli(monkeypatch, setup_args(dav, tmp_path), stdin="wrong\n")

    assert code == ExitCode.AUTH
    assert "username or password" in err
    assert not Path(os.environ["CONGSYNC_CONFIG"]).exists()


def test_setup_names_a_missing_folder(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    args = setup_args(dav, tmp_path)
    args[args.index("--folder") + 1] = "no-such-folder"
    code, _out, err = run_cli(monkeypatch, args, stdin=dav.password + "\n")

    assert code == ExitCode.SERVER
    assert "no-such-folder" in err and "does not exist" in err


def test_setup_as_organizer_can_create_a_missing_folder(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    args = setup_args(
        dav,
        tmp_path,
        "--role",
        "organizer",
        "--organizer-dir",
        str(tmp_path / "org"),
        "--create-folder",
    )
    args[args.index("--folder") + 1] = "new-congregation/sub"
    code, out, _err = run_cli(monkeypatch, args, stdin=dav.password + "\n")

    assert code == 0, out
    assert (dav.root / "new-congregation" / "sub").is_dir()


def test_setup_recognises_a_server_that_is_not_webdav(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    dav.faults.override_propfind("/congregation/", b"<html>Welcome</html>", status=200)
    code, _out, err = run_cli(monkeypatch, setup_args(dav, tmp_path), stdin=dav.password + "\n")

    assert code == ExitCode.SERVER
    assert "not a WebDAV server" in err


def test_setup_reports_an_unreachable_host(
    tmp_path: Path, dav: DavFixture, monkeypatch: pytest.MonkeyPatch
):
    code, _out, err = run_cli(
        monkeypatch, setup_args(dav, tmp_path, url="https://127.0.0.1:1/"), stdin="x\n"
    )

    assert code == ExitCode.NETWORK
    assert "cannot be reached" in err


def test_setup_reports_an_untrusted_certificate(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    args = setup_args(dav, tmp_path)
    i = args.index("--ca-bundle")
    del args[i : i + 2]
    code, _out, err = run_cli(monkeypatch, args, stdin=dav.password + "\n")

    assert code == ExitCode.NETWORK
    assert "certificate" in err and "--ca-bundle" in err


def test_setup_reports_rate_limiting(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    dav.faults.fail_next(1, status=429, retry_after="30")
    code, _out, err = run_cli(monkeypatch, setup_args(dav, tmp_path), stdin=dav.password + "\n")

    assert code == ExitCode.SERVER
    assert "slow down" in err


def test_setup_without_a_keyring_explains_both_ways_and_saves_nothing(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    keyring.set_keyring(keyring.backends.fail.Keyring())
    code, _out, err = run_cli(monkeypatch, setup_args(dav, tmp_path), stdin=dav.password + "\n")

    assert code == ExitCode.AUTH
    assert "CONGSYNC_PASSWORD" in err and "keyring" in err
    assert not Path(os.environ["CONGSYNC_CONFIG"]).exists()


def test_sync_without_setup_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch):
    code, _out, err = run_cli(monkeypatch, ["sync"])

    assert code == ExitCode.CONFIG
    assert "congsync setup" in err


def configured(dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run_cli(monkeypatch, setup_args(dav, tmp_path), stdin=dav.password + "\n")
    assert code == 0, out


def test_sync_json_reports_the_counts(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    write_prefs(dav)
    configured(dav, tmp_path, monkeypatch)
    from datetime import date, timedelta

    day = (date.today() + timedelta(days=1)).isoformat()
    dav.put_file(f"Media/{day}/a.jpg", b"a")

    code, out, _err = run_cli(monkeypatch, ["sync", "--json"])

    summary = json.loads(out)
    assert code == 0
    assert {"downloaded", "updated", "removed", "hidden", "unchanged", "errors"} <= set(summary)
    assert summary["downloaded"] == 1
    assert (tmp_path / "media" / day / "a.jpg").read_bytes() == b"a"


def test_sync_with_a_wrong_stored_password_exits_with_the_auth_code(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    configured(dav, tmp_path, monkeypatch)
    monkeypatch.setenv("CONGSYNC_PASSWORD", "not-it")

    code, _out, err = run_cli(monkeypatch, ["sync"])

    assert code == ExitCode.AUTH
    assert "password" in err


def test_sync_against_a_stopped_server_exits_with_the_network_code(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    configured(dav, tmp_path, monkeypatch)
    dav.server.stop()

    code, _out, err = run_cli(monkeypatch, ["sync"])

    assert code == ExitCode.NETWORK
    assert "cannot be reached" in err


def test_status_shows_settings_and_meetings_but_never_the_password(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    write_prefs(dav)
    configured(dav, tmp_path, monkeypatch)
    from datetime import date, timedelta

    day = (date.today() + timedelta(days=2)).isoformat()
    dav.put_file(f"Media/{day}/a.jpg", b"a")
    run_cli(monkeypatch, ["sync"])

    code, out, _err = run_cli(monkeypatch, ["status", "--json"])

    status = json.loads(out)
    assert code == 0
    assert dav.password not in out
    assert status["settings"]["url"] == dav.base_url
    assert {"date": day, "files_present": 1, "files_expected": 1, "missing": []} in status[
        "meetings"
    ]
    assert status["last_result"]["downloaded"] == 1


def test_congsync_command_is_installed_and_answers():
    completed = subprocess.run(
        [sys.executable, "-m", "daemon", "--version"], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0
    assert completed.stdout.startswith("congsync ")


def test_setup_with_a_keyring_that_keeps_nothing_refuses_to_pretend(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import keyring.backends.null

    keyring.set_keyring(keyring.backends.null.Keyring())
    code, _out, err = run_cli(monkeypatch, setup_args(dav, tmp_path), stdin=dav.password + "\n")

    assert code == ExitCode.AUTH
    assert "does not give it back" in err
    assert not Path(os.environ["CONGSYNC_CONFIG"]).exists()


def test_status_says_whether_the_next_meeting_is_ready_and_why_not(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    write_prefs(dav)
    configured(dav, tmp_path, monkeypatch)
    from datetime import date, timedelta

    from daemon.i18n import weekday_name

    day = date.today() + timedelta(days=2)
    dav.put_file(f"Media/{day.isoformat()}/a.jpg", b"a")
    dav.put_file(f"Media/{day.isoformat()}/b.mp4", b"b")
    dav.faults.fail_next(
        20, status=404, methods=["GET"], path_prefix=f"/{dav.folder}/Media/{day.isoformat()}/b"
    )
    run_cli(monkeypatch, ["sync"])

    code, out, _err = run_cli(monkeypatch, ["status"])

    assert code == 0
    lines = out.splitlines()
    headline = f"Not ready for {weekday_name(day)}: 1 of 2 files"
    assert headline in lines
    assert lines[lines.index(headline) + 1].startswith("  - b.mp4: failed: ")
