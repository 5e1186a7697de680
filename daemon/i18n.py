"""The one door every user-facing string goes through, so the interface can be translated."""

from __future__ import annotations

import gettext
from pathlib import Path

_LOCALE_DIR = Path(__file__).parent / "locale"
_translation = gettext.translation("congsync", localedir=_LOCALE_DIR, fallback=True)


def _(message: str) -> str:
    """Translate one whole sentence (with `{named}` placeholders, never concatenated)."""
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a sentence whose form depends on a count."""
    return _translation.ngettext(singular, plural, n)
