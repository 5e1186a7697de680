"""`congsync setup --export-dir` keeps M³'s auto-export folder for an organizer, or refuses it."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest
from davserver import DavFixture
from test_cli import run_cli, setup_args

from daemon.errors import ExitCode


def test_setup_export_dir_is_persisted(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    export = tmp_path / "M3 export"
    args = setup_args(
        dav,
        tmp_path,
        "--role",
        "organizer",
        "--organizer-dir",
        str(tmp_path / "organizer"),
        "--export-dir",
        str(export),
    )

    code, _out, err = run_cli(monkeypatch, args, stdin=dav.password + "\n")

    assert code == 0, err
    saved = tomllib.loads(Path(os.environ["CONGSYNC_CONFIG"]).read_text())
    assert saved["export_dir"] == str(export)
    assert not export.exists()  # setup creates nothing in M³'s folder


def test_setup_refuses_an_export_dir_inside_the_media_folder(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    args = setup_args(
        dav,
        tmp_path,
        "--role",
        "organizer",
        "--organizer-dir",
        str(tmp_path / "organizer"),
        "--export-dir",
        str(tmp_path / "media" / "export"),
    )

    code, _out, err = run_cli(monkeypatch, args, stdin=dav.password + "\n")

    assert code == ExitCode.CONFIG
    assert "export folder" in err and "media folder" in err
    assert not Path(os.environ["CONGSYNC_CONFIG"]).exists()
    assert dav.faults.requests == []
