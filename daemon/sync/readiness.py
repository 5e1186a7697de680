"""What a Kingdom Hall's internet asks of one member cycle: quiet during meetings, the bandwidth
limit, the next meeting's files first, and why each file still missing is missing (status facts;
the faces put them into words)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from daemon.core.member_plan import Download, Plan
from daemon.core.settings import Effective
from daemon.core.transfer_rules import (
    download_order,
    parse_start_time,
    quiet_meeting,
    rate_in_force,
    split_quiet,
)
from daemon.dav import DavClient
from daemon.errors import Cancelled
from daemon.sync.downloads import Outcome
from daemon.sync.media_folder import DEFERRED, FAILED, KEPT, NOT_CONVERTED

log = logging.getLogger(__name__)


def hall_friendly(
    downloads: Sequence[Download], settings: Effective, now: datetime, dav: DavClient
) -> tuple[list[Download], list[Download]]:
    """(to fetch now in order, deferred to after the meeting), with the rate set for them."""
    meeting = quiet_meeting(
        now,
        settings.mw_day,
        settings.we_day,
        settings.co_week,
        parse_start_time(settings.mw_start_time),
        parse_start_time(settings.we_start_time),
    )
    dav.throttle.set_rate(rate_in_force(settings.max_rate, quiet=meeting is not None))
    fetch, deferred = split_quiet(downloads, meeting)
    if meeting is not None:
        log.info(
            "quiet time for the meeting of %s: %d file(s) of other dates wait until after it",
            meeting.isoformat(),
            len(deferred),
        )
    return download_order(fetch), deferred


@dataclass
class Missing:
    """Per place (date, name) not filled by this cycle: (reason code, detail)."""

    reasons: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def of(cls, plan: Plan, deferred: Sequence[Download]) -> Missing:
        reasons = {place: (KEPT, "") for place in plan.differing}
        reasons.update({(d.date, d.name): (DEFERRED, "") for d in deferred})
        return cls(reasons)

    def note(self, outcome: Outcome) -> None:
        place = (outcome.action.date, outcome.action.name)
        if outcome.error is not None and not isinstance(outcome.error, Cancelled):
            self.reasons[place] = (FAILED, outcome.error.message)
        elif outcome.kept:
            self.reasons[place] = (KEPT, "")
        elif outcome.not_converted:
            self.reasons[place] = (NOT_CONVERTED, outcome.not_converted)
