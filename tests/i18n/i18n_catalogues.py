"""Tiny test catalogues (not the translators' files): a few real msgids in Slovenian and Spanish,
written as .po into a temporary locale folder that congsync is pointed at."""

from __future__ import annotations

from pathlib import Path

SLOVENIAN_PLURALS = (
    "nplurals=4; plural=(n%100==1 ? 0 : n%100==2 ? 1 : n%100==3 || n%100==4 ? 2 : 3);"
)

SL: dict[str, str | tuple[str, ...]] = {
    "State: {words} ({state})": "Stanje: {words} ({state})",
    "State": "Stanje",
    "Up to date": "Posodobljeno",
    "Up to date · {when}": "Posodobljeno · {when}",
    "Paused": "Ustavljeno",
    "Open congsync…": "Odpri congsync…",
    "Language": "Jezik",
    "Automatic (system language)": "Samodejno (jezik sistema)",
    "Syncing is paused until {time}.": "Sinhronizacija je ustavljena do {time}.",
    "Syncing is paused until {time}. Run “congsync resume” to sync sooner.": (
        "Sinhronizacija je ustavljena do {time}. Za prej zaženite “congsync resume”."
    ),
    "The setting {name} must be a whole number from {low} to {high}.": (
        "Nastavitev {name} mora biti celo število od {low} do {high}."
    ),
    "{reason} Trying again at {time}.": "{reason} Znova poskusim ob {time}.",
    "The username is empty.": "Uporabniško ime je prazno.",
    "The congregation folder is gone from the server. congsync changes nothing until it is back or the configuration points to the right folder.": (
        "Mape občine ni več na strežniku. congsync ne spremeni ničesar, dokler se ne vrne."
    ),
    # a translation whose placeholder is wrong: the English sentence is shown instead
    "The configuration lacks the setting “{name}”.": "V nastavitvah manjka “{ime}”.",
    ("{count} file", "{count} files"): (
        "{count} datoteka",
        "{count} datoteki",
        "{count} datoteke",
        "{count} datotek",
    ),
}

ES: dict[str, str | tuple[str, ...]] = {
    "State: {words} ({state})": "Estado: {words} ({state})",
    "Up to date": "Al día",
    "Open congsync…": "Abrir congsync…",
    "Syncing is paused until {time}. Run “congsync resume” to sync sooner.": (
        "La sincronización está en pausa hasta {time}. Ejecute “congsync resume” para antes."
    ),
    ("{count} file", "{count} files"): ("{count} archivo", "{count} archivos"),
}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_po(folder: Path, language: str, plurals: str, messages: dict) -> Path:  # type: ignore[type-arg]
    lines = [
        'msgid ""',
        'msgstr ""',
        f'"Language: {language}\\n"',
        '"Content-Type: text/plain; charset=UTF-8\\n"',
        f'"Plural-Forms: {plurals}\\n"',
        "",
    ]
    for key, value in messages.items():
        if isinstance(key, tuple):
            lines += [f"msgid {_quote(key[0])}", f"msgid_plural {_quote(key[1])}"]
            lines += [f"msgstr[{i}] {_quote(form)}" for i, form in enumerate(value)]
        else:
            lines += [f"msgid {_quote(key)}", f"msgstr {_quote(value)}"]
        lines.append("")
    path = folder / language / "LC_MESSAGES" / "congsync.po"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def write_catalogues(folder: Path) -> Path:
    write_po(folder, "sl", SLOVENIAN_PLURALS, SL)
    write_po(folder, "es", "nplurals=2; plural=(n != 1);", ES)
    return folder
