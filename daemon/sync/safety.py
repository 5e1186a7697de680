"""The two safety stops both cycles share: a vanished Media folder, and a mass deletion."""

from __future__ import annotations

from daemon.core.records import is_mass_deletion
from daemon.errors import FolderMissing, UnsafeToProceed
from daemon.i18n import fact


def media_gone(*, organizer: bool) -> FolderMissing:
    """The Media folder vanished while congsync keeps files from it: change nothing."""
    where = (
        fact("congsync changes nothing in the organizer folder until this is resolved.")
        if organizer
        else fact("congsync keeps the media it has and changes nothing until this is resolved.")
    )
    return FolderMissing(
        fact(
            "The Media folder is gone from the congregation folder on the server. {what}",
            what=where,
        )
    )


def guard_deletions(
    removals: int, kept: int, *, organizer: bool, accepted: bool, export: bool = False
) -> None:
    """Stop before removing more than half of what congsync keeps, unless the user confirmed."""
    if accepted or not is_mass_deletion(removals, kept):
        return
    if export:
        raise UnsafeToProceed(
            fact(
                "This sync would delete on the server {count} of the {owned} files published from "
                "Meeting Media Manager's export folder, because they are gone from that folder. "
                "Nothing of them was changed. If that is intended, confirm the deletions "
                "(“congsync sync --accept-deletions”).",
                count=removals,
                owned=kept,
            )
        )
    if organizer:
        raise UnsafeToProceed(
            fact(
                "This sync would delete {count} of the {owned} files synced between the organizer "
                "folder and the server. Nothing was changed. If that is intended, confirm the "
                "deletions (“congsync sync --accept-deletions”).",
                count=removals,
                owned=kept,
            )
        )
    raise UnsafeToProceed(
        fact(
            "This sync would remove {count} of the {owned} media files congsync keeps up to "
            "date, because they disappeared from the server. Nothing was changed. If that is "
            "intended, run “congsync sync --accept-deletions”.",
            count=removals,
            owned=kept,
        )
    )
