"""`congsync settings` and the convert switch: set on this computer, locked by the congregation."""

from __future__ import annotations

import os

import pytest
from test_publish_cli import cli, organizer  # noqa: F401 - a fixture, used by name

from daemon.config import Profile


@pytest.mark.usefixtures("organizer")
def test_convert_is_switched_here_and_locked_by_the_congregation(
    monkeypatch: pytest.MonkeyPatch,
):
    code, _out, err = cli(monkeypatch, "settings", "set", "convert=off")
    assert code == 0, err
    assert Profile.from_environment(os.environ).config.convert is False

    code, _out, err = cli(monkeypatch, "settings", "push", "congsync.convert=true")
    assert code == 0, err
    code, out, err = cli(monkeypatch, "settings", "show")
    assert code == 0, err
    assert "convert = True  (set by the congregation" in out

    code, _out, err = cli(monkeypatch, "settings", "set", "convert=off")
    assert code != 0
    assert "congsync.convert" in err
