"""The tray says everything again in a new language as soon as the daemon switches (headless:
pystray is replaced by the stand-in in tests/tray_support.py, since no desktop runs here)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from tray_support import FakeIcon, eventually, install_fake_pystray, run_with_driver

from daemon.i18n import set_language
from daemon.service.status import State, StatusSnapshot
from tray.app import TrayApp
from tray.menu import build_menu
from tray.notify import notifications_for

NOW = datetime(2026, 11, 23, 14, 30).astimezone()


class Daemon:
    def __init__(self) -> None:
        self.listeners: list[Callable[[StatusSnapshot], None]] = []
        self.current = StatusSnapshot(State.IDLE, last_sync_at="2026-11-23T14:02:00")

    def subscribe(self, listener: Callable[[StatusSnapshot], None]) -> Callable[[], None]:
        self.listeners.append(listener)
        return lambda: None

    def snapshot(self) -> StatusSnapshot:
        return self.current

    def publish(self, snapshot: StatusSnapshot) -> None:
        self.current = snapshot
        for listener in list(self.listeners):
            listener(snapshot)

    def quit(self) -> None:
        self.publish(StatusSnapshot(State.STOPPED))

    def panel_url(self, page: str = "/") -> str | None:
        return None


@pytest.fixture
def fake_pystray(monkeypatch: pytest.MonkeyPatch) -> None:
    install_fake_pystray(monkeypatch)


def test_the_menu_model_follows_the_current_language(catalogues: Path) -> None:
    status = StatusSnapshot(State.IDLE)
    assert build_menu(status, NOW)[0].label == "Open congsync…"
    set_language("sl")
    assert build_menu(status, NOW)[0].label == "Odpri congsync…"
    set_language("es")
    assert build_menu(status, NOW)[0].label == "Abrir congsync…"


def test_a_notification_is_said_when_it_is_shown(catalogues: Path) -> None:
    from daemon.i18n import fact

    before = StatusSnapshot(State.IDLE)
    after = StatusSnapshot(State.ERROR, message=fact("The username is empty."))
    set_language("sl")
    ((_title, message),) = notifications_for(before, after, True)
    assert message == "Uporabniško ime je prazno."


@pytest.mark.timeout(30)
@pytest.mark.usefixtures("fake_pystray")
def test_the_running_tray_relabels_its_menu_and_tooltip(catalogues: Path) -> None:
    daemon = Daemon()
    app = TrayApp(daemon, clock=lambda: NOW, opener=lambda path, edit: None)  # type: ignore[arg-type]

    def drive(icon: FakeIcon) -> None:
        assert icon.menu.items[0].text == "Open congsync…"
        assert icon.title.startswith("Up to date")
        # What the daemon does when the setting changes: switch, then publish the status.
        set_language("sl")
        daemon.publish(replace(daemon.current, language="sl"))
        eventually(lambda: icon.title.startswith("Posodobljeno"))
        eventually(lambda: icon.menu.items[0].text == "Odpri congsync…")
        app.close()

    run_with_driver(app, drive)


@pytest.mark.timeout(30)
@pytest.mark.usefixtures("fake_pystray")
def test_a_switch_while_the_menu_is_made_relabels_it_at_the_next_status(
    catalogues: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from daemon.sync.progress import Progress
    from tray import app as tray_app

    # Wording-only menu changes wait "a second": here for ever, so only a relabel can show sl.
    monkeypatch.setattr(tray_app, "_MENU_WORDING_INTERVAL", 3600.0)
    made = tray_app.build_menu
    switch_after_making = threading.Event()

    def make_then_maybe_switch(status: StatusSnapshot, now: datetime) -> Any:
        model = made(status, now)
        if switch_after_making.is_set():
            switch_after_making.clear()
            set_language("sl")  # the panel's switch, landing while the tray makes its menu
        return model

    monkeypatch.setattr(tray_app, "build_menu", make_then_maybe_switch)
    daemon = Daemon()
    app = TrayApp(daemon, clock=lambda: NOW, opener=lambda path, edit: None)  # type: ignore[arg-type]

    def drive(icon: FakeIcon) -> None:
        switch_after_making.set()
        syncing = StatusSnapshot(State.SYNCING, progress=Progress(files_done=1, files_total=4))
        daemon.publish(syncing)  # a new shape: shown at once, made in English
        eventually(lambda: not switch_after_making.is_set())
        daemon.publish(replace(syncing, language="sl"))  # what the daemon publishes next
        eventually(lambda: icon.menu.items[0].text == "Odpri congsync…")
        app.close()

    run_with_driver(app, drive)
