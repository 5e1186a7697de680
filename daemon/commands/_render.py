"""Sentences the command line prints about results (status carries facts; faces say them)."""

from __future__ import annotations

from datetime import datetime

from daemon.i18n import _, format_when, ngettext
from daemon.sync.result import SyncResult


def moment_words(iso: str | None) -> str | None:
    """A moment from the status (ISO 8601) in local time and words ("today at 21:43"); None
    when there is none or it cannot be read. `--json` keeps the ISO form."""
    if not iso:
        return None
    try:
        return format_when(datetime.fromisoformat(iso))
    except ValueError:
        return None


def summarise(result: SyncResult) -> str:
    """One line for the terminal and the log."""
    parts = [
        ngettext("{n} new file", "{n} new files", result.downloaded).format(n=result.downloaded),
        ngettext("{n} updated", "{n} updated", result.updated).format(n=result.updated),
        ngettext("{n} removed", "{n} removed", result.removed).format(n=result.removed),
        ngettext("{n} hidden", "{n} hidden", result.hidden).format(n=result.hidden),
        ngettext("{n} unchanged", "{n} unchanged", result.unchanged).format(n=result.unchanged),
    ]
    if result.uploaded or result.moved or result.deleted_remote or result.conflicts:
        parts.append(
            ngettext("{n} published", "{n} published", result.uploaded).format(n=result.uploaded)
        )
    if result.errors:
        return ngettext(
            "Sync finished: {counts}. {n} file failed.",
            "Sync finished: {counts}. {n} files failed.",
            len(result.errors),
        ).format(counts=", ".join(parts), n=len(result.errors))
    return _("Sync finished: {counts}.").format(counts=", ".join(parts))
