"""What could not be converted, remembered in the journal per place and server version, so
that it is reported once and not fetched and tried again every cycle."""

from __future__ import annotations

from collections.abc import Mapping

from daemon.sync.journal import Journal

_KEY = "unconverted"  # {"<date>/<name>": [version, reason]}


def unconverted(journal: Journal) -> dict[tuple[str, str], tuple[str, str]]:
    """(date, name) -> (server version, reason) of the downloads that could not be converted."""
    stored = journal.get(_KEY)
    found: dict[tuple[str, str], tuple[str, str]] = {}
    if isinstance(stored, dict):
        for place, entry in stored.items():
            day, _sep, name = str(place).partition("/")
            if isinstance(entry, list) and len(entry) == 2:
                found[(day, name)] = (str(entry[0]), str(entry[1]))
    return found


def note_unconverted(journal: Journal, day: str, name: str, version: str, reason: str) -> bool:
    """Remember a failed conversion; True when it is news (not known for this version)."""
    known = unconverted(journal)
    if known.get((day, name), ("", ""))[0] == version:
        return False
    known[(day, name)] = (version, reason)
    _save(journal, known)
    return True


def keep_unconverted(journal: Journal, still: Mapping[tuple[str, str], str]) -> None:
    """Keep only the entries whose place still wants that version (`still`: place -> version)."""
    known = unconverted(journal)
    kept = {p: e for p, e in known.items() if still.get(p) == e[0]}
    if kept != known:
        _save(journal, kept)


def _save(journal: Journal, entries: Mapping[tuple[str, str], tuple[str, str]]) -> None:
    journal.put(_KEY, {f"{d}/{n}": list(e) for (d, n), e in sorted(entries.items())})
