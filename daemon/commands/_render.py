"""Sentences the command line prints about results (status carries facts; faces say them)."""

from __future__ import annotations

from daemon.i18n import _, ngettext
from daemon.sync.result import SyncResult


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
