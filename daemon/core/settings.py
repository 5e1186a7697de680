"""Effective settings: this computer's configuration overridden by the congregation's locked keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from daemon.core.layout import CongregationSettings
from daemon.core.rates import parse_rate
from daemon.errors import ConfigError
from daemon.i18n import SUPPORTED_LANGUAGES, fact, supported_language

if TYPE_CHECKING:  # the core reads the configuration record, never the file
    from daemon.config import Config

# Local settings the congregation may lock, and the forcedPrefs.json key that locks each.
LOCKABLE: dict[str, str] = {
    "weeks_ahead": "congsync.weeksAhead",
    "keep_days": "congsync.keepDays",
    "mw_day": "meeting.mwDay",
    "we_day": "meeting.weDay",
    "max_rate": "congsync.maxRate",
    "convert": "congsync.convert",
}
# Local settings a user may change with `congsync settings set`.
LOCAL_KEYS = (
    "weeks_ahead",
    "keep_days",
    "mw_day",
    "we_day",
    "interval",
    "transfers",
    "notifications",
    "max_rate",
    "convert",
    "language",
)


@dataclass(frozen=True)
class Effective:
    weeks_ahead: int
    keep_days: int
    mw_day: int | None
    we_day: int | None
    co_week: date | None
    date_format: str | None
    max_rate: int = 0  # bytes per second for all transfers, 0 = no limit
    mw_start_time: str | None = None  # "HH:MM", the congregation's (quiet during meetings)
    we_start_time: str | None = None
    convert: bool = True  # PDF, SVG and HEIC become images after download


@dataclass(frozen=True)
class SettingView:
    key: str
    value: Any
    locked: bool  # set by the congregation: cannot be changed on this computer
    source: str  # "congregation", "local" or "default"


def _congregation_value(congregation: CongregationSettings, dotted: str) -> Any:
    section, _sep, key = dotted.partition(".")
    if section == "congsync":
        return congregation.congsync.get(key)
    return {
        "meeting.mwDay": congregation.mw_day,
        "meeting.weDay": congregation.we_day,
    }.get(dotted)


def effective(config: Config, congregation: CongregationSettings) -> Effective:
    def pick(local_key: str) -> Any:
        value = _congregation_value(congregation, LOCKABLE[local_key])
        return getattr(config, local_key) if value is None else value

    return Effective(
        weeks_ahead=int(pick("weeks_ahead")),
        keep_days=int(pick("keep_days")),
        mw_day=pick("mw_day"),
        we_day=pick("we_day"),
        co_week=congregation.co_week,
        date_format=congregation.output_folder_date_format,
        max_rate=_rate(pick("max_rate")),
        mw_start_time=congregation.mw_start_time,
        we_start_time=congregation.we_start_time,
        convert=bool(pick("convert")),
    )


def _rate(value: Any) -> int:
    try:
        return parse_rate(value)
    except ValueError as problem:
        raise ConfigError(
            fact("The setting max_rate cannot be used: {problem}", problem=problem)
        ) from None


def language_setting(raw: str) -> str:
    """The `language` setting from what a user typed: "" (or "auto") for the system's
    language, else a language congsync speaks ("sl", "pt_BR" → "pt")."""
    if raw.strip().lower() in ("", "auto", "automatic", "system"):
        return ""
    found = supported_language(raw)
    if found is None:
        raise ConfigError(
            fact(
                "congsync does not speak “{value}”; the languages are {known}, or auto for the system's.",
                value=raw,
                known=", ".join(SUPPORTED_LANGUAGES),
            )
        )
    return found


def describe(config: Config, congregation: CongregationSettings) -> list[SettingView]:
    """Every setting with its value in force and whether the congregation locked it."""
    views: list[SettingView] = []
    defaults = type(config).__dataclass_fields__
    for key in LOCAL_KEYS:
        dotted = LOCKABLE.get(key)
        locked_value = _congregation_value(congregation, dotted) if dotted else None
        if locked_value is not None:
            views.append(SettingView(key, locked_value, True, "congregation"))
            continue
        value = getattr(config, key)
        source = "default" if value == defaults[key].default else "local"
        views.append(SettingView(key, value, False, source))
    for key, value in (
        ("co_week", congregation.co_week.isoformat() if congregation.co_week else None),
        ("mw_start_time", congregation.mw_start_time),
        ("we_start_time", congregation.we_start_time),
        ("date_folder_format", congregation.output_folder_date_format),
        ("congregation_name", congregation.congregation_name),
        # the language of the congregation's media (M³'s), not the one congsync speaks
        ("media_language", congregation.lang),
    ):
        views.append(SettingView(key, value, value is not None, "congregation"))
    return views


def parse_local_value(key: str, raw: str) -> Any:
    if key in ("notifications", "convert"):
        lowered = raw.strip().lower()
        if lowered in ("on", "true", "yes", "1"):
            return True
        if lowered in ("off", "false", "no", "0"):
            return False
        raise ConfigError(fact("{key} must be on or off.", key=key))
    if key == "language":
        return language_setting(raw)
    if key == "max_rate":
        _rate(raw)
        return raw.strip()
    if key in ("mw_day", "we_day") and raw.strip().lower() in ("", "none", "unset"):
        return None
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(
            fact("The setting {key} takes a whole number, not “{value}”.", key=key, value=raw)
        ) from None


def set_local(config: Config, key: str, raw: str, congregation: CongregationSettings) -> Config:
    """Change one local setting; refused when unknown or locked by the congregation."""
    if key not in LOCAL_KEYS:
        raise ConfigError(
            fact(
                "There is no local setting {key}; the settings are {known}.",
                key=key,
                known=", ".join(LOCAL_KEYS),
            )
        )
    dotted = LOCKABLE.get(key)
    if dotted and _congregation_value(congregation, dotted) is not None:
        raise ConfigError(
            fact(
                "The setting {key} is set for the whole congregation by the organizer "
                "({dotted} in forcedPrefs.json), so it cannot be changed on this computer.",
                key=key,
                dotted=dotted,
            )
        )
    return config.with_changes(**{key: parse_local_value(key, raw)})
