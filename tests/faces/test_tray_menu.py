"""The tray's menu model, tooltip and notifications, derived from status snapshots as plain data."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from daemon.service.status import MeetingSummary, Progress, State, StatusSnapshot
from tray.menu import (
    SEPARATOR,
    TOOLTIP_LIMIT,
    Action,
    MenuItem,
    build_menu,
    next_meeting_text,
    tooltip,
)
from tray.notify import notifications_for

CET = timezone(timedelta(hours=1))
NOW = datetime(2026, 11, 23, 14, 30, tzinfo=CET)  # a Monday
MEETINGS = (
    MeetingSummary(date="2026-11-29", files_present=1, files_expected=4),
    MeetingSummary(date="2026-11-24", files_present=5, files_expected=6),
    MeetingSummary(date="2026-11-19", files_present=3, files_expected=3),  # past
)


def snap(state: State = State.IDLE, **fields: object) -> StatusSnapshot:
    defaults: dict[str, object] = {"last_sync_at": "2026-11-23T14:02:00+01:00"}
    defaults.update(fields)
    return StatusSnapshot(state, **defaults)  # type: ignore[arg-type]


def state_lines(menu: tuple[MenuItem, ...]) -> tuple[MenuItem, ...]:
    """The menu from its state lines on: after "Open congsync…" and its separator."""
    assert menu[0].action == Action.OPEN_PANEL and menu[1].is_separator
    return menu[2:]


def labels(items: tuple[MenuItem, ...]) -> list[str]:
    return [item.label for item in items]


def find(items: tuple[MenuItem, ...], action: str) -> MenuItem:
    for item in items:
        if item.action == action:
            return item
        for sub in item.submenu:
            if sub.action == action:
                return sub
    raise AssertionError(f"no item for {action}")


def has_action(items: tuple[MenuItem, ...], action: str) -> bool:
    try:
        find(items, action)
    except AssertionError:
        return False
    return True


# --- the menu -------------------------------------------------------------------------------


def test_idle_menu_for_a_member() -> None:
    menu = build_menu(snap(meetings=MEETINGS), NOW)
    assert labels(menu) == [
        "Open congsync…",
        "",
        "Up to date · 14:02",
        "Next meeting: Tuesday 24 November · 5 of 6 files",
        "",
        "Sync now",
        "Pause syncing",
        "",
        "Open media folder",
        "",
        "Settings…",
        "View log",
        "",
        "Quit",
    ]


def test_status_lines_are_disabled_information() -> None:
    status_line, meeting_line = state_lines(build_menu(snap(meetings=MEETINGS), NOW))[:2]
    assert status_line.action is None and not status_line.enabled
    assert meeting_line.action is None and not meeting_line.enabled


def test_separators_are_recognisable() -> None:
    menu = build_menu(snap(), NOW)
    assert SEPARATOR.is_separator
    assert [item.is_separator for item in menu].count(True) == 5
    assert not menu[0].is_separator


def test_sync_now_is_the_default_action_when_not_paused() -> None:
    for state in (State.IDLE, State.SYNCING, State.OFFLINE, State.ERROR, State.ATTENTION):
        item = find(build_menu(snap(state), NOW), Action.SYNC_NOW)
        assert item.default and item.enabled


def test_pause_offers_an_hour_tomorrow_and_until_resumed() -> None:
    pause = next(item for item in build_menu(snap(), NOW) if item.submenu)
    assert pause.label == "Pause syncing"
    assert pause.action is None
    assert [(i.label, i.action) for i in pause.submenu] == [
        ("For 1 hour", "pause:1h"),
        ("Until tomorrow", "pause:tomorrow"),
        ("Until I resume", "pause:indefinite"),
    ]


def test_paused_menu_offers_resume_as_the_default_instead_of_sync_and_pause() -> None:
    menu = build_menu(snap(State.PAUSED, paused_until="2026-11-23T15:30:00+01:00"), NOW)
    resume = find(menu, Action.RESUME)
    assert resume.label == "Resume syncing"
    assert resume.default and resume.enabled
    assert not has_action(menu, Action.SYNC_NOW)
    assert not has_action(menu, Action.PAUSE_HOUR)
    assert state_lines(menu)[0].label == "Paused until 15:30"


def test_menus_that_are_not_paused_have_no_resume() -> None:
    assert not has_action(build_menu(snap(State.SYNCING), NOW), Action.RESUME)


@pytest.mark.parametrize("state", list(State))
def test_every_menu_has_at_most_one_default(state: State) -> None:
    menu = build_menu(snap(state), NOW)
    defaults = [i for i in menu if i.default] + [s for i in menu for s in i.submenu if s.default]
    assert len(defaults) == (0 if state is State.STOPPED else 1)


def test_organizer_folder_is_offered_to_organizers() -> None:
    menu = build_menu(snap(role="organizer"), NOW)
    assert find(menu, Action.OPEN_ORGANIZER).label == "Open organizer folder"
    assert (
        labels(menu).index("Open organizer folder") == labels(menu).index("Open media folder") + 1
    )


def test_organizer_folder_is_not_offered_to_members() -> None:
    assert not has_action(build_menu(snap(role="member"), NOW), Action.OPEN_ORGANIZER)


def test_open_congsync_comes_first_and_settings_opens_the_panel_too() -> None:
    menu = build_menu(snap(), NOW)
    assert (menu[0].label, menu[0].action, menu[0].enabled) == (
        "Open congsync…",
        "open_panel",
        True,
    )
    assert find(menu, Action.SETTINGS).label == "Settings…"


def test_manage_media_is_offered_to_organizers_beside_their_folder() -> None:
    menu = build_menu(snap(role="organizer"), NOW)
    assert find(menu, Action.MANAGE_MEDIA).label == "Manage media…"
    assert labels(menu).index("Manage media…") == labels(menu).index("Open organizer folder") + 1
    assert not has_action(build_menu(snap(role="member"), NOW), Action.MANAGE_MEDIA)


def test_a_stopped_daemon_has_no_panel_to_open() -> None:
    menu = build_menu(snap(State.STOPPED, role="organizer"), NOW)
    for action in (Action.OPEN_PANEL, Action.SETTINGS, Action.MANAGE_MEDIA):
        assert not find(menu, action).enabled


def test_stopped_daemon_cannot_be_synced_or_paused() -> None:
    menu = build_menu(snap(State.STOPPED), NOW)
    assert not find(menu, Action.SYNC_NOW).enabled
    assert not next(item for item in menu if item.submenu).enabled
    assert find(menu, Action.QUIT).enabled
    assert state_lines(menu)[0].label == "Stopped"


def _actions(items: tuple[MenuItem, ...]) -> set[str]:
    return {i.action for i in items if i.action} | {
        s.action for i in items for s in i.submenu if s.action
    }


def test_the_menus_together_offer_every_action_and_nothing_else() -> None:
    running = build_menu(snap(role="organizer"), NOW)
    paused = build_menu(snap(State.PAUSED, role="organizer"), NOW)
    stopped_for_safety = build_menu(snap(State.ATTENTION, needs_confirmation=True), NOW)
    assert _actions(running) | _actions(paused) | _actions(stopped_for_safety) == set(Action)


def test_error_menu_gives_the_whole_message_on_its_own_lines() -> None:
    message = "The server rejected the password. Choose Settings… and enter the new one."
    menu = state_lines(build_menu(snap(State.ERROR, message=message), NOW))
    assert menu[0].label == "Error"
    lines = []
    for item in menu[1:]:
        if item.is_separator:
            break
        assert not item.enabled
        lines.append(item.label)
    assert " ".join(lines) == message
    assert all(len(line) <= 60 for line in lines)


def test_a_very_long_message_is_cut_to_three_menu_lines() -> None:
    menu = state_lines(build_menu(snap(State.ATTENTION, message="word " * 200), NOW))
    info = [item for item in menu[: menu.index(SEPARATOR)]]
    assert info[0].label == "Needs attention"
    assert len(info) == 4
    assert info[-1].label.endswith("…")


def test_menu_lines_stay_on_one_line() -> None:
    menu = state_lines(build_menu(snap(State.ERROR, message=""), NOW))
    assert "\n" not in menu[0].label


# --- the next meeting line ------------------------------------------------------------------


def test_next_meeting_is_the_first_one_today_or_later() -> None:
    assert next_meeting_text(MEETINGS, NOW) == "Next meeting: Tuesday 24 November · 5 of 6 files"


def test_a_meeting_today_is_called_today() -> None:
    today = (MeetingSummary("2026-11-23", 2, 3), *MEETINGS)
    assert next_meeting_text(today, NOW) == "Today's meeting · 2 of 3 files"


def test_a_meeting_with_one_file_is_singular() -> None:
    one = (MeetingSummary("2026-11-24", 0, 1),)
    assert next_meeting_text(one, NOW) == "Next meeting: Tuesday 24 November · 0 of 1 file"


def test_a_meeting_without_media_says_so() -> None:
    none = (MeetingSummary("2026-11-29", 0, 0),)
    assert next_meeting_text(none, NOW) == "Next meeting: Sunday 29 November · no media"


def test_no_upcoming_meeting_means_no_meeting_line() -> None:
    past = (MeetingSummary("2026-11-19", 3, 3), MeetingSummary("not a date", 1, 1))
    assert next_meeting_text(past, NOW) is None
    assert len(build_menu(snap(meetings=past), NOW)) == len(build_menu(snap(), NOW))


# --- the tooltip ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (snap(), "Up to date · 14:02"),
        (snap(last_sync_at="2026-11-23T13:02:00Z"), "Up to date · 14:02"),
        (snap(last_sync_at="2026-11-22T22:15:00+01:00"), "Up to date · yesterday 22:15"),
        (snap(last_sync_at="2026-11-20T09:00:00+01:00"), "Up to date · Friday 09:00"),
        (snap(last_sync_at="2026-10-01T09:00:00+01:00"), "Up to date · Thursday 1 October"),
        (snap(last_sync_at=None), "Waiting for the first sync"),
        (snap(State.SYNCING, progress=Progress(3, 12)), "Syncing · 3 of 12 files"),
        (snap(State.SYNCING, progress=Progress(0, 1)), "Syncing · 0 of 1 file"),
        (snap(State.SYNCING), "Syncing…"),
        (snap(State.SYNCING, progress=Progress()), "Syncing…"),
        (snap(State.PAUSED, paused_until="2026-11-23T15:30:00+01:00"), "Paused until 15:30"),
        (
            snap(State.PAUSED, paused_until="2026-11-24T00:00:00+01:00"),
            "Paused until tomorrow 00:00",
        ),
        (snap(State.PAUSED), "Paused"),
        (
            snap(State.OFFLINE, next_retry_at="2026-11-23T14:31:30+01:00"),
            "Offline · retrying in 2 min",
        ),
        (
            snap(State.OFFLINE, next_retry_at="2026-11-23T14:31:00+01:00"),
            "Offline · retrying in 1 min",
        ),
        (snap(State.OFFLINE, next_retry_at="2026-11-23T14:29:00+01:00"), "Offline · retrying now"),
        (
            snap(State.OFFLINE, next_retry_at="2026-11-23T16:30:00+01:00"),
            "Offline · retrying at 16:30",
        ),
        (snap(State.OFFLINE), "Offline"),
        (snap(State.OFFLINE, next_retry_at="garbage"), "Offline"),
        (snap(State.ERROR, message="wrong password"), "Error · wrong password"),
        (snap(State.ERROR), "Error"),
        (snap(State.ATTENTION), "Needs attention"),
        (
            snap(State.ATTENTION, message="Confirm 12 deletions"),
            "Needs attention · Confirm 12 deletions",
        ),
        (snap(State.STOPPED), "Stopped"),
    ],
)
def test_tooltip_says_the_state_in_words(status: StatusSnapshot, expected: str) -> None:
    assert tooltip(status, NOW) == expected


def test_tooltip_fits_the_windows_limit() -> None:
    text = tooltip(snap(State.ERROR, message="x " * 300), NOW)
    assert len(text) <= TOOLTIP_LIMIT
    assert text.endswith("…")


def test_moments_without_an_offset_are_local_time() -> None:
    naive_now = datetime(2026, 11, 23, 14, 30)
    assert tooltip(snap(last_sync_at="2026-11-23T14:02:00"), naive_now) == "Up to date · 14:02"


# --- notifications --------------------------------------------------------------------------

SYNCED = "2026-11-23T14:02:00+01:00"
EARLIER = "2026-11-23T13:02:00+01:00"


def after_sync(
    new_by_date: dict[str, int], state: State = State.IDLE, message: str = ""
) -> StatusSnapshot:
    return snap(
        state, message=message, last_sync_at=SYNCED, last_result={"new_by_date": new_by_date}
    )


def test_a_sync_with_new_media_gives_one_summary() -> None:
    before = snap(State.SYNCING, last_sync_at=EARLIER)
    notes = notifications_for(before, after_sync({"2026-11-24": 5}), enabled=True)
    assert notes == [("New meeting media", "5 new files for Tuesday 24 November")]


def test_one_new_file_is_singular() -> None:
    notes = notifications_for(snap(last_sync_at=EARLIER), after_sync({"2026-11-24": 1}), True)
    assert notes == [("New meeting media", "1 new file for Tuesday 24 November")]


def test_new_media_for_several_meetings_is_still_one_notification() -> None:
    current = after_sync({"2026-11-24": 5, "2026-11-29": 2, "2026-12-01": 0})
    notes = notifications_for(snap(last_sync_at=EARLIER), current, enabled=True)
    assert notes == [("New meeting media", "7 new files for 2 meetings")]


def test_no_summary_when_the_sync_brought_nothing_new() -> None:
    assert notifications_for(snap(last_sync_at=EARLIER), after_sync({}), True) == []
    no_result = snap(last_sync_at=SYNCED, last_result={"downloaded": 0})
    assert notifications_for(snap(last_sync_at=EARLIER), no_result, True) == []


def test_no_summary_twice_for_the_same_sync() -> None:
    current = after_sync({"2026-11-24": 5})
    assert notifications_for(current, current, enabled=True) == []


def test_no_summary_for_a_result_found_at_start_up() -> None:
    assert notifications_for(None, after_sync({"2026-11-24": 5}), enabled=True) == []


def test_turning_to_error_notifies_with_what_to_do() -> None:
    message = "The server rejected the password. Choose Settings… and enter the new one."
    notes = notifications_for(snap(), snap(State.ERROR, message=message), enabled=True)
    assert notes == [("congsync cannot sync", message)]


def test_turning_to_attention_notifies() -> None:
    notes = notifications_for(
        snap(State.SYNCING), snap(State.ATTENTION, message="Confirm the deletions."), True
    )
    assert notes == [("congsync needs your attention", "Confirm the deletions.")]


def test_a_problem_without_a_message_still_says_where_to_look() -> None:
    ((_, message),) = notifications_for(snap(), snap(State.ERROR), enabled=True)
    assert "View log" in message


def test_staying_in_error_does_not_notify_again() -> None:
    error = snap(State.ERROR, message="wrong password")
    assert notifications_for(error, error, enabled=True) == []


def test_starting_in_error_notifies() -> None:
    assert len(notifications_for(None, snap(State.ERROR, message="wrong"), enabled=True)) == 1


@pytest.mark.parametrize("state", [State.IDLE, State.SYNCING, State.PAUSED, State.OFFLINE])
def test_ordinary_states_do_not_notify(state: State) -> None:
    assert notifications_for(snap(State.SYNCING), snap(state), enabled=True) == []


def test_new_media_and_a_problem_in_one_step_give_both() -> None:
    current = after_sync({"2026-11-24": 2}, state=State.ATTENTION, message="Confirm.")
    notes = notifications_for(snap(last_sync_at=EARLIER), current, enabled=True)
    assert [title for title, _ in notes] == ["New meeting media", "congsync needs your attention"]


def test_the_setting_turns_notifications_off() -> None:
    assert notifications_for(snap(), snap(State.ERROR, message="x"), enabled=False) == []
    assert notifications_for(snap(last_sync_at=EARLIER), after_sync({"2026-11-24": 5}), False) == []


def test_a_safety_stop_that_awaits_confirmation_offers_to_confirm_the_removals():
    from datetime import UTC, datetime

    from daemon.service.status import State, StatusSnapshot
    from tray.menu import Action, build_menu

    now = datetime(2030, 1, 7, 12, 0, tzinfo=UTC)
    stop = StatusSnapshot(
        state=State.ATTENTION, message="Would remove 9 of 12.", needs_confirmation=True
    )
    folder_gone = StatusSnapshot(state=State.ATTENTION, message="The folder is gone.")

    assert Action.CONFIRM_REMOVALS in [i.action for i in build_menu(stop, now)]
    assert Action.CONFIRM_REMOVALS not in [i.action for i in build_menu(folder_gone, now)]


def cycle_told(finished: str, *warnings: str) -> StatusSnapshot:
    return snap(
        last_sync_at=finished,
        last_result={"finished_at": finished, "warnings": list(warnings)},
    )


def test_a_kept_conflict_copy_is_notified_once() -> None:
    kept = "2030-01-08/talk.mp4 was changed both here and on the server. … kept as …"
    first = cycle_told(SYNCED, kept)
    notes = notifications_for(cycle_told(EARLIER), first, enabled=True)
    assert notes == [("congsync: please check", kept)]
    # The next cycles keep saying it (status shows it), the tray does not repeat it.
    assert notifications_for(first, cycle_told("2026-11-23T14:03:00+01:00", kept), True) == []


def test_several_new_things_to_check_are_one_notification() -> None:
    current = cycle_told(SYNCED, "talk.mp4 is not published: …", "The folder Videos is not …")
    ((title, message),) = notifications_for(cycle_told(EARLIER), current, enabled=True)
    assert title == "congsync: please check"
    assert message.startswith("talk.mp4 is not published") and "1 more thing" in message
