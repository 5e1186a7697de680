"""The one protocol between a running daemon and its faces (implemented by `service.Daemon`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from daemon.service.status import StatusSnapshot


class DaemonControl(Protocol):
    """What the faces (tray, control endpoint, a panel) ask of a running daemon, whichever
    process they are in; every method may be called from any thread and returns at once."""

    def sync_now(self, accept_deletions: bool = False) -> int:
        """Start a sync cycle looking at everything, as soon as possible. `accept_deletions`
        confirms a safety stop for that cycle. Returns the status document's `cycles_finished`
        value at which the requested cycle is over."""
        ...

    def pause(self, until: datetime | None) -> None:
        """Stop syncing until `until` (timezone-aware), or until `resume` when None; returns at once."""
        ...

    def resume(self) -> None:
        """Undo `pause`; returns at once."""
        ...

    def credentials_changed(self) -> None:
        """A new password was saved (setup, the panel): sync now with it, also out of a
        "wrong password" error, without a restart; returns at once."""
        ...

    def panel_url(self, page: str = "/") -> str | None:
        """A one-time sign-in address opening `page` ("/status", "/setup", "/media") of the
        control panel in a browser, or None when there is no panel to open."""
        ...

    def quit(self) -> None:
        """Ask the daemon to stop gracefully; calling it again does nothing.

        It may return at once (whoever called `TrayApp.run` then finishes the stop, e.g. with
        `Daemon.stop()`) or once the daemon has stopped.
        """
        ...

    def subscribe(self, listener: Callable[[StatusSnapshot], None]) -> object:
        """Call `listener` with every new snapshot, from whichever thread publishes it.

        The last snapshot a daemon publishes as it stops has the state STOPPED. If the
        return value is callable, the tray calls it to unsubscribe when its icon closes.
        """
        ...

    def snapshot(self) -> StatusSnapshot:
        """The current status."""
        ...
