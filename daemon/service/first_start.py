"""The first start on a desktop: the control panel's setup page alone, until congsync is set up.

`congsync run` on a computer where nothing is configured yet serves the panel on the loopback
control endpoint, as the daemon would (same guards, same one-time sign-in), and waits until the
Setup page's save has written the configuration file; then it closes that endpoint and the
daemon starts as usual. Meanwhile it holds the configuration's daemon lock and publishes the
endpoint in the control file, so that a second `congsync run` says "already running", and
`congsync open setup` and `congsync stop` find it.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from http import HTTPStatus

from daemon.errors import RequestRefused
from daemon.i18n import fact
from daemon.paths import Paths
from daemon.service.control import ControlServer, Request, Response, Route
from daemon.service.control.api import Context
from daemon.service.daemon import on_stop_signals
from daemon.service.instance import SingleInstance
from daemon.service.status import Listener, State, StatusBoard, StatusSnapshot

log = logging.getLogger(__name__)

# How long a save that has written the configuration may take to finish (the password into
# the keyring, its answer to the browser) before the daemon takes over regardless.
_SAVE_GRACE = 30.0


def not_set_up() -> StatusSnapshot:
    """The status while only the setup page is served."""
    return StatusSnapshot(
        state=State.ATTENTION,
        message=fact("congsync is not set up yet: fill in its Setup page."),
    )


def serve_setup(
    paths: Paths,
    routes: Mapping[str, Mapping[str, Route]],
    *,
    show: Callable[[str], None],
    poll: float = 0.5,
) -> bool:
    """Serve the panel's `routes` until `paths.config_file` exists (True), or until asked to
    stop first (`congsync stop`, Ctrl+C, SIGTERM: False). `show` gets the one-time sign-in
    address of the setup page once the endpoint listens.

    Raises `AlreadyRunning` when another congsync holds the configuration's lock.
    """
    instance = SingleInstance(paths)
    instance.acquire()
    try:
        paths.ensure()
        board = StatusBoard(paths.status_file, not_set_up())
        control = SetupOnlyControl(board)
        saving = _InFlight()
        server = ControlServer(
            board,
            control,
            paths,
            routes={path: saving.track_all(methods) for path, methods in routes.items()},
        )
        server.start()
        control.server = server
        restore = on_stop_signals(control.quit)
        try:
            log.info("Not set up yet; serving the setup page on %s", server.url)
            show(server.signin_url("/setup"))
            while not paths.config_file.exists():
                if control.stop_requested.wait(poll):
                    return False
            # The save that wrote the file may still be storing the password: let it finish.
            if not saving.wait_until_idle(_SAVE_GRACE):
                log.warning("The setup page's save did not finish; starting congsync anyway")
            log.info("The configuration %s was saved; starting congsync", paths.config_file)
            return True
        finally:
            restore()
            server.stop()
            board.close()
    finally:
        instance.release()


class SetupOnlyControl:
    """The `DaemonControl` of a congsync that is not set up yet: nothing to sync or pause."""

    def __init__(self, board: StatusBoard) -> None:
        self._board = board
        self.stop_requested = threading.Event()
        self.server: ControlServer | None = None

    def sync_now(self, accept_deletions: bool = False) -> int:
        raise _not_yet()

    def pause(self, until: datetime | None) -> None:
        raise _not_yet()

    def resume(self) -> None:
        raise _not_yet()

    def credentials_changed(self) -> None:
        """Nothing to tell: the daemon that starts after the setup reads the saved password."""

    def panel_url(self, page: str = "/") -> str | None:
        server = self.server
        return None if server is None else server.signin_url(page)

    def quit(self) -> None:
        self.stop_requested.set()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        return self._board.subscribe(listener)

    def snapshot(self) -> StatusSnapshot:
        return self._board.snapshot()


def _not_yet() -> RequestRefused:
    return RequestRefused(
        HTTPStatus.CONFLICT, fact("congsync is not set up yet: finish the setup page first.")
    )


class _InFlight:
    """Counts the changes (requests other than GET) being answered, to wait for the one that
    saves the setup; a page's long poll does not hold up the start."""

    def __init__(self) -> None:
        self._count = 0
        self._changed = threading.Condition()

    def track_all(self, methods: Mapping[str, Route]) -> dict[str, Route]:
        return {
            method: route if method == "GET" else self._track(route)
            for method, route in methods.items()
        }

    def _track(self, route: Route) -> Route:
        @functools.wraps(route)  # keeps the route's marks (`streams_body`)
        def tracked(context: Context, request: Request) -> Response:
            with self._changed:
                self._count += 1
            try:
                return route(context, request)
            finally:
                with self._changed:
                    self._count -= 1
                    self._changed.notify_all()

        return tracked

    def wait_until_idle(self, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self._count == 0, timeout)
