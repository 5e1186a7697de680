"""The bandwidth limit as people write it: "2MB/s", "500 KiB/s", "0" (none)."""

from __future__ import annotations

import re

from daemon.i18n import _

_UNITS = {
    "": 1,
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "k": 1000,
    "m": 1000**2,
    "g": 1000**3,
}
_RATE = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([a-z]*)\s*(?:/\s*s(?:ec)?|ps)?", re.IGNORECASE)
_UNLIMITED = ("", "0", "none", "off", "unlimited")
# Below this a download of a single video would take hours: surely a typing error.
MIN_RATE = 10 * 1000


def parse_rate(text: object) -> int:
    """Bytes per second for a limit such as "2MB/s"; 0 means unlimited. ValueError if unfit.

    Units are bytes: B, KB/MB/GB (powers of 1000) and KiB/MiB/GiB (powers of 1024), in any
    letter case, with or without "/s". A bare number is bytes per second.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        text = str(text)
    if not isinstance(text, str):
        raise ValueError(_rate_error(text))
    cleaned = text.strip()
    if cleaned.casefold() in _UNLIMITED:
        return 0
    match = _RATE.fullmatch(cleaned)
    unit = match.group(2).casefold() if match else ""
    if match is None or unit not in _UNITS:
        raise ValueError(_rate_error(text))
    rate = round(float(match.group(1)) * _UNITS[unit])
    if rate == 0:
        return 0
    if rate < MIN_RATE:
        raise ValueError(
            _("A bandwidth limit must be 0 (no limit) or at least 10KB/s, not “{value}”.").format(
                value=text
            )
        )
    return rate


def _rate_error(value: object) -> str:
    return _(
        "“{value}” is not a bandwidth limit; write it like 2MB/s or 500KB/s "
        "(units B, KB, MB, GB, KiB, MiB, GiB), or 0 for no limit."
    ).format(value=str(value)[:40])
