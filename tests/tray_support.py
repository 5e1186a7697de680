"""A stand-in for pystray (no desktop runs here), shared by the tray's tests: menus and an
icon whose `run` blocks until `stop` with `setup` on another thread, as pystray's does."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest

from tray import app as tray_app
from tray.app import TrayApp


class FakeMenuItem:
    def __init__(
        self,
        text: str,
        action: Any,
        checked: Any = None,
        radio: bool = False,
        default: bool = False,
        visible: bool = True,
        enabled: bool = True,
    ) -> None:
        self.text, self.action, self.default, self.enabled = text, action, default, enabled


class FakeMenu:
    SEPARATOR = FakeMenuItem("- - - -", None)

    def __init__(self, *items: FakeMenuItem) -> None:
        self.items = items


class FakeIcon:
    """pystray.Icon's surface: `run` blocks until `stop`, `setup` runs on another thread."""

    HAS_MENU = True
    HAS_NOTIFICATION = True
    created: ClassVar[list[FakeIcon]] = []

    def __init__(self, name: str, icon: Any = None, title: str = "", menu: Any = None) -> None:
        self.name, self.icon, self.title, self.menu = name, icon, title, menu
        self.visible = False
        self.notes: list[tuple[str | None, str]] = []
        self.stop_threads: list[str] = []
        self._stopped = threading.Event()
        FakeIcon.created.append(self)

    def run(self, setup: Callable[[FakeIcon], None]) -> None:
        worker = threading.Thread(target=setup, args=(self,), name="fake-setup")
        worker.start()
        assert self._stopped.wait(10), "the icon was never stopped"
        worker.join(5)

    def stop(self) -> None:
        self.stop_threads.append(threading.current_thread().name)
        self._stopped.set()

    def notify(self, message: str, title: str | None = None) -> None:
        self.notes.append((title, message))

    def click(self, label: str) -> None:
        """Choose a menu item, as pystray does: on the event loop's thread, with (icon, item)."""
        for item in self._items(self.menu):
            if item.text == label:
                item.action(self, item)
                return
        raise AssertionError(f"no menu item {label!r}")

    def _items(self, menu: FakeMenu) -> Iterator[FakeMenuItem]:
        for item in menu.items:
            yield item
            if isinstance(item.action, FakeMenu):
                yield from self._items(item.action)


def install_fake_pystray(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """The tray imports the stand-in instead of pystray (for this test)."""
    FakeIcon.created = []
    module = SimpleNamespace(Icon=FakeIcon, Menu=FakeMenu, MenuItem=FakeMenuItem)
    monkeypatch.setattr(tray_app, "_import_pystray", lambda: module)
    return module


def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def run_with_driver(app: TrayApp, drive: Callable[[FakeIcon], None]) -> None:
    """Run the app on this (main) thread while `drive` plays the user and the daemon."""
    failures: list[BaseException] = []

    def driver() -> None:
        try:
            assert app.ready.wait(5)
            drive(FakeIcon.created[-1])
        except BaseException as exc:
            failures.append(exc)
            app.close()

    thread = threading.Thread(target=driver, name="driver")
    thread.start()
    app.run()
    thread.join(5)
    if failures:
        raise failures[0]
