"""The tray says everything again in a new language as soon as the daemon switches (headless:
pystray is replaced by a stand-in, as in tests/faces/test_tray_app.py, since no desktop runs here)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest

from daemon.i18n import set_language
from daemon.service.status import State, StatusSnapshot
from tray import app as tray_app
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


class Item:
    def __init__(self, text: str, action: Any, **_options: Any) -> None:
        self.text, self.action = text, action


class Menu:
    SEPARATOR = Item("- - - -", None)

    def __init__(self, *items: Item) -> None:
        self.items = items


class Icon:
    HAS_MENU = True
    HAS_NOTIFICATION = True
    created: ClassVar[list[Icon]] = []

    def __init__(self, name: str, icon: Any = None, title: str = "", menu: Any = None) -> None:
        self.name, self.icon, self.title, self.menu = name, icon, title, menu
        self.visible = False
        self._stopped = threading.Event()
        Icon.created.append(self)

    def run(self, setup: Callable[[Icon], None]) -> None:
        worker = threading.Thread(target=setup, args=(self,), name="fake-setup")
        worker.start()
        assert self._stopped.wait(10), "the icon was never stopped"
        worker.join(5)

    def stop(self) -> None:
        self._stopped.set()

    def notify(self, message: str, title: str | None = None) -> None:
        pass


@pytest.fixture
def fake_pystray(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    Icon.created = []
    module = SimpleNamespace(Icon=Icon, Menu=Menu, MenuItem=Item)
    monkeypatch.setattr(tray_app, "_import_pystray", lambda: module)
    yield


def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


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
    failures: list[BaseException] = []

    def drive() -> None:
        try:
            assert app.ready.wait(5)
            icon = Icon.created[-1]
            assert icon.menu.items[0].text == "Open congsync…"
            assert icon.title.startswith("Up to date")
            # What the daemon does when the setting changes: switch, then publish the status.
            set_language("sl")
            daemon.publish(replace(daemon.current, language="sl"))
            eventually(lambda: icon.title.startswith("Posodobljeno"))
            eventually(lambda: icon.menu.items[0].text == "Odpri congsync…")
        except BaseException as exc:
            failures.append(exc)
        finally:
            app.close()

    thread = threading.Thread(target=drive, name="driver")
    thread.start()
    app.run()
    thread.join(5)
    if failures:
        raise failures[0]
