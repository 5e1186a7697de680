"""Dates, weekday names and numbers follow the language (Babel's); folder names on disk do not."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest

from daemon.core.layout import format_date_folder
from daemon.i18n import (
    format_clock,
    format_day,
    format_number,
    human_size,
    set_language,
    weekday_name,
)

THURSDAY = date(2026, 12, 3)


@pytest.fixture(autouse=True)
def english_afterwards() -> Iterator[None]:
    yield
    set_language("en")


@pytest.mark.parametrize(
    ("language", "day"),
    [
        ("en", "Thursday 3 December"),
        ("sl", "četrtek, 3. december"),
        ("es", "jueves, 3 de diciembre"),
        ("de", "Donnerstag, 3. Dezember"),
        ("fr", "jeudi 3 décembre"),
        ("pt", "quinta-feira, 3 de dezembro"),
    ],
)
def test_days_are_said_the_languages_way(language: str, day: str) -> None:
    set_language(language)
    assert format_day(THURSDAY) == day


def test_another_year_is_said_too() -> None:
    set_language("sl")
    assert format_day(THURSDAY, with_year=True) == "četrtek, 3. december 2026"
    assert format_day(THURSDAY, language="es", with_year=True) == "jueves, 3 de diciembre de 2026"


def test_weekday_names_and_the_clock() -> None:
    monday = THURSDAY - timedelta(days=3)
    assert weekday_name(monday) == "Monday"
    set_language("sl")
    assert weekday_name(monday) == "ponedeljek"
    assert weekday_name(monday, language="de") == "Montag"
    assert format_clock(datetime(2026, 12, 3, 14, 2)) == "14:02"
    assert format_clock(datetime(2026, 12, 3, 9, 5), language="en") == "09:05"


@pytest.mark.parametrize(
    ("language", "size", "words"),
    [
        ("en", 1_500_000_000, "1.5 GB"),
        ("sl", 1_500_000_000, "1,5 GB"),
        ("de", 1_500_000_000, "1,5 GB"),
        ("es", 1_500_000_000, "1,5 GB"),
        ("pt", 1_500_000_000, "1,5 GB"),
        ("en", 12_500_000, "12.5 MB"),
        ("sl", 999, "999 B"),
    ],
)
def test_sizes_use_the_languages_decimal_mark(language: str, size: int, words: str) -> None:
    set_language(language)
    assert human_size(size) == words
    assert human_size(None) == "?"


def test_fr_and_numbers() -> None:
    set_language("fr")
    # French puts a no-break space between a number and its unit (the catalogue's "{value} {unit}")
    assert human_size(1_500_000_000) == "1,5\u00a0GB"
    assert format_number(1234) == "1\u202f234"  # French groups with a narrow no-break space
    assert format_number(1234, language="en") == "1,234"


def test_folder_names_on_disk_never_change_with_the_language() -> None:
    for language in ("en", "sl", "es"):
        set_language(language)
        assert format_date_folder(THURSDAY) == "2026-12-03"
