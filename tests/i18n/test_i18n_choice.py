"""Which language congsync speaks: --lang > the setting > the operating system's > English."""

from __future__ import annotations

import ctypes
from pathlib import Path
from types import SimpleNamespace

import pytest

from daemon import cli, i18n
from daemon.config import Config, save_config
from daemon.core.settings import parse_local_value
from daemon.errors import ConfigError
from daemon.i18n import choose_language, supported_language, system_language


@pytest.mark.parametrize(
    ("tag", "language"),
    [
        ("sl_SI.UTF-8", "sl"),
        ("pt_BR", "pt"),
        ("pt-PT", "pt"),
        ("de_AT", "de"),
        ("es_ES@euro", "es"),
        ("fr", "fr"),
        ("en_GB.UTF-8", "en"),
        ("C", None),
        ("C.UTF-8", None),
        ("POSIX", None),
        ("ja_JP.UTF-8", None),
        ("", None),
    ],
)
def test_locale_names_mean_a_supported_language(tag: str, language: str | None) -> None:
    assert supported_language(tag) == language


@pytest.mark.parametrize(
    ("env", "language"),
    [
        ({"LANG": "sl_SI.UTF-8"}, "sl"),
        ({"LANG": "pt_BR.UTF-8"}, "pt"),
        ({"LC_MESSAGES": "es_ES.UTF-8", "LANG": "de_DE.UTF-8"}, "es"),
        ({"LC_ALL": "fr_FR.UTF-8", "LC_MESSAGES": "es_ES.UTF-8", "LANG": "de_DE"}, "fr"),
        # LANGUAGE is a list: the first language congsync speaks wins
        ({"LANGUAGE": "ja:de_AT:sl", "LANG": "es_ES.UTF-8"}, "de"),
        ({"LANGUAGE": "ja:ko", "LANG": "es_ES.UTF-8"}, "es"),
        # C and POSIX say nothing about a language: the next one counts
        ({"LC_ALL": "C", "LANG": "sl_SI.UTF-8"}, "sl"),
        ({"LC_ALL": "POSIX", "LC_MESSAGES": "C.UTF-8", "LANG": "pt_PT"}, "pt"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "ja_JP.UTF-8"}, "en"),
        ({}, "en"),
    ],
)
def test_the_linux_environment_chooses(env: dict[str, str], language: str) -> None:
    assert choose_language(env=env, platform="linux") == language


def test_the_setting_beats_the_environment_and_lang_beats_the_setting() -> None:
    env = {"LANG": "de_DE.UTF-8"}
    assert choose_language(None, "", env, "linux") == "de"  # "" = automatic
    assert choose_language(None, "sl", env, "linux") == "sl"
    assert choose_language("es", "sl", env, "linux") == "es"
    assert choose_language("xx", "sl", env, "linux") == "sl"  # an unknown --lang: the next


def test_windows_asks_for_the_display_language(monkeypatch: pytest.MonkeyPatch) -> None:
    # GetUserDefaultUILanguage cannot run here: ctypes.windll is replaced by a stand-in that
    # answers 0x0424 (Slovenian, Slovenia), as Windows would.
    kernel32 = SimpleNamespace(GetUserDefaultUILanguage=lambda: 0x0424)
    monkeypatch.setattr(ctypes, "windll", SimpleNamespace(kernel32=kernel32), raising=False)
    assert system_language({"LANG": "de_DE.UTF-8"}, "win32") == "sl"
    kernel32.GetUserDefaultUILanguage = lambda: 0x0416  # Portuguese (Brazil)
    assert system_language({}, "win32") == "pt"
    kernel32.GetUserDefaultUILanguage = lambda: 0x0411  # Japanese: not spoken, so English
    assert choose_language(env={}, platform="win32") == "en"


def test_macos_asks_for_the_preferred_languages(monkeypatch: pytest.MonkeyPatch) -> None:
    # CoreFoundation's AppleLanguages cannot be read here: the call is replaced by the list
    # macOS would answer, most preferred first.
    monkeypatch.setattr(i18n, "macos_candidates", lambda: ["ja-JP", "es-419", "en-GB"])
    assert system_language({}, "darwin") == "es"
    # A terminal's LANG says what its user asked for there.
    assert system_language({"LANG": "fr_FR.UTF-8"}, "darwin") == "fr"


def test_the_setting_is_checked(tmp_path: Path) -> None:
    base = {"url": "https://dav.example/", "username": "u", "folder": "f", "media_dir": tmp_path}
    assert Config(**base, language="sl").language == "sl"  # type: ignore[arg-type]
    assert Config(**base).language == ""  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="language"):
        Config(**base, language="xx")  # type: ignore[arg-type]
    assert parse_local_value("language", "pt_BR") == "pt"
    assert parse_local_value("language", "auto") == ""
    with pytest.raises(ConfigError):
        parse_local_value("language", "klingon")


def test_the_command_line_reads_lang_then_the_setting(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    env = {"CONGSYNC_CONFIG": str(config), "LANG": "de_DE.UTF-8"}
    try:
        assert cli.choose_language(["status"], env) == "de"  # not set up: the system's
        save_config(
            config,
            Config("https://dav.example/", "u", "f", tmp_path / "media", language="es"),
        )
        assert cli.choose_language(["status"], env) == "es"
        assert cli.choose_language(["--lang", "sl", "status"], env) == "sl"
        # Pinned for this process: a daemon started with --lang keeps it over the setting.
        assert i18n.apply_setting("fr", env) == "sl"
    finally:
        i18n.pin_language(None)
        i18n.set_language("en")


def test_a_prompt_takes_yes_in_the_users_language_and_in_english() -> None:
    """setup's "Create it? (da/ne)": the user's own word, its first letter, or English."""
    from daemon.commands.setup import says_yes
    from daemon.i18n import set_language

    set_language("sl")
    try:
        assert [says_yes(a) for a in ("da", "DA", "d", "yes", "y")] == [True] * 5
        assert [says_yes(a) for a in ("ne", "n", "no", "")] == [False] * 4
        set_language("es")
        assert says_yes("sí") and says_yes("si") and says_yes("S") and not says_yes("no")
    finally:
        set_language("en")
