"""The faces of a running congsync in another language: `congsync --lang sl status`, the panel's
pages, and a language changed in the settings while the daemon runs (no restart)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from davserver import DavFixture
from i18n_catalogues import write_catalogues
from installation import Installation, wait_until
from panel_support import idle_after_first_cycle, sign_in_url

from daemon.i18n import LOCALE_DIR_VARIABLE


@pytest.fixture
def english_daemon(dav: DavFixture, tmp_path: Path) -> Iterator[Installation]:
    """A member's `congsync run --no-tray` under an English system, with the test catalogues."""
    installed = Installation(dav, tmp_path / "home")
    installed.env.update(
        {LOCALE_DIR_VARIABLE: str(write_catalogues(tmp_path / "locale"))},
        LANGUAGE="",
        LC_ALL="",
        LC_MESSAGES="",
        LANG="en_GB.UTF-8",
    )
    with idle_after_first_cycle(installed):
        yield installed


def _panel_page(installed: Installation, page: str) -> str:
    control = json.loads(installed.member.profile.paths.control_file.read_text(encoding="utf-8"))
    url = control["url"]
    signin = sign_in_url(installed, page)
    with httpx.Client(base_url=url, trust_env=False, timeout=10) as browser:
        browser.get(signin.removeprefix(url))
        answer = browser.get(f"/{page}")
        assert answer.status_code == 200
        return answer.text


def test_status_is_said_in_the_language_of_the_command(english_daemon: Installation) -> None:
    paused = english_daemon.cli("pause", "--for", "2h")
    assert paused.returncode == 0, paused.stderr
    english_daemon.wait_state("paused")
    english = english_daemon.cli("status")
    assert "State: Paused (paused)" in english.stdout
    assert "Syncing is paused until" in english.stdout

    slovenian = english_daemon.cli("--lang", "sl", "status")
    assert slovenian.returncode == 0, slovenian.stderr
    assert "Stanje: Ustavljeno (paused)" in slovenian.stdout
    assert "Sinhronizacija je ustavljena do " in slovenian.stdout
    spanish = english_daemon.cli("--lang", "es", "status")
    assert "Estado: " in spanish.stdout and "(paused)" in spanish.stdout
    assert "La sincronización está en pausa hasta " in spanish.stdout

    # The daemon itself still speaks English, and its status carries the fact.
    document: dict[str, Any] = english_daemon.status()
    assert document["message"]["msgid"] == "Syncing is paused until {time}."
    assert "datetime" in document["message"]["params"]["time"]
    assert document["message"]["text"].startswith("Syncing is paused until ")
    assert '<html lang="en">' in _panel_page(english_daemon, "status")


def test_a_problem_found_by_the_daemon_is_said_in_the_language_of_the_command(
    english_daemon: Installation, dav: DavFixture
) -> None:
    shutil.rmtree(dav.folder_path)  # the daemon's next cycle finds the folder gone
    english_daemon.cli("sync")
    assert english_daemon.status()["state"] in ("attention", "error")
    english = english_daemon.cli("status").stdout
    assert "The congregation folder is gone from the server." in english
    slovenian = english_daemon.cli("--lang", "sl", "status").stdout
    assert "Mape občine ni več na strežniku." in slovenian
    assert "The congregation folder is gone" not in slovenian
    # The daemon's own panel still speaks English: each face says the fact itself.
    assert "The congregation folder is gone from the server." in _panel_page(
        english_daemon, "status"
    )


def test_a_language_set_while_running_reaches_the_panel_without_a_restart(
    english_daemon: Installation,
) -> None:
    setup = _panel_page(english_daemon, "setup")
    assert '<option value="sl" lang="sl">Slovenščina</option>' in setup
    assert "Automatic (system language)" in setup
    (daemon,) = english_daemon.processes

    changed = english_daemon.cli("settings", "set", "language=sl")
    assert changed.returncode == 0, changed.stderr
    synced = english_daemon.cli("sync")  # the daemon reads the configuration again
    assert synced.returncode == 0, synced.stderr
    wait_until(lambda: english_daemon.status()["language"] == "sl")
    assert daemon.poll() is None  # the same daemon, still running

    setup = _panel_page(english_daemon, "setup")
    assert '<html lang="sl">' in setup
    assert "Jezik" in setup
    assert '<option value="sl" lang="sl" selected>' in setup
    assert "Stanje" in _panel_page(english_daemon, "status")
    # The command line follows the setting too, unless --lang says otherwise.
    assert "Stanje: Posodobljeno (idle)" in english_daemon.cli("status").stdout
    assert "State: Up to date (idle)" in english_daemon.cli("--lang", "en", "status").stdout
    # The log stays English, for a helper from anywhere.
    log = english_daemon.cli("logs").stdout
    assert "congsync speaks sl now" in log
