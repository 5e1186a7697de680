"""The tray in every language congsync ships: menu labels fit a menu on a 1366×768 screen, the
hover text and notifications fit what the operating system shows without cutting them.

Menus are drawn by the desktop, not by congsync, so a label's width is measured with Pillow in
DejaVu Sans (a wide face, so the budget is on the safe side) at a menu's usual 12 px."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PIL import ImageFont

from daemon.i18n import SUPPORTED_LANGUAGES, set_language
from daemon.service.status import MeetingSummary, Progress, State, StatusSnapshot
from tray.menu import TOOLTIP_LIMIT, MenuItem, build_menu, status_text
from tray.notify import notifications_for

FONT_FILE = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
needs_font = pytest.mark.skipif(not FONT_FILE.exists(), reason="needs fonts-dejavu-core (.ci/run)")
# A menu wider than a third of a 1366-px screen is no longer a menu; Windows' own stay far below.
MENU_WIDTH = 1366 // 3
NOTIFY_TITLE_LIMIT = 63  # Windows: NOTIFYICONDATA.szInfoTitle holds 64 characters
NOTIFY_MESSAGE_LIMIT = 255  # and szInfo 256

CET = timezone(timedelta(hours=1))
NOW = datetime(2026, 12, 2, 14, 30, tzinfo=CET)  # a Wednesday
MEETINGS = (
    MeetingSummary(date="2026-12-03", files_present=11, files_expected=12),
    MeetingSummary(date="2026-12-06", files_present=4, files_expected=4),
)


def snapshots() -> Iterator[StatusSnapshot]:
    """The tray's states, each as an organizer (the longest menu) with meetings ahead."""
    common = {
        "role": "organizer",
        "meetings": MEETINGS,
        "last_sync_at": "2026-12-02T14:02:00+01:00",
    }
    yield StatusSnapshot(State.IDLE, **common)  # type: ignore[arg-type]
    yield StatusSnapshot(
        State.SYNCING, progress=Progress(3, 12, 40_000_000, 120_000_000, "Pesem 151.mp4"), **common
    )  # type: ignore[arg-type]
    yield StatusSnapshot(State.PAUSED, paused_until="2026-12-02T15:30:00+01:00", **common)  # type: ignore[arg-type]
    yield StatusSnapshot(State.OFFLINE, next_retry_at="2026-12-02T14:35:00+01:00", **common)  # type: ignore[arg-type]
    yield StatusSnapshot(State.ATTENTION, needs_confirmation=True, **common)  # type: ignore[arg-type]
    yield StatusSnapshot(State.STOPPED, **common)  # type: ignore[arg-type]


def all_items(menu: tuple[MenuItem, ...]) -> Iterator[MenuItem]:
    for item in menu:
        if not item.is_separator:
            yield item
            yield from item.submenu


@pytest.fixture(params=SUPPORTED_LANGUAGES)
def language(request: pytest.FixtureRequest) -> Iterator[str]:
    set_language(request.param)
    try:
        yield request.param
    finally:
        set_language("en")


@needs_font
def test_the_width_measure_tells_a_long_label_from_a_short_one() -> None:
    font = ImageFont.truetype(str(FONT_FILE), 12)
    assert font.getlength("Sync now") < MENU_WIDTH < font.getlength("Sinhroniziraj zdaj " * 8)


@needs_font
def test_every_menu_label_fits_a_menu(language: str) -> None:
    font = ImageFont.truetype(str(FONT_FILE), 12)
    too_wide = {
        item.label: round(font.getlength(item.label))
        for status in snapshots()
        for item in all_items(build_menu(status, NOW))
        if font.getlength(item.label) > MENU_WIDTH
    }
    assert not too_wide, f"{language}: wider than {MENU_WIDTH} px: {too_wide}"


def test_the_hover_text_is_never_cut_in_an_ordinary_state(language: str) -> None:
    from daemon.service.readiness_words import next_meeting, readiness_sentence

    meeting = next_meeting(MEETINGS, NOW.date())
    assert meeting is not None
    for status in snapshots():
        whole = f"{status_text(status, NOW)} · {readiness_sentence(meeting, NOW.date())}"
        assert len(whole) <= TOOLTIP_LIMIT, f"{language}: {len(whole)} characters: {whole!r}"


def test_notifications_fit_what_the_system_shows(language: str) -> None:
    before = StatusSnapshot(State.IDLE, last_sync_at="2026-12-02T13:00:00+01:00", role="organizer")
    after = StatusSnapshot(
        State.IDLE,
        last_sync_at="2026-12-02T14:00:00+01:00",
        role="organizer",
        last_result={"new_by_date": {"2026-12-03": 3, "2026-12-06": 1}},
    )
    shown = [
        *notifications_for(before, after, True),
        *notifications_for(after, StatusSnapshot(State.ERROR, role="organizer"), True),
        *notifications_for(after, StatusSnapshot(State.ATTENTION, role="organizer"), True),
    ]
    assert len(shown) == 3
    for title, message in shown:
        assert len(title) <= NOTIFY_TITLE_LIMIT, f"{language}: {title!r}"
        assert len(message) <= NOTIFY_MESSAGE_LIMIT, f"{language}: {message!r}"
