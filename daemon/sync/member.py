"""One member cycle: discover the server, plan against disk and journal, then carry the plan out."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime

from daemon.config import Config
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
from daemon.dav import DavClient
from daemon.errors import Cancelled, CongsyncError
from daemon.i18n import _, fact
from daemon.sync.congregation import cached_settings, refresh_settings
from daemon.sync.convert_cycle import with_conversions
from daemon.sync.discovery import Discovery
from daemon.sync.downloads import Installer, PostDownloadStep, download_all
from daemon.sync.journal import Journal
from daemon.sync.media_folder import MediaFolder
from daemon.sync.progress import Progress
from daemon.sync.readiness import Missing, hall_friendly
from daemon.sync.result import SyncResult
from daemon.sync.safety import guard_deletions, media_gone
from daemon.sync.section_order import disown_layouts, exchange_section_orders

log = logging.getLogger(__name__)


def run_member_cycle(
    config: Config,
    dav: DavClient,
    journal: Journal,
    discovery: Discovery,
    *,
    cancel: threading.Event,
    on_progress: Callable[[Progress], None] | None = None,
    accept_deletions: bool = False,
    today: date,
    steps: Sequence[PostDownloadStep] = (),
    publishing: SyncResult | None = None,
    now: datetime | None = None,
) -> SyncResult:
    """Bring the media folder in line with the server. Raises when nothing may be changed.

    `publishing`: what the organizer half of the same cycle did, told in the recorded result.
    `now`: local wall-clock time, for quiet during meetings (default: the clock).
    """
    started = datetime.now(UTC)
    result = SyncResult(started_at=started.isoformat(timespec="seconds"))
    media = MediaFolder(config.media_dir)
    media.prepare()

    owned = disown_layouts(journal, journal.owned())
    # The window depends on congregation settings, which come with the listing: start from the
    # last known ones and look again in the rare cycle where they move the window.
    settings = effective(config, cached_settings(journal))
    for attempt in range(2):
        span = window(today, settings.weeks_ahead)
        found = discovery.snapshot(span)
        congregation, prefs_warnings = refresh_settings(
            dav, journal, found.prefs, force=discovery.full_listing and attempt == 0
        )
        previous_weeks = settings.weeks_ahead
        settings = effective(config, congregation)
        if settings.weeks_ahead == previous_weeks:
            break
    if not found.media_exists and owned:
        raise media_gone(organizer=False)
    state = found.member_state(span)
    result.warnings.extend(found.warnings)
    result.warnings.extend(prefs_warnings)
    days = meeting_dates(
        today, settings.weeks_ahead, settings.mw_day, settings.we_day, settings.co_week
    )
    if settings.mw_day is None and settings.we_day is None and state.recurring:
        result.warnings.append(
            _(
                "The meeting days are not known (neither the congregation settings nor this "
                "computer's configuration set them), so recurring media is not placed."
            )
        )

    local_state = media.scan()
    desired = desired_state(state, days, span)
    plan = plan_sync(
        desired,
        local_state,
        owned,
        journal.quarantined(),
        today,
        span[1],
        differing=journal.differing(),
    )
    result.warnings.extend(plan.warnings)
    guard_deletions(
        plan.unexpected_removals, plan.owned_in_use, organizer=False, accepted=accept_deletions
    )

    _apply_local_actions(plan, media, journal, result)
    journal.keep_differing(plan.differing)
    conversions = with_conversions(plan, owned, journal, media, settings.convert, steps)
    installer = Installer(media, journal, owned, conversions.steps, conversions.unconverted)
    downloads = []
    for action in conversions.actions:
        if not isinstance(action, Download):
            continue
        if installer.adopt_as_listed(action):
            result.adopted += 1
        else:
            downloads.append(action)
    downloads, deferred = hall_friendly(downloads, settings, now or datetime.now(), dav)
    outcomes = download_all(
        downloads,
        dav,
        installer,
        workers=config.transfers,
        cancel=cancel,
        on_progress=on_progress,
    )
    cancelled = False
    missing = Missing.of(plan, deferred)
    missing.reasons.update(conversions.reasons)
    for outcome in outcomes:
        action = outcome.action
        missing.note(outcome)
        if isinstance(outcome.error, Cancelled):
            cancelled = True
        elif outcome.error is not None:
            result.errors.append(
                _("{date}/{name}: {reason}").format(
                    date=action.date, name=action.name, reason=outcome.error.message
                )
            )
        else:
            result.warnings.extend(outcome.warnings)
            result.bytes_downloaded += outcome.size
            if outcome.kept or outcome.not_converted:
                continue
            if action.kind == "adopt":
                result.adopted += 1
            elif action.kind == "new":
                result.downloaded += 1
                result.new_by_date[action.date] = result.new_by_date.get(action.date, 0) + 1
            else:
                result.updated += 1
    if cancelled:
        raise Cancelled(fact("Stopped on request; the sync continues where it left off next time."))

    result.warnings.extend(
        exchange_section_orders(
            dav,
            journal,
            discovery,
            found,
            desired,
            media,
            organizer_dir=config.organizer_dir if config.is_organizer else None,
            today=today,
        )
    )
    result.unchanged = plan.unchanged
    conversions.forget_settled(journal, plan)
    media.purge_partials(
        keep={media.partial_path(d.date, d.name, d.remote.version) for d in [*downloads, *deferred]}
    )
    media.purge_trash()
    media.purge_originals(before=today.isoformat())
    media.remove_empty_date_dirs(before=today.isoformat())
    finished = datetime.now(UTC).isoformat(timespec="seconds")
    media.write_manifest(
        plan.expected,
        plan.hidden,
        media.scan(),
        finished,
        journal.owned(),
        set(journal.differing()),
        reasons=missing.reasons,
    )
    result.finished_at = finished
    if publishing is not None:
        result.absorb_publishing(publishing)
    journal.record_result(result.to_json(), synced_at=finished if result.ok else None)
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
