"""Facts cross boundaries, sentences do not: an error or a status message is said in the language
of whoever shows it, when it is shown; the log keeps the English sentence."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from daemon.config import Config
from daemon.errors import ConfigError
from daemon.i18n import Size, Text, fact, render_json, set_language, verbatim
from daemon.paths import Paths
from daemon.service.daemon import Daemon
from daemon.service.status import StatusSnapshot, snapshot_from_json, snapshot_to_json
from daemon.sync.progress import Progress
from daemon.sync.result import SyncResult
from tray.menu import build_menu

WAIT = 10.0


def test_a_fact_is_said_when_shown_in_the_current_language(catalogues: Path) -> None:
    words = fact(
        "The setting {name} must be a whole number from {low} to {high}.",
        name="weeks_ahead",
        low=1,
        high=8,
    )
    assert str(words) == "The setting weeks_ahead must be a whole number from 1 to 8."
    set_language("sl")
    assert str(words) == "Nastavitev weeks_ahead mora biti celo število od 1 do 8."
    assert words.english() == "The setting weeks_ahead must be a whole number from 1 to 8."


def test_its_values_are_said_in_the_language_too(catalogues: Path) -> None:
    later = datetime.now(UTC) + timedelta(days=3)
    paused = fact("Syncing is paused until {time}.", time=later)
    set_language("sl")
    assert str(paused).startswith("Sinhronizacija je ustavljena do ")
    assert paused.english().startswith("Syncing is paused until ")
    # nested facts and sizes: each part in the same language
    nested = fact(
        "{reason} Trying again at {time}.", reason=fact("The username is empty."), time="14:00"
    )
    assert str(nested) == "Uporabniško ime je prazno. Znova poskusim ob 14:00."
    assert nested.english() == "The username is empty. Trying again at 14:00."
    assert str(fact("{value} {unit}", value=Size(1), unit="")).startswith("1 B")


def test_a_translation_with_wrong_placeholders_falls_back_to_english(catalogues: Path) -> None:
    set_language("sl")
    assert str(fact("The configuration lacks the setting “{name}”.", name="url")) == (
        "The configuration lacks the setting “url”."
    )


def test_facts_travel_as_json_with_the_english_sentence(catalogues: Path) -> None:
    words = fact(
        "{reason} Trying again at {time}.",
        reason=fact("The username is empty."),
        time=datetime(2026, 12, 3, 14, 2, tzinfo=UTC),
        day=date(2026, 12, 3),
        size=Size(1_500_000_000),
    )
    data = json.loads(json.dumps(words.to_json()))
    assert data["text"] == words.english()
    assert data["msgid"] == "{reason} Trying again at {time}."
    assert data["params"]["time"] == {"datetime": "2026-12-03T14:02:00+00:00"}
    assert data["params"]["day"] == {"date": "2026-12-03"}
    assert data["params"]["size"] == {"size": 1_500_000_000}
    assert data["params"]["reason"]["msgid"] == "The username is empty."
    assert Text.from_json(data) == words
    set_language("sl")
    assert render_json(data).startswith("Uporabniško ime je prazno. Znova poskusim ob ")
    # an older status file's plain sentence still reads
    assert render_json("Up to date") == "Up to date"
    assert render_json("") == ""


def test_the_status_carries_the_fact(catalogues: Path) -> None:
    snapshot = StatusSnapshot(
        state=snapshot_from_json({"state": "error"}).state,
        message=fact("The username is empty."),
    )
    data = snapshot_to_json(snapshot)
    assert data["message"] == {
        "text": "The username is empty.",
        "msgid": "The username is empty.",
        "params": {},
    }
    set_language("sl")
    assert str(snapshot_from_json(data).message) == "Uporabniško ime je prazno."


def test_an_error_says_itself_in_the_face_language_and_logs_in_english(
    catalogues: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(ConfigError) as refused:
        Config("https://dav.example/", "u", "f", tmp_path, weeks_ahead=99)
    set_language("sl")
    assert refused.value.message == "Nastavitev weeks_ahead mora biti celo število od 1 do 8."
    assert str(refused.value) == "The setting weeks_ahead must be a whole number from 1 to 8."
    assert verbatim("as it is").english() == "as it is"


def _paths(tmp_path: Path) -> Paths:
    return Paths(tmp_path / "config.toml", tmp_path / "state", tmp_path / "logs")


def _failing(exc: Exception) -> Callable[..., SyncResult]:
    def runner(
        cancel: threading.Event,
        on_progress: Callable[[Progress], None],
        *,
        full_listing: bool,
        accept_deletions: bool,
    ) -> SyncResult:
        raise exc

    return runner


def _wait(condition: Callable[[], object], what: str) -> None:
    done = threading.Event()
    deadline = threading.Timer(WAIT, done.set)
    deadline.start()
    try:
        while not condition():
            assert not done.wait(0.02), f"timed out waiting for {what}"
    finally:
        deadline.cancel()


def test_the_running_daemon_changes_language_without_a_restart(
    catalogues: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    setting = {"language": ""}
    error = ConfigError(fact("The username is empty."))
    daemon = Daemon(
        _paths(tmp_path),
        _failing(error),
        scheduler_options={"wake_check_every": None},
        state_check_every=None,
        language=lambda: setting["language"],
    )
    seen: list[StatusSnapshot] = []
    daemon.subscribe(seen.append)
    caplog.set_level(logging.INFO)
    daemon.start()
    try:
        _wait(lambda: daemon.snapshot().state.value == "error", "the failed cycle")
        assert daemon.snapshot().language == "en"
        assert str(daemon.snapshot().message).startswith("The username is empty.")
        assert build_menu(daemon.snapshot(), datetime.now())[0].label == "Open congsync…"

        # The panel's save (or `congsync setup`) tells the daemon; no restart.
        setting["language"] = "sl"
        daemon.credentials_changed()
        _wait(lambda: any(s.language == "sl" for s in seen), "the tray to hear of it")
        # The tray's menu model, rendered again from that snapshot, is Slovenian.
        latest = next(s for s in reversed(seen) if s.language == "sl")
        assert build_menu(latest, datetime.now())[0].label == "Odpri congsync…"
        # The cycle the change started fails the same way: its fact said now is Slovenian
        # for the face, while its log line stays English.
        board = daemon.board
        assert board is not None
        _wait(
            lambda: board.cycles_finished >= 2 and daemon.snapshot().state.value == "error",
            "a cycle after the change",
        )
        assert str(daemon.snapshot().message).startswith("Uporabniško ime je prazno.")
        _wait(lambda: caplog.text.count("Sync failed") >= 2, "its log line")
        assert caplog.text.count("The username is empty.") >= 2
        assert "Uporabniško" not in caplog.text
        status_file = json.loads(_paths(tmp_path).status_file.read_text(encoding="utf-8"))
        assert status_file["language"] == "sl"
        assert status_file["message"]["text"].startswith("The username is empty.")
    finally:
        daemon.stop()


def test_a_language_switch_while_a_fact_renders_does_not_mix_languages(
    catalogues: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The tray or the panel may switch the language while a worker thread renders: here the
    # switch happens right after the nested part is said (deterministically, in this thread).
    from daemon.i18n import text as text_module

    said = text_module._render_param

    def say_then_switch(value: object, language: str | None) -> object:
        result = said(value, language)  # type: ignore[arg-type]
        set_language("sl")
        return result

    monkeypatch.setattr(text_module, "_render_param", say_then_switch)
    nested = fact(
        "{reason} Trying again at {time}.", reason=fact("The username is empty."), time="14:00"
    )
    assert str(nested) == "The username is empty. Trying again at 14:00."


def test_a_retry_is_logged_in_english_whatever_the_current_language(
    catalogues: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from daemon.dav.retry import RetryPolicy, with_retries
    from daemon.errors import NetworkError

    failures = [NetworkError(fact("The username is empty."))]

    def action() -> str:
        if failures:
            raise failures.pop()
        return "done"

    set_language("sl")
    with caplog.at_level(logging.INFO, logger="daemon.dav.retry"):
        assert (
            with_retries(action, RetryPolicy(attempts=2, base_delay=0.0), None, "f.mp4") == "done"
        )
    assert "after: The username is empty." in caplog.text
    assert "prazno" not in caplog.text
