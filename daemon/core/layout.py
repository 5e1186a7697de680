"""The congregation-folder format shared with M³ 22–23 and JWMMF: date folders and forcedPrefs.json."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

from daemon.core.names import is_safe_local_name
from daemon.core.rates import parse_rate
from daemon.i18n import _

MEDIA = "Media"
RECURRING = "Recurring"
HIDDEN = "Hidden"
PREFS_FILE = "forcedPrefs.json"

DEFAULT_DATE_FORMAT = "YYYY-MM-DD"
MAX_PREFS_BYTES = 1024 * 1024

# ---------------------------------------------------------------------------------------------
# Date folders

_DATE_FOLDER = re.compile(
    r"(?:(?P<y1>[0-9]{4})-(?P<m1>[0-9]{2})-(?P<d1>[0-9]{2})"
    r"|(?P<d2>[0-9]{2})-(?P<m2>[0-9]{2})-(?P<y2>[0-9]{4}))"
    r"(?:\s+-\s+\S.*)?",
    re.DOTALL,
)

# dayjs's own token grammar, so that a letter dayjs would replace is never mistaken for text.
_DAYJS_TOKEN = re.compile(
    r"\[([^\]]+)]|Y{1,4}|M{1,4}|D{1,2}|d{1,4}|H{1,2}|h{1,2}|a|A|m{1,2}|s{1,2}|Z{1,2}|SSS"
)
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Dates chosen so that a pattern which swaps or drops a field cannot read them back.
_PROBE_DATES = (date(2001, 2, 3), date(2030, 12, 31), date(2024, 2, 29))


def parse_date_folder(name: str) -> date | None:
    """The meeting date a server folder stands for, or None if the folder is not a date folder.

    Reads `YYYY-MM-DD` and `DD-MM-YYYY`, each optionally followed by ` - ` and any text
    (a weekday name in whatever language the organizer's tool used), which is ignored.
    """
    match = _DATE_FOLDER.fullmatch(name.strip())
    if match is None:
        return None
    parts = match.groupdict()
    if parts["y1"] is not None:
        year, month, day = parts["y1"], parts["m1"], parts["d1"]
    else:
        year, month, day = parts["y2"], parts["m2"], parts["d2"]
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _render(d: date, fmt: str) -> str | None:
    """`d` written with the dayjs pattern `fmt`, or None if `fmt` uses a token we do not write."""
    out: list[str] = []
    position = 0
    for token in _DAYJS_TOKEN.finditer(fmt):
        out.append(fmt[position : token.start()])
        position = token.end()
        text = token.group(0)
        if token.group(1) is not None:
            out.append(token.group(1))
        elif text == "YYYY":
            out.append(f"{d.year:04d}")
        elif text == "MM":
            out.append(f"{d.month:02d}")
        elif text == "DD":
            out.append(f"{d.day:02d}")
        elif text == "dddd":
            out.append(_WEEKDAYS[d.weekday()])
        else:
            return None
    out.append(fmt[position:])
    return "".join(out)


def _reads_back(d: date, fmt: str) -> str | None:
    rendered = _render(d, fmt)
    if rendered is None or rendered != rendered.strip() or not is_safe_local_name(rendered):
        return None
    return rendered if parse_date_folder(rendered) == d else None


def is_supported_date_format(fmt: str) -> bool:
    """Whether every date written with `fmt` is a folder name congsync and M³ read back."""
    return all(_reads_back(probe, fmt) is not None for probe in _PROBE_DATES)


def format_date_folder(d: date, fmt: str | None = None) -> str:
    """The server folder name for meeting date `d`.

    `fmt` is M³'s `app.outputFolderDateFormat` (dayjs tokens `YYYY`, `MM`, `DD`, `dddd`,
    text in between); anything else falls back to `YYYY-MM-DD`. Whether a pattern is used
    does not depend on `d`, so one congregation's folders never mix two styles.
    """
    if fmt is not None and is_supported_date_format(fmt):
        rendered = _reads_back(d, fmt)
        if rendered is not None:
            return rendered
    return d.isoformat()


# ---------------------------------------------------------------------------------------------
# Setting validators: one per understood key, shared by forcedPrefs.json and the command line.
# Each takes a JSON value (or the text a user typed) and returns the normalised JSON value.

_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::[0-9]{2})?")
_ISO_DATE_PREFIX = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[T ].*)?", re.DOTALL)
_LANG = re.compile(r"[A-Za-z0-9_-]{1,16}")
_MAX_NAME_CHARS = 200


def _shown(value: object) -> str:
    """A bounded, printable rendering of an untrusted value for a message."""
    try:
        text = json.dumps(value, ensure_ascii=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _whole_number(key: str, value: object, low: int, high: int) -> int:
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdecimal():
        number = int(value.strip())
    if number is None or not low <= number <= high:
        raise ValueError(
            _("{key} must be a whole number from {low} to {high}, not {value}.").format(
                key=key, low=low, high=high, value=_shown(value)
            )
        )
    return number


def _day(key: str) -> Callable[[object], int]:
    def validate(value: object) -> int:
        try:
            return _whole_number(key, value, 0, 6)
        except ValueError:
            raise ValueError(
                _("{key} must be a day number from 0 (Monday) to 6 (Sunday), not {value}.").format(
                    key=key, value=_shown(value)
                )
            ) from None

    return validate


def _number(key: str, low: int, high: int) -> Callable[[object], int]:
    return lambda value: _whole_number(key, value, low, high)


def _time(key: str) -> Callable[[object], str]:
    def validate(value: object) -> str:
        match = _TIME.fullmatch(value.strip()) if isinstance(value, str) else None
        if match is not None:
            hours, minutes = int(match.group(1)), int(match.group(2))
            if hours < 24 and minutes < 60:
                return f"{hours:02d}:{minutes:02d}"
        raise ValueError(
            _("{key} must be a time of day written HH:MM, such as 19:00, not {value}.").format(
                key=key, value=_shown(value)
            )
        )

    return validate


def _iso_date(key: str) -> Callable[[object], str]:
    def validate(value: object) -> str:
        # M³ may have stored a full timestamp; the calendar date it starts with is the one meant.
        match = _ISO_DATE_PREFIX.fullmatch(value.strip()) if isinstance(value, str) else None
        if match is not None:
            try:
                return date.fromisoformat(match.group(1)).isoformat()
            except ValueError:
                pass
        raise ValueError(
            _("{key} must be a date written YYYY-MM-DD, such as 2026-11-24, not {value}.").format(
                key=key, value=_shown(value)
            )
        )

    return validate


def _date_format(key: str) -> Callable[[object], str]:
    def validate(value: object) -> str:
        if isinstance(value, str) and is_supported_date_format(value):
            return value
        raise ValueError(
            _(
                "{key} must be a folder date pattern such as YYYY-MM-DD, YYYY-MM-DD - dddd,"
                " DD-MM-YYYY or DD-MM-YYYY - dddd, not {value}."
            ).format(key=key, value=_shown(value))
        )

    return validate


def _lang(key: str) -> Callable[[object], str]:
    def validate(value: object) -> str:
        if isinstance(value, str) and _LANG.fullmatch(value.strip()):
            return value.strip()
        raise ValueError(
            _("{key} must be a short language code such as E, not {value}.").format(
                key=key, value=_shown(value)
            )
        )

    return validate


def _name(key: str) -> Callable[[object], str]:
    def validate(value: object) -> str:
        if isinstance(value, str):
            text = value.strip()
            if 0 < len(text) <= _MAX_NAME_CHARS and text.isprintable():
                return text
        raise ValueError(
            _("{key} must be a name of 1 to {limit} printable characters, not {value}.").format(
                key=key, limit=_MAX_NAME_CHARS, value=_shown(value)
            )
        )

    return validate


def _rate(key: str) -> Callable[[object], str]:
    def validate(value: object) -> str:
        try:
            parse_rate(value)
        except ValueError as problem:
            raise ValueError(_("{key}: {problem}").format(key=key, problem=problem)) from None
        return str(value).strip()

    return validate


def _bool(key: str) -> Callable[[object], bool]:
    def validate(value: object) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise ValueError(
            _("{key} must be true or false, not {value}.").format(key=key, value=_shown(value))
        )

    return validate


# Deliberately a closed list: server, account and path settings in forcedPrefs.json
# (app.congServer, app.localOutputPath, …) must never be applied, so they are not here.
SETTING_KEYS: Mapping[str, Callable[[object], Any]] = MappingProxyType(
    {
        "meeting.mwDay": _day("meeting.mwDay"),
        "meeting.weDay": _day("meeting.weDay"),
        "meeting.coWeek": _iso_date("meeting.coWeek"),
        "meeting.mwStartTime": _time("meeting.mwStartTime"),
        "meeting.weStartTime": _time("meeting.weStartTime"),
        "app.outputFolderDateFormat": _date_format("app.outputFolderDateFormat"),
        "app.congregationName": _name("app.congregationName"),
        "media.lang": _lang("media.lang"),
        "congsync.weeksAhead": _number("congsync.weeksAhead", 1, 8),
        "congsync.keepDays": _number("congsync.keepDays", 0, 365),
        "congsync.maxRate": _rate("congsync.maxRate"),
        "congsync.convert": _bool("congsync.convert"),
    }
)

# Where JWMMF's flat files keep the same settings.
LEGACY_KEYS: Mapping[str, str] = MappingProxyType(
    {
        "meeting.mwDay": "mwDay",
        "meeting.weDay": "weDay",
        "meeting.coWeek": "coWeek",
        "meeting.mwStartTime": "mwStartTime",
        "meeting.weStartTime": "weStartTime",
        "app.outputFolderDateFormat": "outputFolderDateFormat",
        "app.congregationName": "congregationName",
        "media.lang": "lang",
    }
)

_SENSITIVE_WORDS = ("server", "user", "pass", "path", "dir")


def validate_setting(key: str, value: str) -> Any:
    """The JSON value to store for `key` when a user types `KEY=VALUE`; ValueError if unfit."""
    validator = SETTING_KEYS.get(key)
    if validator is None:
        raise ValueError(
            _("congsync has no congregation-wide setting {key}; it knows {known}.").format(
                key=_shown(key), known=", ".join(sorted(SETTING_KEYS))
            )
        )
    return validator(value)


# ---------------------------------------------------------------------------------------------
# forcedPrefs.json


def _empty_mapping() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True)
class CongregationSettings:
    """What forcedPrefs.json says that congsync uses; None means the congregation left it open."""

    mw_day: int | None = None  # 0 = Monday … 6 = Sunday
    we_day: int | None = None
    co_week: date | None = None  # any date in the circuit overseer's week
    mw_start_time: str | None = None  # "HH:MM"
    we_start_time: str | None = None
    output_folder_date_format: str | None = None
    congregation_name: str | None = None
    lang: str | None = None
    # Only the validated keys of SETTING_KEYS under `congsync.`, without the prefix.
    congsync: Mapping[str, Any] = field(default_factory=_empty_mapping)
    # Canonical dotted names (also for values read from legacy flat keys) of accepted settings.
    locked: frozenset[str] = frozenset()
    # The whole file, kept so that a rewrite preserves what congsync does not understand.
    raw: Mapping[str, Any] = field(default_factory=_empty_mapping)


def _reject_constant(name: str) -> None:
    # NaN and Infinity are not JSON; accepting them would make the file impossible to rewrite.
    raise ValueError(name)


def _decode(data: bytes) -> dict[str, Any]:
    if len(data) > MAX_PREFS_BYTES:
        raise ValueError(
            _("{file} is larger than {limit} MiB, which no settings file needs.").format(
                file=PREFS_FILE, limit=MAX_PREFS_BYTES // (1024 * 1024)
            )
        )
    try:
        # Windows editors like to start the file with a byte order mark.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(_("{file} is not UTF-8 text.").format(file=PREFS_FILE)) from None
    try:
        parsed = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise ValueError(_("{file} is not valid JSON.").format(file=PREFS_FILE)) from None
    if not isinstance(parsed, dict):
        raise ValueError(_("{file} does not contain a JSON object.").format(file=PREFS_FILE))
    return parsed


def _lookup(raw: Mapping[str, Any], dotted: str, warnings: list[str]) -> tuple[bool, object]:
    """(present, value) of a nested key; a section that is not an object is reported once."""
    section, _dot, name = dotted.partition(".")
    container = raw.get(section)
    if container is None:
        return False, None
    if not isinstance(container, dict):
        message = _("The section “{section}” in {file} is not a JSON object; it was ignored.")
        warning = message.format(section=section, file=PREFS_FILE)
        if warning not in warnings:
            warnings.append(warning)
        return False, None
    return name in container, container.get(name)


def parse_forced_prefs(data: bytes) -> tuple[CongregationSettings, list[str]]:
    """The congregation-wide settings in forcedPrefs.json, and a warning per value ignored.

    Reads the nested M³ form and JWMMF's flat form; for each setting the nested value is
    used when it is valid, the flat one otherwise. Values of the wrong type or out of range
    are ignored with a warning; null means "not set". Only the keys in SETTING_KEYS are
    interpreted; everything else stays in `raw`. Raises ValueError if the file is unusable.
    """
    raw = _decode(data)
    warnings: list[str] = []
    accepted: dict[str, Any] = {}
    for key, validator in SETTING_KEYS.items():
        candidates = [_lookup(raw, key, warnings)]
        legacy = LEGACY_KEYS.get(key)
        if legacy is not None:
            candidates.append((legacy in raw, raw.get(legacy)))
        for present, value in candidates:
            if not present or value is None:
                continue
            try:
                accepted[key] = validator(value)
            except ValueError as problem:
                warnings.append(
                    _("A congregation-wide setting was ignored: {problem}").format(problem=problem)
                )
                continue
            break

    co_week = accepted.get("meeting.coWeek")
    settings = CongregationSettings(
        mw_day=accepted.get("meeting.mwDay"),
        we_day=accepted.get("meeting.weDay"),
        co_week=date.fromisoformat(co_week) if co_week is not None else None,
        mw_start_time=accepted.get("meeting.mwStartTime"),
        we_start_time=accepted.get("meeting.weStartTime"),
        output_folder_date_format=accepted.get("app.outputFolderDateFormat"),
        congregation_name=accepted.get("app.congregationName"),
        lang=accepted.get("media.lang"),
        congsync=MappingProxyType(
            {
                key.removeprefix("congsync."): value
                for key, value in accepted.items()
                if key.startswith("congsync.")
            }
        ),
        locked=frozenset(accepted),
        raw=MappingProxyType(raw),
    )
    return settings, warnings


def _is_sensitive(dotted: str) -> bool:
    lowered = dotted.casefold()
    return any(word in lowered for word in _SENSITIVE_WORDS)


def dump_forced_prefs(
    raw: Mapping[str, Any], changes: Mapping[str, Any], removals: Iterable[str] = ()
) -> bytes:
    """forcedPrefs.json rewritten with `changes` set and `removals` deleted (dotted keys).

    Every other key keeps its place and value, unknown and legacy ones included. Removing a
    setting also removes its JWMMF flat alias (`meeting.mwDay` takes `mwDay` with it), since
    that alias would otherwise keep the setting in force. Raises ValueError for a key that
    is both changed and removed, and for server, account or path settings, which congsync
    never writes.
    """
    removal_keys = list(removals)
    both = set(changes) & set(removal_keys)
    if both:
        raise ValueError(_("{key} cannot be both changed and removed.").format(key=sorted(both)[0]))
    for key in changes:
        if _is_sensitive(key) or not key or "" in key.split("."):
            raise ValueError(
                _("congsync does not write the setting {key}.").format(key=_shown(key))
            )

    document: dict[str, Any] = copy.deepcopy(dict(raw))
    for key in removal_keys:
        _remove(document, key.split("."))
        legacy = LEGACY_KEYS.get(key)
        if legacy is not None:
            document.pop(legacy, None)
    for key, value in changes.items():
        _set(document, key.split("."), value)
    text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


def _remove(document: dict[str, Any], path: list[str]) -> None:
    container: Any = document
    for name in path[:-1]:
        container = container.get(name) if isinstance(container, dict) else None
    if isinstance(container, dict):
        container.pop(path[-1], None)


def _set(document: dict[str, Any], path: list[str], value: Any) -> None:
    container = document
    for name in path[:-1]:
        child = container.get(name)
        if not isinstance(child, dict):
            # A section that is not an object is unusable for everyone; the new value matters more.
            child = {}
            container[name] = child
        container = child
    container[path[-1]] = value
