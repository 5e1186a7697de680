"""Folders that overlap (each other, congsync's state, Meeting Media Manager's own) are refused,
at setup and when a hand-edited configuration is started."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import pytest
import tomli_w
from davserver import DavFixture
from installation import Installation
from test_cli import run_cli, setup_args

from daemon.errors import ExitCode

M3_DATA_VARIABLE = "CONGSYNC_M3_DATA_DIR"  # where tests put Meeting Media Manager's data folder


def organizer_setup(dav: DavFixture, media: str, organizer: str) -> list[str]:
    args = setup_args(dav, Path("unused"), "--role", "organizer", "--organizer-dir", organizer)
    args[args.index("--media-dir") + 1] = media
    return args


def assert_refused(code: int, err: str, dav: DavFixture, *words: str) -> None:
    assert code == ExitCode.CONFIG, err
    for word in words:
        assert word in err
    assert err.rstrip().endswith(".")  # a sentence, not a traceback
    assert not Path(os.environ["CONGSYNC_CONFIG"]).exists()
    assert dav.faults.requests == []  # refused before the password or the server is asked


@pytest.mark.parametrize(
    ("media", "organizer"),
    [
        ("{tmp}/Media", "{tmp}/Media"),
        ("{tmp}/Media", "{tmp}/Media/organizer"),
        ("{tmp}/organizer/media", "{tmp}/organizer"),
        ("{tmp}/Media", "{tmp}/link-to-media"),  # a symbolic link to the media folder
        ("~/Media", "{tmp}/Media/../Media/"),  # ~ and .. resolved
        ("Media", "{tmp}/Media/sub"),  # relative to the current folder
    ],
)
def test_setup_refuses_overlapping_media_and_organizer_folders(
    dav: DavFixture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    media: str,
    organizer: str,
):
    (tmp_path / "Media").mkdir()
    (tmp_path / "link-to-media").symlink_to(tmp_path / "Media")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    args = organizer_setup(dav, media.format(tmp=tmp_path), organizer.format(tmp=tmp_path))

    code, _out, err = run_cli(monkeypatch, args, stdin=dav.password + "\n")

    assert_refused(code, err, dav, "organizer folder", "upload what it downloads", "separate")


def test_setup_tells_a_folder_inside_another_from_a_folder_beside_it(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    inside = organizer_setup(dav, str(tmp_path / "Media"), str(tmp_path / "Media" / "organizer"))
    # "Media" and "Media organizer" share letters, not folders.
    beside = organizer_setup(dav, str(tmp_path / "Media"), str(tmp_path / "Media organizer"))

    refused, _out, _err = run_cli(monkeypatch, inside, stdin=dav.password + "\n")
    accepted, out, err = run_cli(monkeypatch, beside, stdin=dav.password + "\n")

    assert refused == ExitCode.CONFIG
    assert accepted == 0, err
    assert "Saved the configuration" in out


def test_setup_refuses_a_media_folder_inside_congsyncs_state_folder(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    state = Path(os.environ["CONGSYNC_STATE_DIR"])
    args = setup_args(dav, tmp_path)
    args[args.index("--media-dir") + 1] = str(state / "media")

    code, _out, err = run_cli(monkeypatch, args, stdin=dav.password + "\n")

    assert_refused(code, err, dav, str(state), "journal")


def test_setup_refuses_a_folder_inside_meeting_media_managers_data_folder(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    m3_data = tmp_path / "Meeting Media Manager"
    m3_data.mkdir()
    monkeypatch.setenv(M3_DATA_VARIABLE, str(m3_data))
    args = setup_args(dav, tmp_path)
    args[args.index("--media-dir") + 1] = str(m3_data / "Watched")

    code, _out, err = run_cli(monkeypatch, args, stdin=dav.password + "\n")

    assert_refused(code, err, dav, "Meeting Media Manager's data folder", "folder to watch")


@pytest.mark.parametrize("codec", ["utf-16-le", "latin-1"])
def test_setup_refuses_meeting_media_managers_auto_export_folder(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, codec: str
):
    # M³ keeps its congregation settings in its window's localStorage: Chromium's LevelDB files.
    m3_data = tmp_path / "m3-data"
    leveldb = m3_data / "Local Storage" / "leveldb"
    leveldb.mkdir(parents=True)
    export = tmp_path / "M3 export"
    settings = {
        "congregations": {
            "c1": {"enableMediaAutoExport": True, "mediaAutoExportFolder": str(export)}
        }
    }
    record = b"\x00\x00META:file://\x00_file://\x00\x01congregation-settings\x00"
    value = (b"\x00" if codec == "utf-16-le" else b"\x01") + json.dumps(settings).encode(codec)
    (leveldb / "000003.log").write_bytes(record + value + b"\x12\x00")
    monkeypatch.setenv(M3_DATA_VARIABLE, str(m3_data))
    args = organizer_setup(dav, str(tmp_path / "media"), str(export / "2030-01-08"))

    code, _out, err = run_cli(monkeypatch, args, stdin=dav.password + "\n")

    assert_refused(code, err, dav, "auto-export folder", str(export), "deletes every file")


@pytest.mark.parametrize("command", ["sync", "run"])
def test_a_hand_edited_configuration_with_overlapping_folders_does_not_start(
    dav: DavFixture, tmp_path: Path, command: str
):
    installation = Installation(dav, tmp_path)
    config_file = Path(installation.env["CONGSYNC_CONFIG"])
    data = tomllib.loads(config_file.read_text())
    data.update(role="organizer", organizer_dir=str(Path(data["media_dir"]) / "publish"))
    config_file.write_text(tomli_w.dumps(data))

    try:
        if command == "sync":
            done = installation.cli("sync")
            code, err = done.returncode, done.stderr
        else:
            process = installation.start()
            _out, err = process.communicate(timeout=60)
            code = process.returncode
    finally:
        installation.close()

    assert code == ExitCode.CONFIG, err
    assert "upload what it downloads" in err
    assert dav.faults.requests == []
    assert not (Path(data["media_dir"]) / "publish").exists()
