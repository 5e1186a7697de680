"""Catalogues: the .po compiled in memory, the .mo when the build made one, the plural rules."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from daemon import i18n
from daemon.i18n import _, ngettext, plural_fact, set_language


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (1, "1 datoteka"),
        (2, "2 datoteki"),
        (3, "3 datoteke"),
        (4, "4 datoteke"),
        (5, "5 datotek"),
        (11, "11 datotek"),
        (101, "101 datoteka"),
        (102, "102 datoteki"),
        (103, "103 datoteke"),
        (111, "111 datotek"),
        (0, "0 datotek"),
    ],
)
def test_slovenian_has_four_plural_forms(catalogues: Path, n: int, words: str) -> None:
    set_language("sl")
    assert ngettext("{count} file", "{count} files", n).format(count=n) == words
    assert str(plural_fact("{count} file", "{count} files", n, count=n)) == words


def test_spanish_and_english_have_two(catalogues: Path) -> None:
    fact = plural_fact("{count} file", "{count} files", 2, count=2)
    assert fact.english() == "2 files"
    set_language("es")
    assert str(fact) == "2 archivos"
    assert str(plural_fact("{count} file", "{count} files", 1, count=1)) == "1 archivo"


def test_english_and_a_language_without_a_catalogue_keep_the_source(catalogues: Path) -> None:
    for language in ("en", "de"):  # no German test catalogue
        set_language(language)
        assert _("Up to date") == "Up to date"
    set_language("sl")
    assert _("Up to date") == "Posodobljeno"
    assert _("a sentence nobody translated") == "a sentence nobody translated"


def test_a_compiled_catalogue_is_preferred_to_its_source(catalogues: Path) -> None:
    po = catalogues / "sl" / "LC_MESSAGES" / "congsync.po"
    with open(po, "rb") as fh:
        catalog = read_po(fh, locale="sl")
    catalog.get("Up to date").string = "Posodobljeno (iz .mo)"  # type: ignore[union-attr]
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    po.with_suffix(".mo").write_bytes(compiled.getvalue())
    i18n.forget_catalogues()
    set_language("sl")
    assert _("Up to date") == "Posodobljeno (iz .mo)"


def test_the_current_language_is_one_for_the_process(catalogues: Path) -> None:
    assert set_language("sl_SI.UTF-8") == "sl"
    assert i18n.current_language() == "sl"
    assert set_language("klingon") == "en"
    assert i18n.current_language() == "en"
