"""The one door every user-facing string goes through, so the interface can be translated.

One process-wide current language (`set_language`, `current_language`), chosen by
`choose_language`: `--lang` for one command, else the `language` setting, else the operating
system's, else English. Catalogues are gettext's, one domain (`congsync`): the compiled `.mo`
when the build made one, else the `.po` compiled in memory with Babel. Dates and numbers are
Babel's, in the current language.

Facts cross boundaries, not sentences: a `Text` (see `daemon.i18n.text`) carries a message and
its values and becomes a sentence in the current language only when a face shows it.
"""

from __future__ import annotations

import gettext
import io
import logging
import os
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_time, get_day_names, get_month_names, match_skeleton
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

DOMAIN = "congsync"
SOURCE_LANGUAGE = "en"
#: The languages congsync ships, English (the source) first.
SUPPORTED_LANGUAGES = ("en", "sl", "es", "fr", "de", "pt")
#: Each language in its own name, as the panel's setup page offers them.
LANGUAGE_NAMES = {
    "en": "English",
    "sl": "Slovenščina",
    "es": "Español",
    "fr": "Français",
    "de": "Deutsch",
    "pt": "Português",
}
#: The locale dates and numbers follow in each language ("Thursday 3 December", 24-hour clock).
_BABEL_LOCALES = {"en": "en_GB", "pt": "pt"}
#: Names another folder of catalogues (tests, a translator trying a catalogue out).
LOCALE_DIR_VARIABLE = "CONGSYNC_LOCALE_DIR"
_PACKAGE_LOCALE_DIR = Path(__file__).parent.parent / "locale"

# The current language and its catalogue, swapped together (one assignment: no lock needed).
_current: tuple[str, gettext.NullTranslations] = (SOURCE_LANGUAGE, gettext.NullTranslations())
_pinned: str | None = None  # `--lang`: the setting does not override it in this process
_catalogues: dict[tuple[Path, str], gettext.NullTranslations] = {}


# -- choosing the language -----------------------------------------------------------------------


def supported_language(tag: str | None) -> str | None:
    """The supported language a locale name means ("sl_SI.UTF-8" → "sl", "pt-BR" → "pt",
    "de_AT" → "de"); None for C/POSIX, empty or unsupported."""
    if not tag:
        return None
    base = re.split(r"[._@-]", tag.strip(), maxsplit=1)[0].lower()
    if base in ("c", "posix"):
        return None
    return base if base in SUPPORTED_LANGUAGES else None


def _first_supported(tags: Iterable[str]) -> str | None:
    for tag in tags:
        if (found := supported_language(tag)) is not None:
            return found
    return None


def posix_candidates(env: Mapping[str, str]) -> list[str]:
    """Locale names, most wanted first: LANGUAGE (a colon list), LC_ALL, LC_MESSAGES, LANG."""
    found = [part for part in env.get("LANGUAGE", "").split(":") if part]
    found.extend(value for name in ("LC_ALL", "LC_MESSAGES", "LANG") if (value := env.get(name)))
    return found


def windows_candidates() -> list[str]:
    """The Windows display language (GetUserDefaultUILanguage), as a locale name."""
    import ctypes
    import locale

    windll = getattr(ctypes, "windll", None)
    if windll is None:
        return []
    lcid = int(windll.kernel32.GetUserDefaultUILanguage())
    name = locale.windows_locale.get(lcid)
    return [name] if name else []


def macos_candidates() -> list[str]:
    """macOS' preferred languages, most preferred first (AppleLanguages, via CoreFoundation)."""
    import ctypes
    import ctypes.util

    path = ctypes.util.find_library("CoreFoundation")
    if path is None:
        return []
    cf = ctypes.cdll.LoadLibrary(path)
    cf.CFStringCreateWithCString.restype = ctypes.c_void_p
    cf.CFStringCreateWithCString.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint32]
    cf.CFPreferencesCopyAppValue.restype = ctypes.c_void_p
    cf.CFPreferencesCopyAppValue.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    cf.CFArrayGetCount.restype = ctypes.c_long
    cf.CFArrayGetCount.argtypes = [ctypes.c_void_p]
    cf.CFArrayGetValueAtIndex.restype = ctypes.c_void_p
    cf.CFArrayGetValueAtIndex.argtypes = [ctypes.c_void_p, ctypes.c_long]
    cf.CFStringGetCString.restype = ctypes.c_bool
    cf.CFStringGetCString.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_long,
        ctypes.c_uint32,
    ]
    cf.CFRelease.argtypes = [ctypes.c_void_p]
    utf8 = 0x08000100  # kCFStringEncodingUTF8

    def cfstring(text: str) -> int:
        return int(cf.CFStringCreateWithCString(None, text.encode(), utf8))

    key, any_app = cfstring("AppleLanguages"), cfstring(".GlobalPreferences")
    found: list[str] = []
    languages = cf.CFPreferencesCopyAppValue(key, any_app)
    if languages:
        buffer = ctypes.create_string_buffer(64)
        for index in range(cf.CFArrayGetCount(languages)):
            item = cf.CFArrayGetValueAtIndex(languages, index)
            if cf.CFStringGetCString(item, buffer, len(buffer), utf8):
                found.append(buffer.value.decode())
        cf.CFRelease(languages)
    cf.CFRelease(key)
    cf.CFRelease(any_app)
    return found


def system_language(
    env: Mapping[str, str] | None = None, platform: str | None = None
) -> str | None:
    """The operating system's language, when congsync speaks it (None: it does not)."""
    import sys

    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if platform == "win32":
        return _first_supported(windows_candidates())
    if platform == "darwin":
        # A terminal's LANG names the language the user asked for there; else the system's.
        return _first_supported(posix_candidates(env)) or _first_supported(macos_candidates())
    return _first_supported(posix_candidates(env))


def choose_language(
    explicit: str | None = None,
    setting: str | None = None,
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
) -> str:
    """`--lang` > the `language` setting ("" = automatic) > the system's > English."""
    return (
        supported_language(explicit)
        or supported_language(setting)
        or system_language(env, platform)
        or SOURCE_LANGUAGE
    )


# -- the current language ------------------------------------------------------------------------


def _locale_dir() -> Path:
    override = os.environ.get(LOCALE_DIR_VARIABLE)
    return Path(override) if override else _PACKAGE_LOCALE_DIR


def catalogue(language: str, locale_dir: Path | None = None) -> gettext.NullTranslations:
    """The translations of `language`: its `.mo`, else its `.po` compiled in memory (cached);
    English, or a language without a catalogue, leaves the source text as it is."""
    folder = locale_dir or _locale_dir()
    key = (folder, language)
    if (known := _catalogues.get(key)) is not None:
        return known
    # Two threads may both load it; the first one stored is the one everybody uses.
    return _catalogues.setdefault(key, _load(folder, language))


def _load(folder: Path, language: str) -> gettext.NullTranslations:
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    messages = folder / language / "LC_MESSAGES"
    mo = messages / f"{DOMAIN}.mo"
    po = messages / f"{DOMAIN}.po"
    try:
        if mo.is_file():
            with open(mo, "rb") as fh:
                return gettext.GNUTranslations(fh)
        if po.is_file():
            with open(po, "rb") as fh:
                parsed = read_po(fh, locale=language, domain=DOMAIN)
            compiled = io.BytesIO()
            write_mo(compiled, parsed)
            compiled.seek(0)
            return gettext.GNUTranslations(compiled)
    except (OSError, ValueError) as exc:
        # An unreadable catalogue: English rather than no interface at all.
        logging.getLogger(__name__).warning("The %s catalogue cannot be read: %s", language, exc)
    return gettext.NullTranslations()


def forget_catalogues() -> None:
    """Read catalogues again at the next use (tests, after a catalogue changed on disk)."""
    _catalogues.clear()
    set_language(current_language())


def set_language(code: str) -> str:
    """Make `code` (a supported language, or a locale name meaning one) the process's current
    language; anything else means English. Returns the language now current."""
    global _current
    language = supported_language(code) or SOURCE_LANGUAGE
    _current = (language, catalogue(language))
    return language


def current_language() -> str:
    return _current[0]


def pin_language(code: str | None) -> None:
    """`--lang`: this process speaks `code` whatever the setting says (None: the setting again)."""
    global _pinned
    _pinned = supported_language(code)
    if _pinned is not None:
        set_language(_pinned)


def apply_setting(setting: str | None, env: Mapping[str, str] | None = None) -> str:
    """Follow the `language` setting as the configuration says it now (unless `--lang` pinned
    the language for this process). Returns the language now current."""
    return set_language(choose_language(_pinned, setting, env))


# -- translating ---------------------------------------------------------------------------------


def _(message: str) -> str:
    """Translate one whole sentence (with `{named}` placeholders, never concatenated)."""
    return _current[1].gettext(message)


def N_(message: str) -> str:
    """Mark a sentence for the catalogue without translating it here (it is translated later)."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a sentence whose form depends on a count (the catalogue's plural rule)."""
    return _current[1].ngettext(singular, plural, n)


def translation_for(language: str) -> gettext.NullTranslations:
    """The catalogue of `language` itself, whatever the current language is."""
    return catalogue(supported_language(language) or SOURCE_LANGUAGE)


# -- dates and numbers: Babel's, in the current language -------------------------------------------


def babel_locale(language: str | None = None) -> Locale:
    code = supported_language(language) or current_language()
    return _parsed_locale(_BABEL_LOCALES.get(code, code))


@lru_cache(maxsize=16)
def _parsed_locale(name: str) -> Locale:
    return Locale.parse(name)


@lru_cache(maxsize=64)
def _day_pattern(locale_name: str, skeleton: str) -> str:
    """The locale's pattern for `skeleton`, with the weekday always written out in full
    (Babel's closest match may abbreviate it: "čet." rather than "četrtek")."""
    locale = _parsed_locale(locale_name)
    key = match_skeleton(skeleton, locale.datetime_skeletons) or skeleton
    pattern = str(locale.datetime_skeletons[key].pattern)
    # Fields outside quotes only: "EEEE, d 'de' MMMM".
    parts = re.split(r"('[^']*')", pattern)
    return "".join(part if part.startswith("'") else re.sub("E+", "EEEE", part) for part in parts)


def _in(language: str | None) -> gettext.NullTranslations:
    return _current[1] if language is None else translation_for(language)


def weekday_name(day: date, *, language: str | None = None) -> str:
    """The weekday's name on its own, e.g. "Monday", "ponedeljek"."""
    names = get_day_names("wide", context="stand-alone", locale=babel_locale(language))
    return str(names[day.weekday()])


def month_name(day: date, *, language: str | None = None) -> str:
    names = get_month_names("wide", context="stand-alone", locale=babel_locale(language))
    return str(names[day.month])


def format_day(day: date, *, with_year: bool = False, language: str | None = None) -> str:
    """E.g. "Thursday 3 December", "četrtek, 3. december", "jueves, 3 de diciembre"."""
    locale = babel_locale(language)
    skeleton = "yMMMMEEEEd" if with_year else "MMMMEEEEd"
    return str(format_date(day, _day_pattern(str(locale), skeleton), locale=locale))


def format_clock(moment: datetime, *, language: str | None = None) -> str:
    """E.g. "14:02"."""
    return str(format_time(moment, "short", locale=babel_locale(language)))


def format_moment(moment: datetime, *, language: str | None = None) -> str:
    """A moment in words, e.g. "Tuesday 24 November 14:02"."""
    return (
        _in(language)
        .gettext(N_("{day} {time}"))
        .format(
            day=format_day(moment.date(), language=language),
            time=format_clock(moment, language=language),
        )
    )


def format_instant(moment: datetime, *, language: str | None = None) -> str:
    """A moment in a sentence: the clock time when it is today (local time), else the day and
    the clock time ("14:02", "Thursday 3 December 14:02")."""
    local = moment.astimezone()
    if local.date() == datetime.now().astimezone().date():
        return format_clock(local, language=language)
    return format_moment(local, language=language)


def format_when(moment: datetime, now: datetime | None = None) -> str:
    """A moment in local time, in words relative to `now`: "today at 21:43", "yesterday at
    08:10", "tomorrow at 07:00", else "Tuesday 24 November at 14:02" (with the year when it is
    not this year's). A moment without a time zone is taken as local time."""
    local = moment.astimezone()
    today = (now or datetime.now()).astimezone().date()
    clock = format_clock(local)
    days = (local.date() - today).days
    if days == 0:
        return _("today at {time}").format(time=clock)
    if days == -1:
        return _("yesterday at {time}").format(time=clock)
    if days == 1:
        return _("tomorrow at {time}").format(time=clock)
    day = format_day(local.date(), with_year=local.year != today.year)
    return _("{day} at {time}").format(day=day, time=clock)


def format_number(value: float, decimals: int = 0, *, language: str | None = None) -> str:
    """A number in the current language: "1,234" / "1.234", "1.5" / "1,5"."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return str(format_decimal(value, format=pattern, locale=babel_locale(language)))


def human_size(size: int | None, *, language: str | None = None) -> str:
    """A size in words, e.g. "12.5 MB" in English, "12,5 MB" in Slovenian ("?" when unknown)."""
    if size is None:
        return "?"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            shown = format_number(value, 0 if unit == "B" else 1, language=language)
            return _in(language).gettext(N_("{value} {unit}")).format(value=shown, unit=unit)
        value /= 1000
    return str(size)  # pragma: no cover - the loop always returns


# Facts: after everything they render with (daemon.i18n.text uses this module's functions).
from daemon.i18n.text import (  # noqa: E402
    NO_TEXT,
    Size,
    Text,
    as_text,
    fact,
    plural_fact,
    render,
    render_json,
    verbatim,
)

__all__ = [
    "LANGUAGE_NAMES",
    "NO_TEXT",
    "N_",
    "SUPPORTED_LANGUAGES",
    "Size",
    "Text",
    "_",
    "apply_setting",
    "as_text",
    "choose_language",
    "current_language",
    "fact",
    "format_clock",
    "format_day",
    "format_instant",
    "format_moment",
    "format_number",
    "format_when",
    "human_size",
    "month_name",
    "ngettext",
    "pin_language",
    "plural_fact",
    "render",
    "render_json",
    "set_language",
    "supported_language",
    "verbatim",
    "weekday_name",
]
