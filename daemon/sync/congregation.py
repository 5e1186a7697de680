"""Congregation-wide settings in one place: forcedPrefs.json fetched when its version moved,
cached in the journal, and the last good settings kept when the file turns unusable."""

from __future__ import annotations

from daemon.core.layout import MAX_PREFS_BYTES, PREFS_FILE, CongregationSettings, parse_forced_prefs
from daemon.core.records import RemoteFile
from daemon.dav import DavClient
from daemon.errors import HostileResponse
from daemon.i18n import _
from daemon.sync.journal import Journal


def cached_settings(journal: Journal) -> CongregationSettings:
    """The settings as last fetched (no request): what `settings show` and the window start from."""
    stored = journal.congregation_prefs()
    if not stored.get("data"):
        return CongregationSettings()
    settings, _warnings = parse_forced_prefs(stored["data"].encode("utf-8"))
    return settings


def remember_settings(journal: Journal, data: bytes) -> None:
    """forcedPrefs.json as this computer just wrote it: what `settings show` starts from now.

    Kept without a version, so the next look at the server fetches its copy once (a
    co-organizer's push right after ours is not mistaken for ours).
    """
    journal.save_congregation_prefs(None, data.decode("utf-8"))


def refresh_settings(
    dav: DavClient, journal: Journal, prefs: RemoteFile | None, *, force: bool
) -> tuple[CongregationSettings, list[str]]:
    """The settings in force after a look at the server (`prefs`: forcedPrefs.json as listed).

    The file is fetched only when its version moved (or `force`); a malformed or oversized file
    is reported and the last good settings stay in force. No file means no congregation settings.
    """
    stored = journal.congregation_prefs()
    if prefs is None:
        if stored:
            journal.save_congregation_prefs(None, None)
        return CongregationSettings(), []
    if stored.get("version") == prefs.version and not force:
        return cached_settings(journal), []
    try:
        data = dav.get_bytes(prefs.path, MAX_PREFS_BYTES)
        settings, warnings = parse_forced_prefs(data)
    except (ValueError, HostileResponse) as exc:
        reason = exc.message if isinstance(exc, HostileResponse) else str(exc)
        message = _(
            "The congregation settings file {file} is unusable ({reason}); the last good "
            "settings stay in force."
        ).format(file=PREFS_FILE, reason=reason)
        return cached_settings(journal), [message]
    journal.save_congregation_prefs(prefs.version, data.decode("utf-8"))
    return settings, warnings
