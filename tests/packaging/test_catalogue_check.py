"""scripts/i18n.py's check: each way a catalogue can be out of step is reported, and a catalogue
in step is not. (The check of the real catalogues runs in scripts/test.)"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from babel.messages.catalog import Catalog

ROOT = Path(__file__).resolve().parents[2]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("i18n_tool", ROOT / "scripts" / "i18n.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["i18n_tool"] = module
    spec.loader.exec_module(module)
    return module


i18n_tool = _tool()


def template() -> Catalog:
    catalog = Catalog(domain="congsync")
    catalog.add("Sync now")
    catalog.add("Ready for {day}: {present} of {expected} files")
    catalog.add(("{count} file", "{count} files"))
    return catalog


def slovenian(changes: dict[object, object] | None = None) -> Catalog:
    catalog = Catalog(locale="sl", domain="congsync")
    strings: dict[object, object] = {
        "Sync now": "Sinhroniziraj zdaj",
        "Ready for {day}: {present} of {expected} files": "Pripravljeno za {day}: {present} od {expected} datotek",
        ("{count} file", "{count} files"): (
            "{count} datoteka",
            "{count} datoteki",
            "{count} datoteke",
            "{count} datotek",
        ),
    }
    strings.update(changes or {})
    for msgid, msgstr in strings.items():
        if msgstr is not None:
            catalog.add(msgid, msgstr)  # type: ignore[arg-type]
    return catalog


def problems(catalog: Catalog) -> list[str]:
    found: list[str] = i18n_tool.catalogue_problems(template(), catalog)
    return found


def test_a_complete_catalogue_has_no_problem() -> None:
    assert problems(slovenian()) == []


def test_a_missing_string_is_reported() -> None:
    assert problems(slovenian({"Sync now": None})) == ["missing: 'Sync now'"]


def test_a_stale_string_is_reported() -> None:
    catalog = slovenian()
    catalog.add("Open the old page", "Odpri staro stran")
    assert problems(catalog) == ["stale: 'Open the old page'"]


def test_an_untranslated_or_fuzzy_string_is_reported() -> None:
    assert problems(slovenian({"Sync now": ""})) == ["untranslated: 'Sync now'"]
    catalog = slovenian()
    catalog["Sync now"].flags.add("fuzzy")
    assert problems(catalog) == ["fuzzy: 'Sync now'"]


def test_placeholders_that_differ_from_the_source_are_reported() -> None:
    renamed = "Pripravljeno za {dan}: {present} od {expected} datotek"
    (problem,) = problems(slovenian({"Ready for {day}: {present} of {expected} files": renamed}))
    assert problem.startswith("placeholders ['dan', 'expected', 'present'] differ")


def test_a_plural_needs_every_form_of_the_language() -> None:
    (problem,) = problems(
        slovenian({("{count} file", "{count} files"): ("{count} datoteka", "{count} datotek")})
    )
    assert problem == "2 plural forms, the language has 4: '{count} file'"


def test_a_plural_rule_that_is_not_the_languages_is_reported() -> None:
    # Two forms under a two-form rule pass the count check, yet Slovenian needs four.
    catalog = slovenian(
        {("{count} file", "{count} files"): ("{count} datoteka", "{count} datotek")}
    )
    catalog.mime_headers = [
        *catalog.mime_headers,
        ("Plural-Forms", "nplurals=2; plural=(n != 1);"),
    ]
    assert problems(catalog) == [
        "plural rule 'nplurals=2; plural=(n != 1);' is not the language's "
        "'nplurals=4; plural=n % 100 == 1 ? 0 : n % 100 == 2 ? 1 : "
        "(n % 100 == 3 || n % 100 == 4) ? 2 : 3;'"
    ]
