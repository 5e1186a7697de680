"""congsync's message catalogues, kept with Babel: one domain, `congsync`.

    python scripts/i18n.py extract   # the template daemon/locale/congsync.pot from the sources
    python scripts/i18n.py update    # every catalogue follows the template (English filled in)
    python scripts/i18n.py compile   # .po -> .mo beside it (the wheel's build does this too)
    python scripts/i18n.py check     # fails when the template or a catalogue is out of step

`check` (run by scripts/test) fails when the sources hold a string the template lacks or the
template keeps one they no longer have, when a catalogue lacks a string, keeps a stale or fuzzy
one, leaves one untranslated, has the wrong number of plural forms, or when a translation's
`{placeholders}` differ from the source's.
"""

from __future__ import annotations

import argparse
import io
import os
import string
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "daemon" / "locale"
TEMPLATE = LOCALE / "congsync.pot"
DOMAIN = "congsync"
LANGUAGES = ("en", "sl", "es", "fr", "de", "pt")
# the functions whose first arguments are messages (1,2: singular and plural)
KEYWORDS = ("_", "N_", "ngettext:1,2", "fact", "plural_fact:1,2")


def catalogue_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def _babel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "--quiet", *args])


def extract_to(target: Path) -> None:
    keywords = [f"--keyword={k}" for k in KEYWORDS]
    target.parent.mkdir(parents=True, exist_ok=True)
    os.chdir(ROOT)  # locations relative to the repository
    _babel(
        "extract",
        f"--mapping-file={ROOT / 'babel.cfg'}",
        "--no-default-keywords",
        *keywords,
        "--add-comments=Translators:",
        "--strip-comments",
        "--sort-by-file",
        "--add-location=file",  # file names without line numbers: the template moves less
        "--width=100",
        "--project=congsync",
        "--copyright-holder=congsync",
        f"--output-file={target}",
        ".",
    )


def _read(path: Path, locale: str | None = None) -> Catalog:
    with open(path, "rb") as fh:
        return read_po(fh, locale=locale)


def _write(path: Path, catalog: Catalog) -> None:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, sort_by_file=True, include_previous=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def _key(message: Message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def _ids(catalog: Catalog) -> dict[str, Message]:
    return {_key(m): m for m in catalog if m.id}


def extract() -> None:
    extract_to(TEMPLATE)
    print(f"wrote {TEMPLATE.relative_to(ROOT)} ({len(_ids(_read(TEMPLATE)))} messages)")


def update() -> None:
    for language in LANGUAGES:
        template = _read(TEMPLATE)  # fresh each time: `Catalog.update` shares its messages
        path = catalogue_path(language)
        catalog = (
            _read(path, language) if path.exists() else Catalog(locale=language, domain=DOMAIN)
        )
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        if language == "en":  # English is the source: every string is its own translation
            for message in catalog:
                if message.id:
                    message.string = message.id
                    message.flags.discard("fuzzy")
        _write(path, catalog)
        print(f"updated {path.relative_to(ROOT)}")


def compile_all() -> None:
    for language in LANGUAGES:
        path = catalogue_path(language)
        if not path.exists():
            continue
        buffer = io.BytesIO()
        write_mo(buffer, _read(path, language))
        path.with_suffix(".mo").write_bytes(buffer.getvalue())


def _fields(text: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        return {f"<not a format string: {exc}>"}


def catalogue_problems(template: Catalog, catalog: Catalog) -> list[str]:
    """What is wrong with one catalogue against the template (an empty list: nothing)."""
    problems: list[str] = []
    wanted, have = _ids(template), _ids(catalog)
    problems += [f"missing: {key!r}" for key in sorted(wanted.keys() - have.keys())]
    problems += [f"stale: {key!r}" for key in sorted(have.keys() - wanted.keys())]
    problems += [f"stale (obsolete): {_key(m)!r}" for m in catalog.obsolete.values()]
    # gettext picks plural forms by the header's rule: a wrong one passes the count check below
    # (it is read from the same header) but shows the wrong form at run time.
    if catalog.locale is not None:
        rule = get_plural(catalog.locale)
        if (catalog.num_plurals, catalog.plural_expr) != (rule.num_plurals, rule.plural_expr):
            problems.append(
                f"plural rule {catalog.plural_forms!r} is not the language's {rule.plural_forms!r}"
            )
    for key in sorted(have.keys() & wanted.keys()):
        message, source = have[key], wanted[key]
        if message.fuzzy:
            problems.append(f"fuzzy: {key!r}")
        if isinstance(source.id, tuple) != isinstance(message.id, tuple) or (
            isinstance(source.id, tuple) and source.id != message.id
        ):
            problems.append(f"singular/plural differs from the template: {key!r}")
            continue
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if isinstance(message.id, tuple) and len(forms) != catalog.num_plurals:
            problems.append(
                f"{len(forms)} plural forms, the language has {catalog.num_plurals}: {key!r}"
            )
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        source_fields = set().union(*(_fields(str(i)) for i in ids))
        for form in forms:
            if not form:
                problems.append(f"untranslated: {key!r}")
                break
            fields = _fields(str(form))
            # a plural form may leave out the count ("one file"), never bring a field of its own
            dropped = (
                source_fields
                - fields
                - ({"count", "n"} if isinstance(message.id, tuple) else set())
            )
            if fields - source_fields or dropped:
                problems.append(
                    f"placeholders {sorted(fields)} differ from {sorted(source_fields)}: {key!r} -> {form!r}"
                )
                break
    return problems


def _template_problems() -> list[str]:
    if not TEMPLATE.exists():
        return [f"{TEMPLATE.relative_to(ROOT)} is missing: run `python scripts/i18n.py extract`"]
    with tempfile.TemporaryDirectory() as scratch:
        fresh = Path(scratch) / "fresh.pot"
        extract_to(fresh)
        now, kept = _ids(_read(fresh)), _ids(_read(TEMPLATE))
    problems = [f"not in the template: {key!r}" for key in sorted(now.keys() - kept.keys())]
    problems += [f"no longer in the sources: {key!r}" for key in sorted(kept.keys() - now.keys())]
    for key in sorted(now.keys() & kept.keys()):
        if now[key].id != kept[key].id:
            problems.append(f"plural form changed: {key!r}")
    if problems:
        problems.append("run `python scripts/i18n.py extract` and `update`, then translate")
    return problems


def check(languages: Iterable[str] = LANGUAGES) -> int:
    failures = 0
    for problem in _template_problems():
        print(f"{TEMPLATE.relative_to(ROOT)}: {problem}")
        failures += 1
    template = _read(TEMPLATE) if TEMPLATE.exists() else Catalog()
    for language in languages:
        path = catalogue_path(language)
        if not path.exists():
            print(f"{path.relative_to(ROOT)}: missing")
            failures += 1
            continue
        for problem in catalogue_problems(template, _read(path, language)):
            print(f"{path.relative_to(ROOT)}: {problem}")
            failures += 1
    print(f"catalogues: {failures} problem(s) in {', '.join(languages)}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("extract", "update", "compile", "check"))
    args = parser.parse_args(argv)
    if args.command == "extract":
        extract()
    elif args.command == "update":
        update()
    elif args.command == "compile":
        compile_all()
    else:
        return check()
    return 0


if __name__ == "__main__":
    sys.exit(main())
