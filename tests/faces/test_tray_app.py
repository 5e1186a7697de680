"""The tray application: menu actions reach the daemon, and status reaches the icon, headless.

The daemon is a small recording stand-in for our own `DaemonControl` protocol. For the icon's
threading, pystray is replaced by a stand-in with the same surface whose event loop blocks
the main thread like the real one does; the real icon is left to the smoke test under Xvfb.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from tray_support import FakeIcon, eventually, install_fake_pystray, run_with_driver

from daemon.errors import TrayUnavailable
from daemon.service.status import Progress, State, StatusSnapshot
from tray import app as tray_app
from tray.app import (
    TrayApp,
    opener_command,
    pause_until,
    run_tray_or_headless,
    tray_available,
)
from tray.menu import Action

NOW = datetime(2026, 11, 23, 14, 30).astimezone()  # aware, in this machine's zone


class RecordingDaemon:
    """Records every command; `publish` plays the daemon's status board.

    Like the real daemon, `quit` ends with a "stopped" snapshot, unless told it hangs.
    """

    def __init__(self, state: State = State.IDLE, **fields: Any) -> None:
        self.hangs_on_quit = False
        self.has_panel = True
        self.calls: list[tuple[str, Any]] = []
        self.listeners: list[Callable[[StatusSnapshot], None]] = []
        self.unsubscribed = 0
        self.current = StatusSnapshot(state, **fields)

    def sync_now(self, accept_deletions: bool = False) -> int:
        self.calls.append(("sync_now", True) if accept_deletions else ("sync_now", None))
        return 1

    def pause(self, until: datetime | None = None) -> None:
        self.calls.append(("pause", until))

    def resume(self) -> None:
        self.calls.append(("resume", None))

    def credentials_changed(self) -> None:
        self.calls.append(("credentials_changed", None))

    def panel_url(self, page: str = "/") -> str | None:
        self.calls.append(("panel_url", page))
        if not self.has_panel:
            return None
        return f"http://127.0.0.1:8384/signin?token=once&next={page}"

    def quit(self) -> None:
        self.calls.append(("quit", None))
        if not self.hangs_on_quit:
            self.publish(StatusSnapshot(State.STOPPED))

    def subscribe(self, listener: Callable[[StatusSnapshot], None]) -> Callable[[], None]:
        self.listeners.append(listener)

        def unsubscribe() -> None:
            self.unsubscribed += 1

        return unsubscribe

    def snapshot(self) -> StatusSnapshot:
        return self.current

    def publish(self, snapshot: StatusSnapshot) -> None:
        self.current = snapshot
        for listener in list(self.listeners):
            listener(snapshot)


class RecordingOpener:
    def __init__(self, error: OSError | None = None) -> None:
        self.opened: list[tuple[Path, bool]] = []
        self.error = error

    def __call__(self, path: Path, edit: bool) -> None:
        if self.error is not None:
            raise self.error
        self.opened.append((path, edit))


class RecordingBrowser:
    """Plays `webbrowser.open`: records the address, answers whether a browser started."""

    def __init__(self, starts: bool = True) -> None:
        self.opened: list[str] = []
        self.called = threading.Event()
        self.starts = starts

    def __call__(self, url: str) -> bool:
        self.opened.append(url)
        self.called.set()
        return self.starts


def make_app(
    daemon: RecordingDaemon, opener: RecordingOpener | None = None, **options: Any
) -> TrayApp:
    options.setdefault("browser", RecordingBrowser())
    return TrayApp(daemon, clock=lambda: NOW, opener=opener or RecordingOpener(), **options)


# --- menu actions reach the daemon ----------------------------------------------------------


def test_sync_now_reaches_the_daemon() -> None:
    daemon = RecordingDaemon()
    make_app(daemon).dispatch("sync_now")
    assert daemon.calls == [("sync_now", None)]


def test_pause_for_an_hour_pauses_until_an_hour_from_now() -> None:
    daemon = RecordingDaemon()
    make_app(daemon).dispatch("pause:1h")
    assert daemon.calls == [("pause", NOW + timedelta(hours=1))]


def test_pause_until_tomorrow_pauses_until_the_next_local_midnight() -> None:
    daemon = RecordingDaemon()
    make_app(daemon).dispatch("pause:tomorrow")
    ((_, until),) = daemon.calls
    assert until == datetime(2026, 11, 24, 0, 0).astimezone()
    assert until.tzinfo is not None


def test_pause_until_tomorrow_just_after_midnight_means_the_coming_midnight() -> None:
    after_midnight = datetime(2026, 11, 24, 0, 20).astimezone()
    assert pause_until("pause:tomorrow", after_midnight) == datetime(2026, 11, 25).astimezone()


def test_pause_until_resumed_pauses_without_an_end() -> None:
    daemon = RecordingDaemon()
    make_app(daemon).dispatch("pause:indefinite")
    assert daemon.calls == [("pause", None)]


def test_resume_reaches_the_daemon() -> None:
    daemon = RecordingDaemon(State.PAUSED)
    make_app(daemon).dispatch("resume")
    assert daemon.calls == [("resume", None)]


def test_quit_reaches_the_daemon_once() -> None:
    daemon = RecordingDaemon()
    app = make_app(daemon)
    app.dispatch("quit")
    app.dispatch("quit")
    assert daemon.calls == [("quit", None)]


def test_actions_may_be_given_as_enum_members() -> None:
    daemon = RecordingDaemon()
    make_app(daemon).dispatch(Action.SYNC_NOW)
    assert daemon.calls == [("sync_now", None)]


def test_an_unknown_action_is_refused() -> None:
    with pytest.raises(ValueError, match="delete_everything"):
        make_app(RecordingDaemon()).dispatch("delete_everything")


def test_pause_until_refuses_actions_that_are_not_pauses() -> None:
    with pytest.raises(ValueError, match="not a pause"):
        pause_until("resume", NOW)


# --- opening folders and files ----------------------------------------------------------------


def test_open_media_folder_opens_the_configured_folder(tmp_path: Path) -> None:
    opener = RecordingOpener()
    make_app(RecordingDaemon(), opener, media_dir=tmp_path).dispatch("open_media")
    assert opener.opened == [(tmp_path, False)]


def test_open_media_folder_falls_back_to_the_folder_the_status_reports(tmp_path: Path) -> None:
    opener = RecordingOpener()
    make_app(RecordingDaemon(media_dir=str(tmp_path)), opener).dispatch("open_media")
    assert opener.opened == [(tmp_path, False)]


def test_open_organizer_folder_opens_it(tmp_path: Path) -> None:
    opener = RecordingOpener()
    daemon = RecordingDaemon(role="organizer", organizer_dir=str(tmp_path))
    make_app(daemon, opener).dispatch("open_organizer")
    assert opener.opened == [(tmp_path, False)]


@pytest.mark.parametrize(
    ("action", "page"),
    [("open_panel", "/status"), ("settings", "/setup"), ("manage_media", "/media")],
)
def test_panel_entries_sign_the_browser_in_to_their_page(action: str, page: str) -> None:
    daemon, browser, opener = RecordingDaemon(), RecordingBrowser(), RecordingOpener()
    make_app(daemon, opener, browser=browser).dispatch(action)
    # The browser is started on a thread of its own: a launcher may wait for the browser.
    assert browser.called.wait(5)
    assert browser.opened == [f"http://127.0.0.1:8384/signin?token=once&next={page}"]
    assert daemon.calls == [("panel_url", page)]
    assert opener.opened == []  # Settings… no longer opens the configuration file


def test_view_log_opens_the_log_in_an_editor(tmp_path: Path) -> None:
    log_file = tmp_path / "congsync.log"
    log_file.write_text("")
    opener = RecordingOpener()
    make_app(RecordingDaemon(), opener, log_file=log_file).dispatch("view_log")
    assert opener.opened == [(log_file, True)]


def test_a_missing_path_is_not_handed_to_the_opener(tmp_path: Path) -> None:
    opener = RecordingOpener()
    app = make_app(RecordingDaemon(), opener, log_file=tmp_path / "absent.log")
    app.dispatch("view_log")
    app.dispatch("open_media")  # not configured, not in the status either
    assert opener.opened == []


def test_an_opener_failure_does_not_escape(tmp_path: Path) -> None:
    opener = RecordingOpener(error=FileNotFoundError(2, "No such file", "xdg-open"))
    make_app(RecordingDaemon(), opener, media_dir=tmp_path).dispatch("open_media")


@pytest.mark.parametrize(
    ("platform", "edit", "expected"),
    [
        ("linux", False, ["xdg-open", "/m"]),
        ("linux", True, ["xdg-open", "/m"]),
        ("darwin", False, ["open", "/m"]),
        ("darwin", True, ["open", "-t", "/m"]),
        ("win32", True, ["notepad.exe", "/m"]),
        ("win32", False, None),
    ],
)
def test_opener_command_per_platform(platform: str, edit: bool, expected: list[str] | None) -> None:
    assert opener_command(Path("/m"), edit, platform) == expected


# --- whether there is a tray at all -----------------------------------------------------------


def test_no_display_means_no_tray() -> None:
    available, reason = tray_available(env={}, platform="linux")
    assert not available
    assert "DISPLAY" in reason


def test_a_tray_library_that_cannot_start_means_no_tray(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(name: str) -> Any:
        raise ImportError("this platform is not supported: no systray")

    monkeypatch.setattr("importlib.import_module", fail)
    available, reason = tray_available(env={"DISPLAY": ":0"}, platform="linux")
    assert (available, reason) == (False, "this platform is not supported: no systray")


def test_without_a_tray_congsync_says_so_once_and_runs_headless(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tray_app, "tray_available", lambda: (False, "no display"))
    said: list[str] = []
    waited: list[bool] = []
    shown = run_tray_or_headless(
        RecordingDaemon(), headless_wait=lambda: waited.append(True), say=said.append
    )
    assert not shown
    assert said == ["No system tray available (no display); running without it."]
    assert waited == [True]


def test_the_icon_refuses_to_run_off_the_main_thread() -> None:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            make_app(RecordingDaemon()).run()
        except RuntimeError as exc:
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(5)
    assert len(errors) == 1


# --- the icon, with a stand-in for pystray ------------------------------------------------------


@pytest.fixture
def fake_pystray(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    return install_fake_pystray(monkeypatch)


@pytest.mark.timeout(30)
@pytest.mark.usefixtures("fake_pystray")
def test_status_from_a_worker_thread_reaches_the_icon() -> None:
    daemon = RecordingDaemon(last_sync_at="2026-11-23T14:02:00")

    def drive(icon: FakeIcon) -> None:
        assert icon.visible
        assert icon.title == "Up to date · 14:02"
        first_image = icon.icon
        worker = threading.Thread(
            target=daemon.publish,
            args=(StatusSnapshot(State.SYNCING, progress=Progress(files_done=1, files_total=4)),),
        )
        worker.start()
        eventually(lambda: icon.title == "Syncing · 1 of 4 files")
        eventually(lambda: icon.icon is not first_image)
        labels = [item.text for item in icon.menu.items]
        assert labels[:3] == ["Open congsync…", "- - - -", "Syncing · 1 of 4 files"]
        icon.click("Quit")

    run_with_driver(make_app(daemon), drive)
    assert ("quit", None) in daemon.calls


@pytest.mark.timeout(30)
@pytest.mark.usefixtures("fake_pystray")
def test_rapid_progress_is_held_back_in_the_menu_but_arrives() -> None:
    daemon = RecordingDaemon(State.SYNCING, progress=Progress(0, 50))

    def drive(icon: FakeIcon) -> None:
        menus = set()
        for done in range(1, 51):
            daemon.publish(StatusSnapshot(State.SYNCING, progress=Progress(done, 50)))
            menus.add(id(icon.menu))
            time.sleep(0.005)
        eventually(lambda: icon.menu.items[2].text == "Syncing · 50 of 50 files")
        assert len(menus) < 10  # not one native menu per file
        assert icon.title == "Syncing · 50 of 50 files"
        icon.click("Quit")

    run_with_driver(make_app(daemon), drive)


@pytest.mark.timeout(30)
@pytest.mark.usefixtures("fake_pystray")
def test_a_state_change_replaces_the_menu_at_once() -> None:
    daemon = RecordingDaemon(State.SYNCING, progress=Progress(0, 5))

    def drive(icon: FakeIcon) -> None:
        daemon.publish(StatusSnapshot(State.SYNCING, progress=Progress(1, 5)))
        eventually(lambda: icon.title == "Syncing · 1 of 5 files")
        daemon.publish(StatusSnapshot(State.PAUSED))
        eventually(lambda: any(i.text == "Resume syncing" for i in icon.menu.items), 0.9)
        icon.click("Quit")

    run_with_driver(make_app(daemon), drive)


@pytest.mark.timeout(30)
@pytest.mark.usefixtures("fake_pystray")
def test_the_syncing_icon_is_animated() -> None:
    daemon = RecordingDaemon(State.SYNCING)

    def drive(icon: FakeIcon) -> None:
        seen = {id(icon.icon)}
        deadline = time.monotonic() + 3
        while len(seen) < 3 and time.monotonic() < deadline:
            seen.add(id(icon.icon))
            time.sleep(0.05)
        assert len(seen) >= 3
        app.close()

    app = make_app(daemon)
    run_with_driver(app, drive)


@pytest.mark.timeout(30)
@pytest.mark.usefixtures("fake_pystray")
def test_menu_clicks_reach_the_daemon_and_the_menu_follows() -> None:
    daemon = RecordingDaemon()

    def drive(icon: FakeIcon) -> None:
        icon.click("Sync now")
        icon.click("For 1 hour")
        assert daemon.calls == [("sync_now", None), ("pause", NOW + timedelta(hours=1))]
        daemon.publish(StatusSnapshot(State.PAUSED))
        eventually(lambda: any(i.text == "Resume syncing" for i in icon.menu.items))
        icon.click("Resume syncing")
        assert daemon.calls[-1] == ("resume", None)
        icon.click("Quit")

    run_with_driver(make_app(daemon), drive)
    assert daemon.calls[-1] == ("quit", None)


@pytest.mark.timeout(30)
@pytest.mark.usefixtures("fake_pystray")
def test_quit_stops_the_daemon_and_ends_the_icon() -> None:
    daemon = RecordingDaemon()
    app = make_app(daemon)
    run_with_driver(app, lambda icon: icon.click("Quit"))
    assert daemon.calls == [("quit", None)]
    assert daemon.unsubscribed == 1
    assert app.icon is None


@pytest.mark.timeout(30)
@pytest.mark.usefixtures("fake_pystray")
def test_after_quit_the_icon_says_stopping_until_the_daemon_has_stopped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tray_app, "_QUIT_GRACE", 1.0)
    daemon = RecordingDaemon()
    daemon.hangs_on_quit = True
    seen: list[tuple[str, list[str]]] = []

    def drive(icon: FakeIcon) -> None:
        icon.click("Quit")
        eventually(lambda: icon.title == "Stopping…")
        seen.append((icon.title, [item.text for item in icon.menu.items]))

    started = time.monotonic()
    run_with_driver(make_app(daemon), drive)
    assert seen == [("Stopping…", ["Stopping…"])]
    assert time.monotonic() - started >= 0.9  # it waited for "stopped", then gave up
    assert daemon.calls == [("quit", None)]


@pytest.mark.timeout(30)
@pytest.mark.usefixtures("fake_pystray")
def test_a_daemon_that_stops_by_itself_ends_the_icon_without_another_quit() -> None:
    daemon = RecordingDaemon()
    run_with_driver(make_app(daemon), lambda icon: daemon.publish(StatusSnapshot(State.STOPPED)))
    assert daemon.calls == []


@pytest.mark.timeout(30)
@pytest.mark.usefixtures("fake_pystray")
def test_closing_the_icon_asks_the_daemon_to_quit() -> None:
    daemon = RecordingDaemon()
    app = make_app(daemon)
    run_with_driver(app, lambda icon: app.close())
    assert daemon.calls == [("quit", None)]


@pytest.mark.timeout(30)
@pytest.mark.usefixtures("fake_pystray")
def test_an_icon_started_before_the_daemon_waits_for_it() -> None:
    daemon = RecordingDaemon(State.STOPPED)

    def drive(icon: FakeIcon) -> None:
        time.sleep(0.3)
        assert not icon.stop_threads  # still there
        daemon.publish(StatusSnapshot(State.IDLE))
        eventually(lambda: icon.title == "Waiting for the first sync")
        daemon.publish(StatusSnapshot(State.STOPPED))

    run_with_driver(make_app(daemon), drive)


@pytest.mark.timeout(30)
@pytest.mark.usefixtures("fake_pystray")
def test_notifications_reach_the_icon_once() -> None:
    daemon = RecordingDaemon(last_sync_at="2026-11-23T13:00:00")

    def drive(icon: FakeIcon) -> None:
        synced = StatusSnapshot(
            State.IDLE,
            last_sync_at="2026-11-23T14:02:00",
            last_result={"new_by_date": {"2026-11-24": 5}},
        )
        daemon.publish(synced)
        daemon.publish(synced)
        daemon.publish(StatusSnapshot(State.ERROR, message="The password was rejected."))
        eventually(lambda: len(icon.notes) == 2)
        time.sleep(0.2)
        assert icon.notes == [
            ("New meeting media", "5 new files for Tuesday 24 November"),
            ("congsync cannot sync", "The password was rejected."),
        ]
        icon.click("Quit")

    run_with_driver(make_app(daemon), drive)


@pytest.mark.timeout(30)
@pytest.mark.usefixtures("fake_pystray")
def test_notifications_can_be_turned_off() -> None:
    daemon = RecordingDaemon()

    def drive(icon: FakeIcon) -> None:
        daemon.publish(StatusSnapshot(State.ERROR, message="The password was rejected."))
        eventually(lambda: icon.title.startswith("Error"))
        time.sleep(0.2)
        assert icon.notes == []
        icon.click("Quit")

    run_with_driver(make_app(daemon, notifications_enabled=False), drive)


@pytest.mark.timeout(30)
@pytest.mark.usefixtures("fake_pystray")
def test_a_browser_that_cannot_be_started_becomes_a_notification() -> None:
    browser = RecordingBrowser(starts=False)

    def drive(icon: FakeIcon) -> None:
        icon.click("Open congsync…")
        eventually(lambda: len(icon.notes) == 1)
        title, message = icon.notes[0]
        assert title == "Cannot open congsync"
        assert "congsync open --print-url" in message
        icon.click("Quit")

    run_with_driver(make_app(RecordingDaemon(), browser=browser), drive)


@pytest.mark.timeout(30)
@pytest.mark.usefixtures("fake_pystray")
def test_a_daemon_without_a_panel_is_told_rather_than_opened() -> None:
    browser, daemon = RecordingBrowser(), RecordingDaemon(role="organizer")
    daemon.has_panel = False  # its control endpoint is not running

    def drive(icon: FakeIcon) -> None:
        icon.click("Manage media…")
        eventually(lambda: len(icon.notes) == 1)
        assert icon.notes[0] == ("Cannot open congsync", "congsync is not running at the moment.")
        icon.click("Quit")

    run_with_driver(make_app(daemon, browser=browser), drive)
    assert browser.opened == []


@pytest.mark.timeout(30)
@pytest.mark.usefixtures("fake_pystray")
def test_a_failing_command_becomes_a_notification(tmp_path: Path) -> None:
    daemon = RecordingDaemon()

    def drive(icon: FakeIcon) -> None:
        icon.click("Open media folder")
        eventually(lambda: len(icon.notes) == 1)
        assert icon.notes[0][0] == "Cannot open it"
        icon.click("Quit")

    run_with_driver(make_app(daemon, media_dir=tmp_path / "not-there"), drive)


@pytest.mark.timeout(30)
@pytest.mark.usefixtures("fake_pystray")
def test_an_icon_that_cannot_be_created_reports_no_tray(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError("no StatusNotifierWatcher on the bus")

    monkeypatch.setattr(FakeIcon, "__init__", broken)
    daemon = RecordingDaemon()
    with pytest.raises(TrayUnavailable, match="StatusNotifierWatcher"):
        make_app(daemon).run()
    assert daemon.listeners == []  # nothing left subscribed for the headless run


def test_tooltips_fit_the_xorg_window_title() -> None:
    # pystray's Xorg backend shows the tooltip as a Latin-1 window name; anything else raises.
    assert tray_app._fit_title("Stopping…", "xorg") == "Stopping..."
    assert tray_app._fit_title("Up to date · 14:02", "xorg") == "Up to date · 14:02"
    assert tray_app._fit_title("Синхронизация", "xorg").isascii()
    assert tray_app._fit_title("Stopping…", "win32") == "Stopping…"


def test_confirming_the_removals_reaches_the_daemon_as_an_accepted_sync() -> None:
    daemon = RecordingDaemon(State.ATTENTION, needs_confirmation=True)
    make_app(daemon).dispatch(Action.CONFIRM_REMOVALS)
    assert daemon.calls == [("sync_now", True)]
