"""One member cycle: discover the server, plan against disk and journal, then carry the plan out."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime

from daemon.config import Config
from daemon.core.layout import MAX_PREFS_BYTES, CongregationSettings, parse_forced_prefs
from daemon.core.meetings import meeting_dates, window
from daemon.core.member_plan import (
    Download,
    Forget,
    ForgetHidden,
    Plan,
    Quarantine,
    Remove,
    Unquarantine,
    desired_state,
    plan_sync,
)
from daemon.core.settings import effective
from daemon.dav.client import DavClient
from daemon.errors import Cancelled, CongsyncError, HostileResponse, UnsafeToProceed
from daemon.i18n import _, ngettext
from daemon.sync.discovery import ListingCache, discover
from daemon.sync.downloads import download_all
from daemon.sync.journal import Journal
from daemon.sync.media_folder import MediaFolder
from daemon.sync.progress import Progress
from daemon.sync.result import SyncResult

log = logging.getLogger(__name__)

CACHE_KEY = "listing_cache"
PREFS_KEY = "congregation_prefs"
RESULT_KEY = "last_result"
LAST_SYNC_KEY = "last_sync_at"


def load_congregation(journal: Journal) -> CongregationSettings:
    stored = journal.get(PREFS_KEY)
    if not stored:
        return CongregationSettings()
    settings, _warnings = parse_forced_prefs(stored["data"].encode("utf-8"))
    return settings


def refresh_congregation(
    dav: DavClient,
    journal: Journal,
    version: str | None,
    path: tuple[str, ...] | None,
    *,
    force: bool,
) -> tuple[CongregationSettings, list[str]]:
    """Re-read forcedPrefs.json when its version moved (or `force`); a bad file keeps the last good."""
    stored = journal.get(PREFS_KEY) or {}
    if path is None:
        if stored:
            journal.put(PREFS_KEY, None)
        return CongregationSettings(), []
    if stored.get("version") == version and version is not None and not force:
        return load_congregation(journal), []
    try:
        data = dav.get_bytes(path, MAX_PREFS_BYTES)
        settings, warnings = parse_forced_prefs(data)
    except (ValueError, HostileResponse) as exc:
        reason = exc.message if isinstance(exc, HostileResponse) else str(exc)
        message = _(
            "The congregation settings file forcedPrefs.json is unusable ({reason}); the last good "
            "settings stay in force."
        ).format(reason=reason)
        return load_congregation(journal), [message]
    journal.put(PREFS_KEY, {"version": version, "data": data.decode("utf-8")})
    return settings, warnings


def run_member_cycle(
    config: Config,
    dav: DavClient,
    journal: Journal,
    *,
    cancel: threading.Event | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    full_listing: bool = True,
    accept_deletions: bool = False,
    today: date | None = None,
) -> SyncResult:
    """Bring the media folder in line with the server. Raises when nothing may be changed."""
    cancel = cancel or threading.Event()
    today = today or date.today()
    started = datetime.now(UTC)
    result = SyncResult(started_at=started.isoformat(timespec="seconds"))
    media = MediaFolder(config.media_dir)
    media.prepare()

    owned = journal.owned()
    cache = ListingCache(journal.get(CACHE_KEY))
    # The window depends on congregation settings, which come with the listing: start from the
    # last known ones and list again in the rare cycle where they move the window.
    settings = effective(config, load_congregation(journal))
    for _attempt in range(2):
        span = window(today, settings.weeks_ahead)
        found = discover(
            dav,
            span,
            cache=cache,
            full_listing=full_listing,
            owns_anything=bool(owned),
            cancel=cancel,
        )
        prefs = found.prefs_entry
        congregation, prefs_warnings = refresh_congregation(
            dav,
            journal,
            prefs.version if prefs else None,
            prefs.path if prefs else None,
            force=full_listing and _attempt == 0,
        )
        previous_weeks = settings.weeks_ahead
        settings = effective(config, congregation)
        if settings.weeks_ahead == previous_weeks:
            break
    result.warnings.extend(found.warnings)
    result.warnings.extend(prefs_warnings)
    days = meeting_dates(
        today, settings.weeks_ahead, settings.mw_day, settings.we_day, settings.co_week
    )
    if settings.mw_day is None and settings.we_day is None and found.state.recurring:
        result.warnings.append(
            _(
                "The meeting days are not known (neither the congregation settings nor this "
                "computer's configuration set them), so recurring media is not placed."
            )
        )

    local_state = media.scan()
    plan = plan_sync(
        desired_state(found.state, days, span),
        local_state,
        owned,
        journal.quarantined(),
        today,
        span[1],
    )
    result.warnings.extend(plan.warnings)
    if plan.is_mass_deletion and not accept_deletions:
        raise UnsafeToProceed(
            _(
                "This sync would remove {count} of the {owned} media files congsync keeps "
                "up to date, because they disappeared from the server. Nothing was changed. If "
                "that is intended, run “congsync sync --accept-deletions”."
            ).format(count=plan.unexpected_removals, owned=plan.owned_in_use)
        )

    _apply_local_actions(plan, media, journal, result)
    downloads = [a for a in plan.actions if isinstance(a, Download)]

    def make_room(action: Download) -> None:
        # A locally edited copy of an owned file goes to the trash before the server's replaces it.
        if action.kind == "restore" and (action.date, action.name) in owned:
            current = local_state.files.get(action.date, {}).get(action.name)
            if current is not None:
                media.trash(action.date, action.name)

    outcomes = download_all(
        downloads,
        dav,
        media,
        journal,
        workers=config.transfers,
        cancel=cancel,
        on_progress=on_progress,
        before_install=make_room,
    )
    cancelled = False
    for outcome in outcomes:
        action = outcome.action
        if isinstance(outcome.error, Cancelled):
            cancelled = True
        elif outcome.error is not None:
            result.errors.append(
                _("{date}/{name}: {reason}").format(
                    date=action.date, name=action.name, reason=outcome.error.message
                )
            )
        else:
            result.bytes_downloaded += outcome.size
            if action.kind == "new":
                result.downloaded += 1
                result.new_by_date[action.date] = result.new_by_date.get(action.date, 0) + 1
            else:
                result.updated += 1
    if cancelled:
        journal.put(CACHE_KEY, cache.to_json())
        raise Cancelled(_("Stopped on request; the sync continues where it left off next time."))

    result.unchanged = plan.unchanged
    media.purge_partials(
        keep={media.partial_path(d.date, d.name, d.remote.version) for d in downloads}
    )
    media.purge_trash()
    media.remove_empty_date_dirs(before=today.isoformat())
    finished = datetime.now(UTC).isoformat(timespec="seconds")
    media.write_manifest(plan.expected, plan.hidden, media.scan(), finished)
    result.finished_at = finished
    journal.put(CACHE_KEY, cache.to_json())
    journal.put(RESULT_KEY, result.to_json())
    if result.ok:
        journal.put(LAST_SYNC_KEY, finished)
    return result


def _apply_local_actions(
    plan: Plan,
    media: MediaFolder,
    journal: Journal,
    result: SyncResult,
) -> None:
    for action in plan.actions:
        try:
            if isinstance(action, Remove):
                media.trash(action.date, action.name)
                journal.forget_owned(action.date, action.name)
                result.removed += 1
            elif isinstance(action, Forget):
                journal.forget_owned(action.date, action.name)
            elif isinstance(action, ForgetHidden):
                journal.forget_quarantined(action.date, action.name)
            elif isinstance(action, Quarantine):
                media.quarantine(action.date, action.name)
                journal.record_quarantined(action.date, action.name)
                result.hidden += 1
            elif isinstance(action, Unquarantine):
                media.unquarantine(action.date, action.name)
                journal.forget_quarantined(action.date, action.name)
                result.unhidden += 1
        except CongsyncError as exc:
            result.errors.append(
                _("{date}/{name}: {reason}").format(
                    date=action.date, name=action.name, reason=exc.message
                )
            )


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
