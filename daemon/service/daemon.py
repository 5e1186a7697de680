"""The always-on daemon: one instance lock, the status board, the scheduler and the control endpoint.

Two ways to run it:
  * headless (`congsync run`): `Daemon(...).run_forever()` blocks until SIGTERM/SIGINT,
    `congsync stop` or `quit()`, then shuts down gracefully (within 5 s) and returns;
  * under the tray: pystray owns the main thread, so the caller runs `start()` (everything
    runs in background threads) and the tray talks to the daemon through `sync_now`, `pause`,
    `resume`, `quit`, `subscribe` and `snapshot`. `quit()` (the tray's Quit, or `congsync
    stop` from another terminal) stops the daemon in the background; its last snapshot is
    "stopped", which closes the tray; the caller then calls `stop()`, which waits for it.

What others find of it lives in the state folder (lock, status file, control file, pause). If
someone removes that folder while the daemon runs, the daemon notices within
`state_check_every` seconds (and before every cycle) and puts it all back; if meanwhile
another daemon took the configuration's lock, this one stops (`lost`) and leaves that one's
files alone.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

from daemon.errors import CongsyncError
from daemon.i18n import apply_setting, current_language
from daemon.paths import Paths
from daemon.service.control import ControlServer, Route
from daemon.service.instance import SingleInstance, read_lock_pid
from daemon.service.scheduler import CycleRunner, SyncScheduler
from daemon.service.status import Listener, State, StatusBoard, StatusSnapshot, read_status_file
from daemon.sync.media_folder import MeetingSummary
from daemon.sync.progress import Progress
from daemon.sync.result import SyncResult

logger = logging.getLogger(__name__)

# The signals that mean "please end" (SIGBREAK is Ctrl+Break on Windows, SIGHUP a closed terminal).
_STOP_SIGNALS = tuple(
    getattr(signal, name)
    for name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGBREAK")
    if hasattr(signal, name)
)


class Companion(Protocol):
    """Something that runs beside the daemon (the organizer-folder watcher)."""

    def start(self) -> None: ...

    def stop(self, timeout: float = 5.0) -> None: ...


class Daemon:
    """congsync's background service for one configuration (profile)."""

    def __init__(
        self,
        paths: Paths,
        runner: CycleRunner,
        *,
        interval: float = 60.0,
        role: str = "member",
        media_dir: str | os.PathLike[str] | None = None,
        organizer_dir: str | os.PathLike[str] | None = None,
        on_quit: Callable[[], None] | None = None,
        shutdown_timeout: float = 5.0,
        scheduler_options: Mapping[str, Any] | None = None,
        meetings: Callable[[], Sequence[MeetingSummary]] | None = None,
        state_check_every: float | None = 5.0,
        routes: Mapping[str, Mapping[str, Route]] | None = None,
        language: Callable[[], str] | None = None,
    ) -> None:
        self._paths = paths
        self._runner = runner
        self._interval = interval
        self._role = role
        self._media_dir = os.fspath(media_dir) if media_dir is not None else None
        self._organizer_dir = os.fspath(organizer_dir) if organizer_dir is not None else None
        self._on_quit = on_quit
        self._shutdown_timeout = shutdown_timeout
        self._scheduler_options = dict(scheduler_options or {})
        self._meetings = meetings
        self._routes = routes  # more pages for the control endpoint (the panel)
        self._companions: list[Companion] = []
        # The `language` setting as the configuration says it now ("" = the system's).
        self._language_setting = language

        self._lock = threading.RLock()
        self._quit = threading.Event()
        self._quit_events: list[threading.Event] = [self._quit]
        self._early_listeners: list[Listener] = []
        self._instance: SingleInstance | None = None
        self._board: StatusBoard | None = None
        self._control: ControlServer | None = None
        self._scheduler: SyncScheduler | None = None
        self._started = False
        self._stopped = False
        self._done = threading.Event()  # set once a stop has finished
        self._run_forever_active = False
        self._state_check_every = state_check_every
        self._keeper_stop = threading.Event()
        self._keep_lock = threading.Lock()
        self._lost = False

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Take the instance lock and start everything in background threads.

        Raises `instance.AlreadyRunning` when another daemon runs for this configuration.
        """
        with self._lock:
            if self._started:
                return
            self._paths.ensure()
            self.claim()
            try:
                self._start_parts()
            except BaseException:
                self._tear_down(timeout=self._shutdown_timeout)
                raise
            self._started = True
            logger.info("congsync daemon started (process %d)", os.getpid())
        for companion in self._companions:
            companion.start()

    def claim(self) -> None:
        """Take the instance lock now, before anything else is done or said.

        Raises `AlreadyRunning` when another daemon runs for this configuration; `start` takes
        the lock itself when nobody claimed it before.
        """
        with self._lock:
            if self._instance is not None:
                return
            instance = SingleInstance(self._paths)
            instance.acquire()
            self._instance = instance

    @property
    def lost(self) -> bool:
        """Whether it stopped because another daemon took over its removed state folder."""
        return self._lost

    def panel_url(self, page: str = "/") -> str | None:
        """A one-time sign-in address that opens `page` of the panel in a browser (None when
        the control endpoint is not running)."""
        control = self._control
        return None if control is None else control.signin_url(page)

    def add_companion(self, companion: Companion) -> None:
        """Run `companion` from `start` until `stop` (add it before starting)."""
        self._companions.append(companion)

    def _start_parts(self) -> None:
        previous = read_status_file(self._paths.status_file)
        board = StatusBoard(
            self._paths.status_file,
            StatusSnapshot(
                state=State.IDLE,
                last_sync_at=previous.get("last_sync_at"),
                last_result=previous.get("last_result"),
                role=self._role,
                media_dir=self._media_dir,
                organizer_dir=self._organizer_dir,
                language=current_language(),
            ),
        )
        self._board = board
        self.apply_language()
        for listener in self._early_listeners:
            board.subscribe(listener)
        self._early_listeners.clear()
        control = ControlServer(board, self, self._paths, routes=self._routes)
        control.start()
        self._control = control
        scheduler = SyncScheduler(
            self._cycle,
            board,
            self._interval,
            **{
                "pause_file": self._paths.pause_file,
                "before_cycle": self._keep_state,
                **self._scheduler_options,
            },
        )
        self._scheduler = scheduler
        scheduler.start()
        if self._state_check_every:
            threading.Thread(
                target=self._keep_state_loop,
                args=(self._state_check_every,),
                name="congsync-state",
                daemon=True,
            ).start()

    def stop(self, timeout: float | None = None) -> None:
        """End gracefully: cancel the cycle, mark the status stopped, close the endpoint, unlock.

        Returns once stopped; a second caller waits for the first one's stop to complete.
        """
        timeout = self._shutdown_timeout if timeout is None else timeout
        with self._lock:
            if not self._started:
                if self._instance is not None:  # claimed, never started
                    self._instance.release()
                    self._instance = None
                return
            already = self._stopped
            self._stopped = True
        if already:
            # Bounded: the tear-down itself waits at most `timeout` for the cycle.
            self._done.wait(timeout + 5.0)
            return
        logger.info("congsync daemon stopping")
        try:
            self._tear_down(timeout)
        finally:
            self._done.set()
        logger.info("congsync daemon stopped")

    def _cycle(
        self,
        cancel: threading.Event,
        on_progress: Callable[[Progress], None],
        *,
        full_listing: bool,
        accept_deletions: bool,
    ) -> SyncResult:
        """The profile's cycle, then the meetings it leaves (for the tray and the panel)."""
        result = self._runner(
            cancel, on_progress, full_listing=full_listing, accept_deletions=accept_deletions
        )
        board = self._board
        if self._meetings is not None and board is not None:
            board.update(meetings=tuple(self._meetings()))
        return result

    # -- the state folder ---------------------------------------------------------------------

    def _keep_state_loop(self, every: float) -> None:
        while not self._keeper_stop.wait(every):
            self._keep_state()

    def _keep_state(self) -> bool:
        """Put back what was removed of the state folder; False when this daemon must stop.

        The lock comes first: only while this daemon holds the configuration's lock does it
        write the status, control and pause files, so it never overwrites another daemon's.
        Called every `state_check_every` seconds and by the scheduler before each cycle
        (under the scheduler's lock, which is therefore never taken under `_keep_lock`).
        """
        scheduler = self._scheduler
        if not self._check_state_files():
            return False
        if scheduler is not None and not self._paths.pause_file.exists():
            scheduler.save_pause()  # nothing to do unless paused
        return True

    def _check_state_files(self) -> bool:
        with self._keep_lock:
            instance, board = self._instance, self._board
            control, scheduler = self._control, self._scheduler
            if self._lost:
                return False
            if instance is None or board is None or control is None or scheduler is None:
                return True
            if self._keeper_stop.is_set():
                return True
            try:
                if not instance.intact():
                    if not instance.retake():
                        self._lose(read_lock_pid(instance.path))
                        return False
                    self._paths.ensure()
                    logger.warning(
                        "The state folder %s was removed while congsync ran; recreated its "
                        "lock, status and control files",
                        self._paths.state_dir,
                    )
                if not _names_this_process(self._paths.status_file):
                    board.write_file()
                if not control.publishes_address():
                    control.publish_address()
            except OSError as exc:
                logger.error(
                    "congsync cannot recreate its state folder %s (%s); stopping",
                    self._paths.state_dir,
                    exc,
                )
                self._lose(None)
                return False
        return True

    def _lose(self, other: int | None) -> None:
        """Stop without touching the state folder, which is another daemon's (or unusable)."""
        if other is not None:
            logger.error(
                "The state folder %s was removed and another congsync (process %d) now runs "
                "for this configuration; this one stops",
                self._paths.state_dir,
                other,
            )
        self._lost = True
        if self._board is not None:
            self._board.forget_file()
        # In a thread of its own: this may run under the scheduler's lock.
        threading.Thread(target=self.quit, name="congsync-quit").start()

    def _tear_down(self, timeout: float) -> None:
        with self._keep_lock:  # a check under way ends first; none starts afterwards
            self._keeper_stop.set()
        for companion in self._companions:
            companion.stop()
        if self._scheduler is not None:
            self._scheduler.shutdown(timeout)
        if self._board is not None:
            self._board.close()
        if self._control is not None:
            self._control.stop()
        if self._instance is not None:
            self._instance.release()

    def run_forever(self, stop_event: threading.Event | None = None) -> None:
        """Start (if needed), run until asked to stop, then shut down gracefully and return.

        Asked to stop means: `stop_event` set, `quit()` (e.g. `congsync stop`), or SIGTERM /
        SIGINT when called on the main thread.
        """
        waiter = stop_event or self._quit
        if stop_event is not None:
            with self._lock:
                self._quit_events.append(stop_event)
        # Before starting: a signal that arrives while the first cycle begins still stops it.
        restore = on_stop_signals(self.quit)
        try:
            self.start()
            with self._lock:
                self._run_forever_active = True
            # A timed wait, so that Ctrl+C is delivered promptly on Windows too.
            while not waiter.is_set() and not self._quit.is_set():
                waiter.wait(0.5)
        finally:
            restore()
            self.stop()

    def wait_for_quit(self, timeout: float | None = None) -> bool:
        """Block until `quit()` is called (True) or `timeout` passes (False)."""
        return self._quit.wait(timeout)

    # -- the tray's and the control endpoint's protocol ---------------------------------------

    def sync_now(self, accept_deletions: bool = False, *, full_listing: bool = True) -> int:
        """Sync now (or right after the running cycle); see `SyncScheduler.sync_now`."""
        return self._require_scheduler().sync_now(
            accept_deletions=accept_deletions, full_listing=full_listing
        )

    def pause(self, until: datetime | None = None) -> None:
        self._require_scheduler().pause(until)

    def resume(self) -> None:
        self._require_scheduler().resume()

    def config_changed(self, runner: CycleRunner | None = None) -> None:
        """New settings (and perhaps a new runner): restart the cycle with a full listing."""
        if runner is not None:
            self._runner = runner
        self.apply_language()
        self._require_scheduler().config_changed()

    def credentials_changed(self) -> None:
        """A new password was saved: sync now, also out of a "wrong password" error. The runner
        looks for a new password when the server refuses the one it has (`ProfileRoot`)."""
        # The panel's and `congsync setup`'s saves end here: the language may have changed too.
        self.apply_language()
        self._require_scheduler().config_changed()

    def apply_language(self, setting: str | None = None) -> str:
        """Speak the language the configuration asks for now (`setting`, else read it again):
        the tray re-renders at once (the status says the new language), the panel's next page
        and the next notification are in it. `--lang` given to `congsync run` still wins."""
        if setting is None and self._language_setting is not None:
            try:
                setting = self._language_setting()
            except CongsyncError as exc:
                logger.warning("The language setting cannot be read: %s", exc)
                return current_language()
        if setting is None:
            return current_language()
        language = apply_setting(setting)
        board = self._board
        if board is not None and board.snapshot().language != language:
            logger.info("congsync speaks %s now", language)
            board.update(language=language)
        return language

    def quit(self) -> None:
        """Ask the daemon to end; returns at once.

        Under `run_forever` that call does the stopping; otherwise (the tray model) the daemon
        stops itself in a background thread, publishing the final "stopped" snapshot that
        tells the tray to close. `on_quit` is called either way.
        """
        with self._lock:
            if self._quit.is_set():
                return
            for event in self._quit_events:
                event.set()
            stop_here = self._started and not self._run_forever_active
        if stop_here:
            # Not a daemon thread: the process waits for the graceful stop before exiting.
            threading.Thread(target=self.stop, name="congsync-stop").start()
        if self._on_quit is not None:
            self._on_quit()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` with every status snapshot (on the board's thread; keep it quick)."""
        with self._lock:
            if self._board is None:
                self._early_listeners.append(listener)
                return lambda: self.unsubscribe(listener)
            return self._board.subscribe(listener)

    def unsubscribe(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._early_listeners:
                self._early_listeners.remove(listener)
            if self._board is not None:
                self._board.unsubscribe(listener)

    def snapshot(self) -> StatusSnapshot:
        with self._lock:
            if self._board is None:
                return StatusSnapshot(
                    state=State.STOPPED,
                    role=self._role,
                    media_dir=self._media_dir,
                    organizer_dir=self._organizer_dir,
                )
            return self._board.snapshot()

    @property
    def board(self) -> StatusBoard | None:
        """The live board (for the engine's extras such as meeting summaries)."""
        return self._board

    def _require_scheduler(self) -> SyncScheduler:
        scheduler = self._scheduler
        if scheduler is None:
            raise RuntimeError("the daemon has not been started")
        return scheduler


def on_stop_signals(stop: Callable[[], None]) -> Callable[[], None]:
    """Call `stop` on SIGTERM, SIGINT (Ctrl+C) and their kin, from now until the returned
    function is called, which puts the previous handlers back. Only the main thread may
    handle signals; elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous: dict[int, Any] = {}

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        logger.info("Received signal %d; stopping", signum)
        stop()

    for sig in _STOP_SIGNALS:
        try:
            previous[sig] = signal.signal(sig, on_signal)
        except (OSError, ValueError) as exc:
            logger.debug("Cannot handle signal %s: %s", sig, exc)

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore


def _names_this_process(status_file: Path) -> bool:
    """Whether the status file is there and was written by this process."""
    try:
        data = json.loads(status_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("pid") == os.getpid()
